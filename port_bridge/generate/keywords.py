"""One leaf of a request's schema as a Port form input and as a blueprint property.

A CRD schema is OpenAPI v3.0 (Kubernetes' structural subset); Port's forms are JSON Schema with
Port's own extras (research/port.md §4.2: ``type`` among string, number, boolean, object and array,
Port's ``format`` names, ``enum``, ``default``...). What carries over, as Syntasso's SKE Port
Controller carries it (research/kratix.md §7): string ``pattern``/``minLength``/``maxLength``/
``enum``, numeric ``minimum``/``maximum`` and their exclusive forms, array ``minItems``/
``maxItems``, defaults, titles and descriptions. Two translations are needed on the way:

* OpenAPI v3.0 writes an exclusive bound as ``minimum: 3, exclusiveMinimum: true``; JSON Schema
  (Port, and intake's own check of the form) as ``exclusiveMinimum: 3``;
* Port has no ``integer``: whole numbers become ``number`` inputs, and the API server (and
  intake's check of the rendered request against the CRD) refuses a fraction.

Whatever a form cannot check is returned as a plain-language limitation, so the generated action
can say that the API server, not the form, enforces it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PORT_TYPES = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
_CARRIED = ("enum", "pattern", "minLength", "maxLength", "minItems", "maxItems")
# OpenAPI formats Port's forms know (under Port's name); numeric storage formats mean nothing to a form.
_FORMATS = {"date-time": "date-time", "email": "email", "ipv4": "ipv4", "ipv6": "ipv6", "uri": "url"}
_SILENT_FORMATS = frozenset({"int32", "int64", "float", "double"})
_UNCHECKED = {
    "multipleOf": "a multiple of {}",
    "minProperties": "at least {} entries",
    "maxProperties": "at most {} entries",
}
TITLE_LIMIT = 100  # Port's blueprint property titles (apispec.yaml)


@dataclass(frozen=True)
class Leaf:
    """A leaf of the spec as Port sees it: the form input, the catalog property, what is left out."""

    input: dict[str, Any]
    property: dict[str, Any]
    limitations: tuple[str, ...]
    int_or_string: bool = False


def port_type(schema: Mapping[str, Any]) -> str | None:
    """Port's type for a schema node, or None when Port has none for it."""
    if schema.get("x-kubernetes-int-or-string"):
        return "string"
    declared = schema.get("type")
    if declared is None and schema.get("x-kubernetes-preserve-unknown-fields"):
        return "object"
    return _PORT_TYPES.get(declared) if isinstance(declared, str) else None


def humanize(path: tuple[str, ...]) -> str:
    """``("dbName",)`` → ``Db name``; ``("resources", "cpuLimit")`` → ``Resources: cpu limit``."""
    words = [
        " ".join(re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", part).replace("_", " ").split()) for part in path
    ]
    text = ": ".join(word.lower() for word in words if word)
    return (text[:1].upper() + text[1:])[:TITLE_LIMIT] or "Spec"


def description(schema: Mapping[str, Any]) -> str | None:
    """The schema's description on one line (CRD descriptions are wrapped at column 80 or so)."""
    text = schema.get("description")
    return " ".join(text.split()) if isinstance(text, str) and text.strip() else None


def convert_leaf(
    schema: Mapping[str, Any], path: tuple[str, ...], *, default: Any = None, carry_default: bool = True
) -> Leaf | None:
    """The input and property for a leaf at ``path`` (under ``spec``); None if Port has no type for it.

    ``default`` is the value a parent object's own ``default`` gives this leaf, used when the
    leaf declares none. Without ``carry_default`` (a leaf in an object the request may leave
    out) the form shows no default, because a prefilled value would always create the object;
    the description says what the API server fills in once the object is set.
    """
    kind = port_type(schema)
    if kind is None:
        return None
    limitations: list[str] = []
    declared_title = schema.get("title")
    title = (declared_title if isinstance(declared_title, str) else humanize(path))[:TITLE_LIMIT]
    port_input: dict[str, Any] = {"type": kind, "title": title}
    prop: dict[str, Any] = {"type": kind, "title": title}
    if (text := description(schema)) is not None:
        port_input["description"] = prop["description"] = text
    port_input.update(_constraints(schema, limitations))
    if kind == "array":
        items = schema.get("items")
        port_input["items"], prop["items"] = _items(items if isinstance(items, Mapping) else {}, limitations)
    if kind == "object":
        limitations.append("its entries")
    if schema.get("type") == "integer":
        limitations.append("a whole number")
    if schema.get("x-kubernetes-int-or-string"):
        limitations.append("a number or a name, entered as text")
    effective = schema.get("default", default)
    if effective is not None and carry_default:
        port_input["default"] = copy.deepcopy(effective)
    elif effective is not None:
        note = f"Defaults to {json.dumps(effective)} once {'.'.join(('spec', *path[:-1]))} is set."
        port_input["description"] = (
            f"{port_input['description']} {note}" if "description" in port_input else note
        )
    if kind == "string" and isinstance(schema.get("enum"), list):
        prop["enum"] = list(schema["enum"])
    if isinstance(port_input.get("format"), str):
        prop["format"] = port_input["format"]
    return Leaf(port_input, prop, tuple(limitations), bool(schema.get("x-kubernetes-int-or-string")))


def _constraints(schema: Mapping[str, Any], limitations: list[str]) -> dict[str, Any]:
    """The validation keywords Port's form checks, in JSON Schema's spelling."""
    carried: dict[str, Any] = {key: copy.deepcopy(schema[key]) for key in _CARRIED if key in schema}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if isinstance(flag, bool) or flag is None:
            if bound in schema:
                carried[exclusive if flag else bound] = schema[bound]
        else:  # already JSON Schema's numeric form
            carried[exclusive] = flag
            if bound in schema:
                carried[bound] = schema[bound]
    fmt = schema.get("format")
    if isinstance(fmt, str):
        if fmt in _FORMATS:
            carried["format"] = _FORMATS[fmt]
        elif fmt not in _SILENT_FORMATS:
            limitations.append(f"format {fmt}")
    for keyword, text in _UNCHECKED.items():
        if keyword in schema:
            limitations.append(text.format(schema[keyword]))
    if schema.get("x-kubernetes-list-type") == "set":
        limitations.append("no repeated items")
    return carried


def _items(items: Mapping[str, Any], limitations: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An array's ``items`` for the form and for the catalog: scalars keep their checks."""
    kind = port_type(items) or "object"
    if kind in ("object", "array"):
        limitations.append("the shape of each item")
        return {"type": kind}, {"type": kind}
    if items.get("type") == "integer":
        limitations.append("whole numbers")
    item_input: dict[str, Any] = {"type": kind, **_constraints(items, limitations)}
    return item_input, {"type": kind}
