"""The jq a generated action file carries: the request's spec from flat inputs, the entity's properties.

Inputs are flat (``db__name``) and the request is nested (``spec.db.name``), so the ``kratix.spec``
expression builds each object back from its fields and drops what the developer left empty:
unset inputs arrive as ``null`` or not at all, and an object left with no field is dropped too,
so the API server applies the CRD's defaults and a DAY-2 change (a JSON merge patch, where
``null`` would delete) touches only what the form sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    {
        "and", "or", "not", "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach",
        "try", "catch", "label", "import", "include", "__loc__",
    }
)  # fmt: skip
DROP_NULLS = "with_entries(select(.value != null))"
_NONE_IF_EMPTY = "if . == {} then null else . end"


def field(base: str, key: str) -> str:
    """``base.key``, quoted when ``key`` is not a plain jq identifier: ``.inputs["my-field"]``."""
    if _BARE.fullmatch(key) and key not in _KEYWORDS:
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key)}]"


def path(base: str, keys: Iterable[str]) -> str:
    expression = base
    for key in keys:
        expression = field(expression, key)
    return expression


def key(name: str) -> str:
    """An object-construction key."""
    return name if _BARE.fullmatch(name) and name not in _KEYWORDS else json.dumps(name)


def spec_from_inputs(
    fields: Mapping[tuple[str, ...], str], *, conditions: Mapping[tuple[str, ...], str] | None = None
) -> str:
    """The request's spec from ``{path under spec: input identifier}``, one field a line.

    A field with a condition (jq over the run) is sent only while it holds: the fields of a
    ``oneOf`` branch that is not selected stay out of the request, whatever the form submitted.
    """
    if not fields:
        return "{}\n"
    if () in fields:  # a free-form spec, entered whole
        return f"{field('.inputs', fields[()])} // {{}}\n"
    tree: dict[str, object] = {}
    for keys, identifier in fields.items():
        node = tree
        for part in keys[:-1]:
            child = node.setdefault(part, {})
            assert isinstance(child, dict), f"{keys} is both a field and an object"
            node = child
        value = field(".inputs", identifier)
        condition = (conditions or {}).get(keys)
        node[keys[-1]] = value if condition is None else f"(if {condition} then {value} else null end)"
    return _object(tree, depth=0) + "\n"


def _object(tree: Mapping[str, object], *, depth: int) -> str:
    inner, outer = "  " * (depth + 1), "  " * depth
    parts = []
    for name, value in tree.items():
        if isinstance(value, str):
            parts.append(f"{inner}{key(name)}: {value}")
        else:
            assert isinstance(value, Mapping)
            parts.append(f"{inner}{key(name)}: ({_object(value, depth=depth + 1)} | {_NONE_IF_EMPTY})")
    return "{\n" + ",\n".join(parts) + f"\n{outer}}} | {DROP_NULLS}"


def object_of(pairs: Iterable[tuple[str, str]]) -> str:
    """``{key: expression, ...}`` one pair a line, as the shipped action files write entity mappings."""
    lines = [f"  {key(name)}: {expression}" for name, expression in pairs]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def as_text(expression: str) -> str:
    """``expression`` as a string (int-or-string fields in a string property), ``null`` kept."""
    return f"({expression} | if . == null then null else tostring end)"
