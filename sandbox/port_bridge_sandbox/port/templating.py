"""Port's payload templates: jq inside ``{{ }}`` in every string value and key (research/port.md §1.1).

- A string that is exactly one ``{{ expr }}`` becomes the JSON value of ``expr`` itself (an
  object stays an object); a string mixing text and expressions interpolates them as text.
- A key may be a template too; a key that renders to ``null`` drops its pair, and the key
  ``{{ spreadValue() }}`` merges its (object) value into the enclosing object.
- ``env`` and ``$ENV`` are blanked, so a template cannot read the process environment.

Choices where Port's docs are silent: an expression with no output is ``null``; interpolated
non-strings are written as compact JSON (``null`` as ``null``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import jq

_WHOLE = re.compile(r"\s*\{\{(?P<expr>.*?)\}\}\s*", re.DOTALL)
_EMBEDDED = re.compile(r"\{\{(?P<expr>.*?)\}\}", re.DOTALL)
_SPREAD = re.compile(r"\s*\{\{\s*spreadValue\(\)\s*\}\}\s*")
_NO_ENV = "def env: {}; {} as $ENV | "


class TemplateError(ValueError):
    """A template whose jq does not compile or fails on the context."""


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """``template`` with every ``{{ jq }}`` evaluated against ``context``."""
    if isinstance(template, dict):
        return _render_object(template, context)
    if isinstance(template, list):
        return [render(item, context) for item in template]
    if isinstance(template, str):
        return render_string(template, context)
    return template


def render_string(text: str, context: Mapping[str, Any]) -> Any:
    whole = _WHOLE.fullmatch(text)
    if whole is not None and "{{" not in whole["expr"]:
        return evaluate(whole["expr"], context)
    return _EMBEDDED.sub(lambda match: _as_text(evaluate(match["expr"], context)), text)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The first output of the jq ``expression`` on ``context`` (``None`` if it has none)."""
    try:
        outputs = _compiled(expression.strip()).input_value(context).all()
    except ValueError as error:
        raise TemplateError(f"jq {expression.strip()!r} failed: {error}") from None
    return outputs[0] if outputs else None


def _render_object(template: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for key, value in template.items():
        if _SPREAD.fullmatch(key):
            spread = render(value, context)
            if not isinstance(spread, dict):
                raise TemplateError(f"spreadValue() needs an object, got {spread!r}")
            rendered.update(spread)
            continue
        name = render_string(key, context)
        if name is None:
            continue
        rendered[name if isinstance(name, str) else _as_text(name)] = render(value, context)
    return rendered


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=512)
def _compiled(expression: str) -> Any:
    try:
        return jq.compile(_NO_ENV + "(" + expression + ")")
    except ValueError as error:
        raise TemplateError(f"jq {expression!r} does not compile: {error}") from None
