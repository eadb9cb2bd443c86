"""The checks the Kubernetes API server makes before it stores an object.

Names must follow Kubernetes' DNS rules; custom resources are defaulted, pruned and validated
against their CRD's structural ``openAPIV3Schema``. Intake applies the same checks to a rendered
Kratix request so a developer hears about a bad input from Port in seconds, not from a request
that never appears; the Kubernetes emulator applies them so tests fail where a cluster would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_ENVELOPE = ("apiVersion", "kind", "metadata")


def name_errors(name: str, *, label: bool) -> list[str]:
    """Why ``name`` is not a valid object name: a DNS-1123 label (63) or subdomain (253)."""
    limit, pattern, kind = (63, DNS1123_LABEL, "label") if label else (253, DNS1123_SUBDOMAIN, "subdomain")
    errors = []
    if len(name) > limit:
        errors.append(f"must be no more than {limit} characters")
    if not pattern.fullmatch(name):
        errors.append(
            f"a lowercase RFC 1123 {kind} must consist of lower case alphanumeric characters, '-'"
            + ("" if label else " or '.'")
            + ", and must start and end with an alphanumeric character"
        )
    return errors


def apply_defaults(value: Any, schema: Mapping[str, Any]) -> Any:
    """Fill in ``default`` values for absent properties, recursively, as the API server does."""
    if isinstance(value, dict) and schema.get("type", "object") == "object":
        for key, subschema in (schema.get("properties") or {}).items():
            if key not in value and "default" in subschema:
                value[key] = subschema["default"]
            if key in value:
                value[key] = apply_defaults(value[key], subschema)
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            for key in value.keys() - (schema.get("properties") or {}).keys():
                value[key] = apply_defaults(value[key], additional)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


def prune(value: Any, schema: Mapping[str, Any]) -> Any:
    """Drop fields the structural schema does not declare, with the API server's algorithm.

    Under ``x-kubernetes-preserve-unknown-fields`` unknown fields stay (through array items too)
    while declared ones are still pruned by their own schema.
    """
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return _prune_known_only(value, schema)
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        if properties is None and isinstance(additional, Mapping):
            return {key: prune(item, additional) for key, item in value.items()}
        if properties is None and additional is True:
            return value
        declared = properties or {}
        return {key: prune(item, declared[key]) for key, item in value.items() if key in declared}
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [prune(item, schema["items"]) for item in value]
    return value


def undeclared_fields(value: Any, schema: Mapping[str, Any], *, path: str = "") -> list[str]:
    """Paths of the fields :func:`prune` would silently drop."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(value, dict):
        properties, additional = schema.get("properties"), schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                found += undeclared_fields(item, properties[key], path=where)
            elif isinstance(additional, Mapping):
                found += undeclared_fields(item, additional, path=where)
            elif additional is not True and (properties is not None or "type" in schema):
                found.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            found += undeclared_fields(item, schema["items"], path=f"{path}[{index}]")
    return found


def _prune_known_only(value: Any, schema: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        declared = schema.get("properties") or {}
        return {key: prune(item, declared[key]) if key in declared else item for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [_prune_known_only(item, items if isinstance(items, Mapping) else {}) for item in value]
    return value


def _for_validation(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The CRD schema as JSON Schema: ``nullable`` becomes a null alternative."""
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, Mapping):
            converted[key] = {name: _for_validation(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, Mapping):
            converted[key] = _for_validation(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            converted[key] = [_for_validation(sub) for sub in value]
        elif key == "x-kubernetes-int-or-string" and value:
            converted["type"] = ["integer", "string"]
        elif not key.startswith("x-kubernetes-") and key != "nullable":
            converted[key] = value
    if schema.get("nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


class StructuralSchema:
    """A CRD's ``openAPIV3Schema``, compiled once, checking objects as the API server does."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        body_schema = dict(_for_validation(schema))
        body_schema["properties"] = {
            k: v for k, v in (body_schema.get("properties") or {}).items() if k not in _ENVELOPE
        }
        self._validator = Draft4Validator(body_schema)
        metadata = (schema.get("properties") or {}).get("metadata") or {}
        self._name_limit: int | None = ((metadata.get("properties") or {}).get("name") or {}).get("maxLength")

    def errors(self, obj: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(field path, message)`` for each way ``obj`` breaks the schema, envelope excluded."""
        body = {key: value for key, value in obj.items() if key not in _ENVELOPE}
        found = []
        for error in sorted(self._validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(part) for part in error.absolute_path) or "<root>"
            found.append(
                (path, f"Invalid value: {error.instance!r}: {path} in body {_reason(error.validator, error)}")
            )
        name = (obj.get("metadata") or {}).get("name", "")
        if self._name_limit is not None and len(name) > self._name_limit:
            found.append(("metadata.name", f"Too long: may not be longer than {self._name_limit}"))
        return found


def schema_errors(obj: Mapping[str, Any], schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field path, message)`` for each way ``obj`` breaks its CRD schema, envelope excluded."""
    return StructuralSchema(schema).errors(obj)


def _reason(keyword: Any, error: Any) -> str:
    match keyword:
        case "pattern":
            return f"should match '{error.validator_value}'"
        case "enum":
            return f"should be one of {error.validator_value!r}"
        case "type":
            return f"must be of type {error.validator_value}"
        case "required":
            return f"is required: {error.message}"
        case _:
            return f"{error.message}"
