"""Checking a run before anything is stored, in the order a developer can act on.

1. the inputs against the action's ``userInputs`` (Port's form schema, as JSON Schema);
2. the rendered spec against the Promise's request CRD, as the API server would check it, and
   without fields the CRD does not declare (the API server would silently drop them);
3. Kubernetes name rules for the request's name and namespace (DNS-1123 labels: the Promise
   caps request names at 63 characters);
4. the action's namespace allow-list.

Each problem names the field it is about, so Port can show the developer what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from port_bridge.kratix.promise import PromiseApi
from port_bridge.kube.validation import name_errors, undeclared_fields
from port_bridge.mapping.render import RenderedRequest

_JSON_SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
_FORMATS = {"email": "email", "date-time": "date-time", "url": "uri", "ipv4": "ipv4", "ipv6": "ipv6"}
_FORMAT_CHECKER = FormatChecker()


MAX_MESSAGE_LENGTH = 300  # messages can quote a value a developer typed: keep them readable


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE_LENGTH:
            object.__setattr__(self, "message", self.message[: MAX_MESSAGE_LENGTH - 1] + "…")
        if len(self.field) > MAX_MESSAGE_LENGTH:
            object.__setattr__(self, "field", self.field[: MAX_MESSAGE_LENGTH - 1] + "…")

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def _input_schema(port_input: Mapping[str, Any]) -> dict[str, Any]:
    """One Port user input as JSON Schema; Port-only keywords (title, format: entity...) are dropped."""
    schema = {key: value for key, value in port_input.items() if key in _JSON_SCHEMA_KEYWORDS}
    if port_input.get("format") in _FORMATS:
        schema["format"] = _FORMATS[port_input["format"]]
    if port_input.get("format") == "entity" and port_input.get("type") == "string":
        schema["type"] = ["string", "object"]  # the entity's identifier, or the entity itself
    if isinstance(port_input.get("items"), Mapping):
        schema["items"] = _input_schema(port_input["items"])
    if isinstance(port_input.get("properties"), Mapping):
        schema["properties"] = {key: _input_schema(value) for key, value in port_input["properties"].items()}
    return schema


def inputs_schema(user_inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The whole form: declared inputs only, the listed ones required."""
    properties = user_inputs.get("properties") or {}
    required = user_inputs.get("required")
    return {
        "type": "object",
        "properties": {name: _input_schema(spec) for name, spec in properties.items()},
        "required": list(required)
        if isinstance(required, list)
        else [],  # a jqQuery 'required' is Port's to apply
        "additionalProperties": False,
    }


class InputsValidator:
    """One action's form, compiled once: the problems of a run's inputs, each naming its input."""

    def __init__(self, user_inputs: Mapping[str, Any]) -> None:
        self._schema = inputs_schema(user_inputs)
        self._validator = Draft202012Validator(self._schema, format_checker=_FORMAT_CHECKER)

    def problems(self, inputs: Mapping[str, Any]) -> list[FieldProblem]:
        """Unset optional inputs may arrive as ``null``: they count as absent."""
        required = self._schema["required"]
        present = {key: value for key, value in inputs.items() if value is not None or key in required}
        problems = []
        for error in sorted(
            self._validator.iter_errors(present), key=lambda e: [str(p) for p in e.absolute_path]
        ):
            path = ".".join(str(part) for part in error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(set(present) - set(self._schema["properties"]))
                problems += [
                    FieldProblem(f"inputs.{name}", "is not an input of this action") for name in extra
                ]
            elif error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else path
                problems.append(FieldProblem(f"inputs.{missing}", "is required"))
            else:
                problems.append(FieldProblem(f"inputs.{path}" if path else "inputs", error.message))
        return problems


def input_problems(user_inputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[FieldProblem]:
    """Inputs that break the action's form (compiles it: keep an :class:`InputsValidator` to reuse it)."""
    return InputsValidator(user_inputs).problems(inputs)


def request_problems(
    rendered: RenderedRequest,
    promise: PromiseApi,
    *,
    operation: str,
    allowed_namespaces: tuple[str, ...] | None,
) -> list[FieldProblem]:
    """What the API server, the Promise and the action's allow-list would refuse in this request."""
    problems = [
        FieldProblem("kratix.name", f'"{rendered.name}": {message}')
        for message in name_errors(rendered.name, label=True)
    ]
    problems += [
        FieldProblem("kratix.namespace", f'"{rendered.namespace}": {message}')
        for message in name_errors(rendered.namespace, label=True)
    ]
    if allowed_namespaces is not None and rendered.namespace not in allowed_namespaces:
        allowed = ", ".join(allowed_namespaces) or "none"
        problems.append(
            FieldProblem(
                "kratix.namespace",
                f'"{rendered.namespace}" is not allowed for this action (allowed: {allowed})',
            )
        )
    if rendered.spec is not None and promise.schema:
        partial = operation == "DAY-2"  # a partial change: the request already holds the other fields
        body = {"spec": rendered.spec}
        problems += [
            FieldProblem(path, message)
            for path, message in promise.spec_checker(partial=partial).errors(body)
        ]
        spec_schema = {"type": "object", "properties": {"spec": dict(promise.spec_schema)}}
        problems += [
            FieldProblem(path, f"is not a field of {promise.kind} (Promise {promise.promise})")
            for path in undeclared_fields(body, spec_schema)
        ]
    return problems
