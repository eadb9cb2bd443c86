"""The words the body checks are written in: shapes of JSON values, and Port's names for things.

Each check of :mod:`port_bridge.portmodel.bodies` is a JSON Schema (2020-12) built from these
helpers, so a body reads as the fields it has, which are required and whether others are
allowed. Port's names (identifier rules, property types and formats, colours) are the facts of
Port's documentation and OpenAPI spec (research/port.md §3.3, §4), restated here.

Two keywords are the project's own, given meaning by :mod:`port_bridge.portmodel.schema`:
``pattern`` describes the *whole* string (as Port's anchored patterns do in JavaScript, where
``$`` does not match before a final newline) and its sibling ``description`` names the rule in
the message; ``refuse`` refuses whatever value it is applied to, with its text as the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
NULL: Schema = {"type": "null"}
OBJECT: Schema = {"type": "object"}  # any object: its content is the platform team's, or a template's
OBJECT_OR_ARRAY: Schema = {"type": ["object", "array"]}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}


def text(*, min_length: int = 0, max_length: int | None = None) -> Schema:
    schema: Schema = {"type": "string"}
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def matching(pattern: str, rule: str, *, max_length: int | None = None) -> Schema:
    """A string all of which matches ``pattern``; ``rule`` names it in messages ("Port's rule for ...")."""
    schema: Schema = {"type": "string", "pattern": pattern, "description": rule}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def choice(*values: Any) -> Schema:
    return {"enum": list(values)}


def list_of(items: Schema, *, min_items: int = 0, max_items: int | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def record(
    required: Mapping[str, Schema] | None = None,
    optional: Mapping[str, Schema] | None = None,
    *,
    closed: bool = True,
) -> Schema:
    """An object with ``required`` and ``optional`` fields; ``closed``: Port refuses any other field."""
    required = dict(required or {})
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def keyed(values: Schema, *, names: Schema) -> Schema:
    """An object whose keys are identifiers (``names``) the platform team chooses, each value ``values``."""
    return {"type": "object", "propertyNames": names, "additionalProperties": values}


def values_of(values: Schema) -> Schema:
    """An object with any keys, each value ``values``."""
    return {"type": "object", "additionalProperties": values}


def one_of(*schemas: Schema) -> Schema:
    """Exactly one of ``schemas``: where two could match (open objects), a value matching both is refused."""
    return {"oneOf": list(schemas)}


def any_of(*schemas: Schema) -> Schema:
    return {"anyOf": list(schemas)}


def tagged(tag: str, variants: Mapping[str, Schema]) -> Schema:
    """An object whose ``tag`` field says which of ``variants`` (records) it is, such as ``type: WEBHOOK``.

    Each variant lists its own fields (the tag is added), so a field of another variant is refused
    as unexpected, and a variant's missing field is named as such.
    """
    cases = []
    for name, variant in variants.items():
        then = {**variant, "properties": {tag: {"const": name}, **variant.get("properties", {})}}
        cases.append({"if": {"required": [tag], "properties": {tag: {"const": name}}}, "then": then})
    return {
        "type": "object",
        "required": [tag],
        "properties": {tag: choice(*variants)},
        "allOf": cases,
    }


def refused(reason: str) -> Schema:
    """Whatever value stands here is refused, for ``reason``."""
    return {"refuse": reason}


# --- Port's identifiers (research/port.md §3.3) ---

_NOT_A_PATH_STEP = r"(?!\.{1,2}\Z)"  # "." and ".." are refused: identifiers end up in URLs
BLUEPRINT_IDENTIFIER = matching(
    _NOT_A_PATH_STEP + r"[\p{L}0-9@_.+:\\/-]+",
    r"Port's rule for blueprint identifiers (letters, digits and @ _ . + : \ / -; not . or ..)",
    max_length=100,
)
ACTION_IDENTIFIER = matching(
    _NOT_A_PATH_STEP + r"[\p{L}0-9@_.+:=-]+",
    "Port's rule for action identifiers (letters, digits and @ _ . + : = -; not . or ..)",
)
SCORECARD_IDENTIFIER = matching(
    _NOT_A_PATH_STEP + r"[\p{L}0-9@_.+:\\/=-]+",
    r"Port's rule for scorecard identifiers (letters, digits and @ _ . + : \ / = -; not . or ..)",
    max_length=100,
)


def key(*, max_length: int | None = 100) -> Schema:
    """The identifier of a property, relation, user input or scorecard rule: ASCII only."""
    return matching(
        r"[A-Za-z0-9@_=\\-]+",
        r"Port's rule for property, relation, input and rule identifiers (A-Z, a-z, 0-9 and @ _ = \ -)",
        max_length=max_length,
    )


# --- Port's names ---

PROPERTY_TYPES = ("string", "number", "boolean", "object", "array")
COLORS = (
    "blue", "turquoise", "orange", "purple", "pink", "yellow", "green", "red", "gold", "silver",
    "paleBlue", "darkGray", "lightGray", "bronze", "lime", "olive", "brown",
)  # fmt: skip
COMBINATOR = choice("and", "or")
JQ_QUERY = record(required={"jqQuery": STRING})  # a value Port computes with jq when the form is shown
