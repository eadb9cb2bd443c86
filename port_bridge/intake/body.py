"""Reading a webhook body into JSON values every later step can handle.

Python's ``json`` accepts more than Port ever sends, and some of it breaks later steps with an
exception instead of a clear answer: nesting deep enough to exhaust the recursion limit (in the
parser itself, in jsonschema, in the Kubernetes client), ``NaN`` and ``Infinity``, numbers no
64-bit float holds (Kubernetes keeps JSON numbers as int64 or float64), and lone UTF-16
surrogates (``"\\ud800"``), which are not text and cannot be written as UTF-8.

:func:`read_body` parses within those limits and lists each problem with the field it is in,
so intake can refuse the run with a 400 that names the field and still knows the run id, to
record the refusal and close the run in Port. A body too deep for the parser is read with its
too-deep parts cut off, for the same reason.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64  # objects and arrays inside one another; Port's own bodies stay under ten
MAX_PROBLEMS = 10
_MAX_NUMBER_DIGITS = 310  # a float64 holds integers up to about 1.8e308: 309 digits and a sign
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_OUT_OF_RANGE = "is out of range for a JSON number (at most about 1.8e308)"
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')  # strings, then brackets outside them
_CUT = '"\\u0000port-bridge: nested too deep"'
_CUT_VALUE = "\x00port-bridge: nested too deep"


class MalformedBody(ValueError):
    """The body is not JSON at all."""


@dataclass(frozen=True)
class BodyProblem:
    """A value port-bridge cannot process, and where it is (``inputs.size``; ``""`` for the body)."""

    path: str
    message: str


@dataclass(frozen=True)
class Body:
    document: Any
    problems: tuple[BodyProblem, ...]


@dataclass(frozen=True)
class _Unusable:
    """Stands in for a number or constant the parser met that no later step could handle."""

    text: str
    reason: str


def read_body(raw: bytes, *, max_depth: int = MAX_DEPTH) -> Body:
    """The parsed body and its problems; raises :class:`MalformedBody` if it is not JSON.

    The body is walked for problems only when it may have some (few brackets cannot nest
    deeply; a lone surrogate needs a ``\\udXXX`` escape or bytes that are not plain UTF-8; an
    unusable number stops the first, strict parse), so a body as Port sends it costs little more
    than ``json.loads``.
    """
    suspect = raw.count(b"[") + raw.count(b"{") > max_depth or _may_hold_surrogates(raw)
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads reads bytes
        try:
            try:
                document = _STRICT.decode(text)
            except _UnusableNumber:
                suspect = True
                document = _MARKING.decode(text)
        except RecursionError:  # from either parse: a NaN may come before the deep part
            document, suspect = _MARKING.decode(_cut_below(text, max_depth)), True
    except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise MalformedBody(f"the body is not valid JSON: {_first_line(error)}") from None
    return Body(document, tuple(_problems(document, max_depth)) if suspect else ())


def _may_hold_surrogates(raw: bytes) -> bool:
    """A lone surrogate needs a ``\\udXXX`` escape, UTF-8 bytes encoding one, or a UTF-16/32 body."""
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        return True
    return b"\xed" in raw or b"\x00" in raw


class _UnusableNumber(Exception):
    """A number or constant the strict parse met: parse again, marking it."""


def _integer(text: str) -> int | _Unusable:
    if len(text) > _MAX_NUMBER_DIGITS or abs(value := int(text)) > sys.float_info.max:
        return _Unusable(text, _OUT_OF_RANGE)
    return value


def _float(text: str) -> float | _Unusable:
    value = float(text)
    return value if math.isfinite(value) else _Unusable(text, _OUT_OF_RANGE)


def _constant(text: str) -> _Unusable:
    return _Unusable(text, "is not a JSON value (JSON has no NaN or Infinity)")


def _strict(hook: Callable[[str], Any]) -> Callable[[str], Any]:
    def strict(text: str) -> Any:
        value = hook(text)
        if isinstance(value, _Unusable):
            raise _UnusableNumber
        return value

    return strict


_MARKING = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_constant)
_STRICT = json.JSONDecoder(
    parse_int=_strict(_integer), parse_float=_strict(_float), parse_constant=_strict(_constant)
)


def _cut_below(text: str, max_depth: int) -> str:
    """``text`` with every object or array deeper than ``max_depth`` replaced by a marker string."""
    kept: list[str] = []
    depth, resume = 0, 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth == max_depth + 1:
                kept.append(text[resume : token.start()])
        elif bracket in ("]", "}"):
            if depth == max_depth + 1:
                kept.append(_CUT)
                resume = token.end()
            depth -= 1
    kept.append(text[resume:])
    return "".join(kept)


def _problems(document: Any, max_depth: int) -> list[BodyProblem]:
    """Every unusable value, too-deep part and lone surrogate, without recursion."""
    found: list[BodyProblem] = []
    pending: list[tuple[Any, tuple[str, ...], int]] = [(document, (), 0)]
    while pending and len(found) < MAX_PROBLEMS:
        value, path, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= max_depth:
                found.append(_too_deep(path, max_depth))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _has_surrogate(key):
                    found.append(BodyProblem(_field(path), f"has a key that {_SURROGATE_REASON}"))
                pending.append((item, (*path, str(key)), depth + 1))
        elif isinstance(value, str):
            if value == _CUT_VALUE:
                found.append(_too_deep(path, max_depth))
            elif _has_surrogate(value):
                found.append(BodyProblem(_field(path), _SURROGATE_REASON))
        elif isinstance(value, _Unusable):
            found.append(BodyProblem(_field(path), f"{_shortened(value.text)} {value.reason}"))
    return found


_SURROGATE_REASON = "holds a lone UTF-16 surrogate (such as \\ud800), which is not text"


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def _too_deep(path: tuple[str, ...], max_depth: int) -> BodyProblem:
    """Named after the top-level field it is in: the full path would be as long as the nesting."""
    return BodyProblem(
        _field(path[:1]),
        f"is nested more than {max_depth} levels deep (port-bridge reads at most {max_depth})",
    )


def _field(path: tuple[str, ...]) -> str:
    shown = path if len(path) <= 8 else (*path[:4], "…", *path[-2:])
    return ".".join(_shortened(_escaped(part), 40) for part in shown)


def _escaped(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udXXX``, so messages stay encodable."""
    return text.encode("utf-8", "backslashreplace").decode() if _has_surrogate(text) else text


def _shortened(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(error: ValueError) -> str:
    return _shortened(str(error).splitlines()[0] if str(error) else type(error).__name__, 200)
