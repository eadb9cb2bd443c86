"""The Port routes the emulator implements, each named by its template in Port's OpenAPI spec."""

from __future__ import annotations

from port_bridge_sandbox.port.routes import auth, catalog, entities, runs
from port_bridge_sandbox.port.routes.base import ApiRequest, Backend, Handler, Reply, Route


def all_routes() -> tuple[Route, ...]:
    return (*auth.ROUTES, *runs.ROUTES, *entities.ROUTES, *catalog.ROUTES)


__all__ = ["ApiRequest", "Backend", "Handler", "Reply", "Route", "all_routes"]
