"""How the emulator finds a request's route when Port's OpenAPI spec is not beside the clone.

With the spec (``../shared/port/apispec.yaml``) the emulator routes by it and checks every request
against it (:class:`~port_bridge_sandbox.port.spec.PortSpec`). A user who cloned the repository alone
has no spec: the emulator then routes by its own routes' path templates and types the query
parameters it reads itself, and checks nothing (:class:`OwnRoutes`). Both answer the same questions,
so the request pipeline does not care which it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import unquote

from port_bridge_sandbox.port.routes import Route
from port_bridge_sandbox.port.spec import Operation

AUTH_ROUTE = "/v1/auth/access_token"
BOOLEAN_PARAMETERS = frozenset(
    {
        "upsert",
        "merge",
        "create_missing_related_entities",
        "validation_only",
        "delete_dependents",
        "delete_actions",
        "active",
        "create_catalog_page",
    }
)
NUMBER_PARAMETERS = frozenset({"limit", "offset"})


class RouteBook(Protocol):
    """What the request pipeline asks of Port's API description."""

    checks: bool

    def match(self, method: str, raw_path: str) -> Operation | None: ...

    def has_operation(self, method: str, template: str) -> bool: ...

    def coerce_query(self, operation: Operation, args: Mapping[str, Sequence[str]]) -> dict[str, Any]: ...

    def query_errors(self, operation: Operation, query: Mapping[str, Any]) -> list[str]: ...

    def body_errors(self, operation: Operation, body: Any, *, present: bool) -> list[str]: ...

    def validate_body(self, method: str, template: str, body: Any) -> list[str]: ...


class OwnRoutes:
    """Routes from the emulator's own handlers: requests are routed and typed, not checked."""

    checks: bool = False

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = sorted(
            ((route.method, tuple(route.template.split("/"))) for route in routes),
            key=lambda entry: tuple(segment.startswith("{") for segment in entry[1]),
        )

    def match(self, method: str, raw_path: str) -> Operation | None:
        segments = raw_path.split("/")
        for route_method, pattern in self._routes:
            if route_method != method.upper() or len(pattern) != len(segments):
                continue
            params = _params(pattern, segments)
            if params is not None:
                template = "/".join(pattern)
                security: list[dict[str, list[str]]] = [] if template == AUTH_ROUTE else [{"bearer": []}]
                # Port's spec tags the routes of the entities API "Entities" (its rate limit counts
                # them apart): every route with a segment naming entities, and only those.
                tags = ["Entities"] if any("entities" in segment for segment in pattern) else []
                return Operation(route_method, template, params, {"security": security, "tags": tags})
        return None

    def has_operation(self, method: str, template: str) -> bool:
        return (method.upper(), tuple(template.split("/"))) in self._routes

    def coerce_query(self, operation: Operation, args: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for name, values in args.items():
            value = values[-1] if values else ""
            if name in BOOLEAN_PARAMETERS and value in ("true", "false"):
                query[name] = value == "true"
            elif name in NUMBER_PARAMETERS and value.isdigit():
                query[name] = int(value)
            else:
                query[name] = value
        return query

    def query_errors(self, operation: Operation, query: Mapping[str, Any]) -> list[str]:
        return []

    def body_errors(self, operation: Operation, body: Any, *, present: bool) -> list[str]:
        return []

    def validate_body(self, method: str, template: str, body: Any) -> list[str]:
        return []


def _params(pattern: Sequence[str], segments: Sequence[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return params
