"""A request's schema as the flat list of fields a Port form shows.

Port's forms have no nested inputs, so nested objects are flattened into inputs named
``parent__child`` (as Syntasso's SKE Port Controller names them, research/kratix.md §7) and the
generated ``kratix.spec`` mapping builds the objects back. A field is required in the form when it
and every object above it are required; a required field inside an optional object is left to
the API server (the form cannot say "required once its parent is set").

A ``oneOf`` whose branches each pin one property to a single value (a *selector*, such as
``engine: {enum: [mysql]}``) becomes a conditional form: the fields a branch names are shown
only while the selector has that branch's value (Port's ``visible`` jqQuery over ``.form``,
docs.port.io "Advanced input configurations"). Any other ``oneOf``, ``anyOf``, ``allOf``,
``not`` and CEL rules (``x-kubernetes-validations``) are left to the API server, and each is
recorded as a limitation that names the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES
from port_bridge.generate.keywords import Leaf, convert_leaf
from port_bridge.generate.selector import find_selector

SEPARATOR = "__"
RESERVED = frozenset(
    {"name", "namespace", "requestName", "kratixMessage", "requestedBy", *BLUEPRINT_PROPERTIES}
)
IDENTIFIER = re.compile(r"[A-Za-z0-9@_=\\-]+")  # Port's inputs and blueprint properties (apispec.yaml)
IDENTIFIER_LIMIT = 100
KRATIX_STATUS = frozenset(
    {
        "message",
        "conditions",
        "observedGeneration",
        "workflows",
        "workflowsSucceeded",
        "workflowsFailed",
        "kratix",
        "lastSuccessfulConfigureWorkflowTime",
    }
)
_LEFT_TO_SERVER = {
    "x-kubernetes-validations": "CEL validation rules",
    "allOf": "allOf",
    "anyOf": "anyOf",
    "not": "not",
}

Path = tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """Shown only while the selector field holds one of ``values``."""

    selector: Path
    values: tuple[Any, ...]


@dataclass(frozen=True)
class FormField:
    path: Path  # under the root (``spec`` or ``status``)
    identifier: str  # the input's and the blueprint property's identifier
    leaf: Leaf
    required: bool
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Form:
    """The fields of one root of the request, and what a form cannot enforce about them."""

    fields: tuple[FormField, ...]
    limitations: tuple[str, ...]
    selector_values: Mapping[Path, tuple[Any, ...]] = field(default_factory=dict)

    def identifier(self, path: Path) -> str | None:
        return next((f.identifier for f in self.fields if f.path == path), None)

    def visible(self, form_field: FormField) -> dict[str, str] | None:
        """Port's ``visible`` jqQuery for a field of a selector's branch (None: always shown)."""
        condition = self.condition(form_field, over=".form")
        return None if condition is None else {"jqQuery": condition}

    def condition(self, form_field: FormField, *, over: str) -> str | None:
        """jq that is true while the field's branch is selected, reading the inputs at ``over``."""
        clauses = []
        for condition in form_field.conditions:
            selector = self.identifier(condition.selector)
            if selector is None:
                continue
            reference = f"{over}[{json.dumps(selector)}]"
            clauses.append(" or ".join(f"{reference} == {json.dumps(value)}" for value in condition.values))
        return " and ".join(f"({clause})" for clause in clauses) if clauses else None


def where(root: str, path: Path) -> str:
    return ".".join((root, *path))


def spec_form(schema: Mapping[str, Any], *, order: Sequence[str] = ()) -> Form:
    """The form for a request's ``spec``; ``schema`` is the CRD's whole ``openAPIV3Schema``."""
    walker = _Walker("spec")
    for keyword, text in _LEFT_TO_SERVER.items():
        if keyword in schema:
            walker.limitations.append(f"the request ({text})")
    spec = (schema.get("properties") or {}).get("spec") or {}
    walker.node(spec, (), required=True, default=None, conditions=())
    fields = _named(walker, taken=RESERVED, prefix="spec", note=True)
    return Form(_ordered(fields, order), tuple(walker.limitations), dict(walker.selector_values))


def status_form(schema: Mapping[str, Any], *, taken: Iterable[str]) -> Form:
    """What the Promise publishes in ``status`` (beyond Kratix's own fields), for the catalog."""
    status = (schema.get("properties") or {}).get("status") or {}
    own = {key: value for key, value in (status.get("properties") or {}).items() if key not in KRATIX_STATUS}
    walker = _Walker("status")
    if own:
        walker.node({"type": "object", "properties": own}, (), required=False, default=None, conditions=())
    return Form(tuple(_named(walker, taken=frozenset(taken), prefix="status", note=False)), ())


class _Walker:
    def __init__(self, root: str) -> None:
        self.root = root
        self.found: list[tuple[Path, Leaf, bool, tuple[Condition, ...]]] = []
        self.optional: set[Path] = set()  # objects a request may leave out: their leaves get no form default
        self.limitations: list[str] = []
        self.selector_values: dict[Path, tuple[Any, ...]] = {}

    def note(self, path: Path, text: str) -> None:
        self.limitations.append(f"{where(self.root, path)} ({text})")

    def node(
        self,
        schema: Mapping[str, Any],
        path: Path,
        *,
        required: bool,
        default: Any,
        conditions: tuple[Condition, ...],
    ) -> None:
        for keyword, text in _LEFT_TO_SERVER.items():
            if keyword in schema:
                self.note(path, text)
        if _has_fields(schema):
            self._object(schema, path, required=required, default=default, conditions=conditions)
            return
        if schema.get("oneOf"):
            self.note(path, "one of several shapes: oneOf")
        if not _is_open(schema) and (schema.get("type") == "object" or not path):
            if path:  # a spec with no field at all is simply a Promise that asks nothing
                self.note(path, "an object that declares no fields: not settable here")
            return
        carry = not any(path[:depth] in self.optional for depth in range(1, len(path)))
        leaf = convert_leaf(schema, path, default=default, carry_default=carry)
        if leaf is None:
            self.note(path, "no type a Port form knows: not settable here")
            return
        for text in leaf.limitations:
            self.note(path, text)
        self.found.append((path, leaf, required and bool(path), conditions))

    def _object(
        self,
        schema: Mapping[str, Any],
        path: Path,
        *,
        required: bool,
        default: Any,
        conditions: tuple[Condition, ...],
    ) -> None:
        properties: Mapping[str, Any] = schema["properties"]
        own_required = set(schema.get("required") or ())
        if _is_open(schema):
            self.note(path, "entries beyond its declared fields: not settable here")
        members = self._selector(schema, path)
        defaults = {
            **(default if isinstance(default, Mapping) else {}),
            **(schema["default"] if isinstance(schema.get("default"), Mapping) else {}),
        }
        for name in sorted(properties):
            child_path = (*path, name)
            child = properties[name] if isinstance(properties[name], Mapping) else {}
            if name not in own_required and "default" not in child and name not in defaults:
                self.optional.add(child_path)
            if name in own_required and not required:
                self.note(child_path, f"required once {where(self.root, path)} is set")
            child_conditions = conditions
            if name in members:
                child_conditions = (*conditions, members[name])
            self.node(
                child,
                child_path,
                required=required and name in own_required,
                default=defaults.get(name),
                conditions=child_conditions,
            )

    def _selector(self, schema: Mapping[str, Any], path: Path) -> dict[str, Condition]:
        """The branch members of a selector-based ``oneOf``, each with its selector condition."""
        branches = schema.get("oneOf")
        if not branches:
            return {}
        found = find_selector(schema)
        if found is None:
            self.note(path, "one of several shapes: oneOf")
            return {}
        selector, values = found
        selector_path = (*path, selector)
        self.selector_values[selector_path] = values
        shown: dict[str, list[Any]] = {}
        for branch, value in zip(branches, values, strict=True):
            for name in branch.get("required") or ():
                if name != selector:
                    self.note((*path, name), f"required when {where(self.root, selector_path)} is {value}")
            for name in {*(branch.get("required") or ()), *(branch.get("properties") or {})}:
                if name != selector and name in schema["properties"]:
                    shown.setdefault(name, []).append(value)
        return {
            name: Condition(selector_path, tuple(v for v in values if v in shown_values))
            for name, shown_values in shown.items()
        }


def _has_fields(schema: Mapping[str, Any]) -> bool:
    return (
        schema.get("type", "object") == "object"
        and isinstance(schema.get("properties"), Mapping)
        and bool(schema["properties"])
    )


def _is_open(schema: Mapping[str, Any]) -> bool:
    """A map (``additionalProperties``) or free-form object (``x-kubernetes-preserve-unknown-fields``)."""
    additional = schema.get("additionalProperties")
    return bool(schema.get("x-kubernetes-preserve-unknown-fields")) or (
        additional is not None and additional is not False
    )


def _named(walker: _Walker, *, taken: frozenset[str], prefix: str, note: bool) -> list[FormField]:
    """Each leaf with its flattened identifier; a name Port cannot take is reported and left out."""
    used = set(taken)
    fields = []
    for path, leaf, required, conditions in walker.found:
        identifier = SEPARATOR.join(path) or prefix  # a free-form root is one JSON input
        if identifier in used:
            identifier = prefix + SEPARATOR + identifier
        problem = None
        if not IDENTIFIER.fullmatch(identifier):
            problem = f"{identifier!r} is not a name Port takes (letters, digits, @ _ = -)"
        elif len(identifier) > IDENTIFIER_LIMIT:
            problem = f"a flattened name longer than Port's {IDENTIFIER_LIMIT} characters"
        elif identifier in used:
            problem = f"its flattened name {identifier!r} is taken by another field"
        if problem is not None:
            if note:
                walker.note(path, problem + ": not settable here")
            continue
        used.add(identifier)
        fields.append(FormField(path, identifier, leaf, required, conditions))
    return fields


def normalise_order_name(name: str) -> str:
    """An input-order entry as a flattened name: ``db.name``, ``spec.db.name`` and ``db__name`` alike."""
    return name.strip().removeprefix("spec.").replace(".", SEPARATOR)


def order_keys(form_field: FormField) -> set[str]:
    """The names that place a field: its identifier, and its own and every parent object's path."""
    return {form_field.identifier} | {
        SEPARATOR.join(form_field.path[:depth]) for depth in range(1, len(form_field.path) + 1)
    }


def _ordered(fields: list[FormField], order: Sequence[str]) -> tuple[FormField, ...]:
    """Fields named in ``order`` (or inside an object it names) first, in that order; then by path."""
    rank: dict[str, int] = {}
    for index, name in enumerate(order):
        rank.setdefault(normalise_order_name(name), index)

    def placement(form_field: FormField) -> tuple[int, Path]:
        ranks = [rank[key] for key in order_keys(form_field) if key in rank]
        return (min(ranks) if ranks else len(order), form_field.path)

    return tuple(sorted(fields, key=placement))
