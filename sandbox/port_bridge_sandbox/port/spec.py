"""Port's published OpenAPI spec as the judge of every request the emulator receives.

The emulator's worth is that it refuses what Port would refuse, so requests are not checked
against hand-written schemas but against ``apispec.yaml`` itself (research/port.md §9):

- It is OpenAPI 3.1, so body and parameter schemas are JSON Schema 2020-12; each is validated
  with a root that carries the spec's ``components`` so ``#/components/...`` references resolve.
- PyYAML reads a bare ``=`` as the YAML 1.1 ``value`` tag; a constructor turns it into a string.
- Identifier patterns use ``\\p{L}``, which ``re`` lacks; ``pattern`` is checked with ``regex``.
- Query parameters arrive as strings and are coerced by their schema type, and a missing
  parameter takes its schema ``default`` before ``required`` is checked (as Port's validator does:
  ``upsert`` is marked required but defaults to false).
- Literal path segments win over templated ones (``/v1/actions/runs`` is not an action id).

Parsing the 1.6 MB file takes a noticeable fraction of a second, so a parsed :class:`PortSpec`
is cached per path and its compiled validators are cached per operation.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import jsonschema
import regex
import yaml
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from port_bridge_sandbox.shared import locate_shared_dir, require_file

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
MAX_REPORTED_ERRORS = 5


class _SpecLoader(yaml.CSafeLoader):
    """The C safe loader, plus the YAML 1.1 ``value`` tag read as a plain string."""


_SpecLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(cast(yaml.ScalarNode, node))
)


@dataclass(frozen=True)
class Operation:
    """One operation of the spec matched to a concrete request path."""

    method: str
    template: str
    path_params: Mapping[str, str]
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class _Route:
    template: str
    segments: tuple[str, ...]
    operations: Mapping[str, Mapping[str, Any]]

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, actual in zip(self.segments, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not actual:
                    return None
                params[pattern[1:-1]] = unquote(actual)
            elif pattern != actual:
                return None
        return params


class PortSpec:
    """The parsed spec: finds the operation for a request and validates its query and body."""

    checks = True

    def __init__(self, document: Mapping[str, Any], *, source: Path) -> None:
        self.document = document
        self.source = source
        self._routes = _build_routes(document)
        self._validators: dict[tuple[str, str, str], Validator] = {}
        self._lock = threading.Lock()
        self._format_checker = port_format_checker()

    @classmethod
    def load(cls, path: Path) -> PortSpec:
        """Return the spec at ``path``, parsed once per process and shared afterwards."""
        return _load_cached(path.resolve())

    def match(self, method: str, raw_path: str) -> Operation | None:
        """Find the operation for ``method`` on ``raw_path`` (still percent-encoded), or ``None``.

        Routes are looked up per method, as Port's router does: ``PUT /v1/actions/runs`` is the
        action ``runs``, since there is no ``PUT`` on the literal ``/v1/actions/runs``.
        """
        segments = raw_path.split("/")
        for route in self._routes:
            definition = route.operations.get(method.lower())
            if definition is None:
                continue
            params = route.match(segments)
            if params is not None:
                return Operation(method.upper(), route.template, params, definition)
        return None

    def has_operation(self, method: str, template: str) -> bool:
        return any(r.template == template and method.lower() in r.operations for r in self._routes)

    def coerce_query(self, operation: Operation, args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """The operation's query parameters, typed by their schemas, with defaults filled in."""
        query: dict[str, Any] = {}
        for parameter in _parameters(operation, "query"):
            name, schema = parameter["name"], parameter.get("schema", {})
            values = list(args.get(name, ()))
            if values:
                query[name] = _coerce_values(values, schema)
            elif "default" in schema:
                query[name] = schema["default"]
        return query

    def query_errors(self, operation: Operation, query: Mapping[str, Any]) -> list[str]:
        validator = self._validator(operation, "query")
        return _describe(validator.iter_errors(dict(query)), location="query")

    def body_errors(self, operation: Operation, body: Any, *, present: bool) -> list[str]:
        request_body = operation.definition.get("requestBody")
        if request_body is None:
            return []
        if not present:
            return ["body: a JSON body is required"] if request_body.get("required") else []
        return _describe(self._validator(operation, "body").iter_errors(body), location="body")

    def validate_body(self, method: str, template: str, body: Any) -> list[str]:
        """Check ``body`` against an operation named by its template (for seeding helpers)."""
        operation = self._operation(method, template)
        return self.body_errors(operation, body, present=True)

    def response_errors(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Check a response body against the spec's response schema for ``status``, if it has one."""
        response = operation.definition.get("responses", {}).get(str(status), {})
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        validator = self._compile(schema)
        return _describe(validator.iter_errors(body), location="response")

    def _operation(self, method: str, template: str) -> Operation:
        for route in self._routes:
            if route.template == template and method.lower() in route.operations:
                return Operation(method.upper(), template, {}, route.operations[method.lower()])
        raise KeyError(f"the spec has no operation {method.upper()} {template}")

    def _validator(self, operation: Operation, part: str) -> Validator:
        key = (operation.method, operation.template, part)
        with self._lock:
            cached = self._validators.get(key)
        if cached is not None:
            return cached
        if part == "body":
            schema = operation.definition["requestBody"]["content"]["application/json"]["schema"]
        else:
            schema = _query_schema(operation)
        validator = self._compile(schema)
        with self._lock:
            return self._validators.setdefault(key, validator)

    def _compile(self, schema: Mapping[str, Any]) -> Validator:
        root = {**schema, "components": self.document.get("components", {})}
        return schema_validator(root, format_checker=self._format_checker)


def schema_validator(schema: Mapping[str, Any], *, format_checker: jsonschema.FormatChecker) -> Validator:
    """A JSON Schema 2020-12 validator whose ``pattern`` understands ``\\p{L}`` and friends."""
    return cast(Validator, _validator_class()(schema, format_checker=format_checker))


def default_spec_path() -> Path:
    """Where Port's spec lives in the shared reference data."""
    return locate_shared_dir() / "port" / "apispec.yaml"


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path) -> PortSpec:
    require_file(path, what="Port's OpenAPI spec (apispec.yaml)")
    with path.open("rb") as stream:
        document = yaml.load(stream, Loader=_SpecLoader)  # noqa: S506 - a subclass of CSafeLoader
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{path} is not an OpenAPI document (no 'paths')")
    return PortSpec(document, source=path)


def _build_routes(document: Mapping[str, Any]) -> list[_Route]:
    routes = []
    for template, item in document["paths"].items():
        operations = {m: op for m, op in item.items() if m in HTTP_METHODS}
        routes.append(_Route(template, tuple(template.split("/")), operations))
    # Literal segments first, position by position: /v1/actions/runs before /v1/actions/{id}.
    routes.sort(key=lambda r: tuple(s.startswith("{") for s in r.segments))
    return routes


def _parameters(operation: Operation, where: str) -> Iterator[Mapping[str, Any]]:
    for parameter in operation.definition.get("parameters") or ():
        if parameter.get("in") == where:
            yield parameter


def _query_schema(operation: Operation) -> dict[str, Any]:
    parameters = list(_parameters(operation, "query"))
    return {
        "type": "object",
        "properties": {p["name"]: p.get("schema", {}) for p in parameters},
        "required": [p["name"] for p in parameters if p.get("required")],
    }


def _coerce_values(values: list[str], schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "array":
        item_schema = schema.get("items", {})
        return [_coerce_scalar(value, item_schema) for value in values]
    if len(values) > 1:
        return values  # a repeated scalar parameter: left as a list so validation names it
    return _coerce_scalar(values[0], schema)


def _coerce_scalar(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            return value
        if number.is_integer():
            return int(number)
        return number if kind == "number" else value
    return value


def _describe(errors: Iterator[ValidationError], *, location: str) -> list[str]:
    messages = []
    for error in sorted(errors, key=lambda e: list(e.absolute_path)):
        detail = _closest(error)
        path = location + detail.json_path[1:]
        messages.append(f"{path}: {detail.message}")
        if len(messages) == MAX_REPORTED_ERRORS:
            break
    return messages


def _closest(error: ValidationError) -> ValidationError:
    """For a failed ``oneOf``/``anyOf``, the branch error that says most (not "wrong type")."""
    if not error.context:
        return error
    informative = [e for e in error.context if e.validator != "type"] or list(error.context)
    detail = best_match(informative)
    return error if detail is None else _closest(detail)


@functools.lru_cache(maxsize=1024)
def _compiled_pattern(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str) and not _compiled_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _compiled_pattern(pattern).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 2020-12 with ``pattern`` and ``patternProperties`` on ``regex`` (for ``\\p{L}``)."""
    keywords = {"pattern": _pattern, "patternProperties": _pattern_properties}
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, keywords)  # type: ignore[no-untyped-call]


def port_format_checker() -> jsonschema.FormatChecker:
    """JSON Schema's format checks plus ``date-time`` (RFC 3339: a date, a time and an offset)."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if "T" not in instance.upper():
        return False
    parsed = datetime.fromisoformat(instance)
    return parsed.tzinfo is not None
