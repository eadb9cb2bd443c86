"""jq expressions, the mapping language Port users already write everywhere.

Expressions are compiled once and cached. Mappings run on data a developer typed into a form,
inside a process that holds Port credentials, so ``env`` and ``$ENV`` are blanked before the
user's expression: a mapping cannot read the environment (``import``/``include`` cannot appear
after that prelude either, so no module can be loaded from disk).
"""

from __future__ import annotations

import functools
from typing import Any

import jq as jqlib

_PRELUDE = "def env: {}; {} as $ENV |\n"  # the user's expression starts on line 2


class JqError(ValueError):
    """A jq expression that does not compile, or fails on the data it was given."""


@functools.lru_cache(maxsize=4096)
def _compile(expression: str) -> Any:
    try:
        return jqlib.compile(_PRELUDE + expression)
    except ValueError as error:
        raise JqError(_clean(str(error))) from None


class Jq:
    """One compiled expression; :meth:`first` evaluates it on a document."""

    __slots__ = ("_program", "expression")

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str) or not expression.strip():
            raise JqError("a jq expression must be a non-empty string")
        self.expression = expression
        self._program = _compile(expression)

    def first(self, document: Any) -> Any:
        """The first value the expression outputs (``None`` if it outputs nothing)."""
        try:
            return self._program.input_value(document).first()
        except StopIteration:
            return None
        except ValueError as error:
            raise JqError(_clean(str(error))) from None

    def __repr__(self) -> str:
        return f"Jq({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Jq) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)


def _clean(message: str) -> str:
    """jq's first line, without the ``jq: error:`` prefix and the prelude's line."""
    first = message.strip().splitlines()[0] if message.strip() else "jq failed"
    return first.removeprefix("jq: error: ").replace("at <top-level>, line 2, ", "at ").rstrip(":")
