"""Without Port's spec the emulator routes requests by its own table; what it tells of each route
must agree with the spec where the spec is there to say (the oracle is Port's spec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from port_bridge_sandbox.port.routebook import OwnRoutes
from port_bridge_sandbox.port.routes import all_routes
from port_bridge_sandbox.port.routes.base import Route
from port_bridge_sandbox.port.spec import PortSpec


def _sample_path(template: str) -> str:
    return "/".join("x" if segment.startswith("{") else segment for segment in template.split("/"))


@pytest.mark.parametrize("route", all_routes(), ids=lambda route: f"{route.method} {route.template}")
def test_own_routes_count_against_the_rate_limit_window_ports_spec_names(
    route: Route, port_spec_path: Path
) -> None:
    spec = PortSpec.load(port_spec_path)
    own = OwnRoutes(all_routes())
    method, template = route.method, route.template
    by_spec = spec.match(method, _sample_path(template))
    by_own = own.match(method, _sample_path(template))
    assert by_spec is not None and by_own is not None
    assert by_own.template == by_spec.template
    assert ("Entities" in by_own.definition["tags"]) == ("Entities" in (by_spec.definition.get("tags") or ()))
    assert bool(by_own.definition["security"]) == bool(by_spec.definition.get("security"))
