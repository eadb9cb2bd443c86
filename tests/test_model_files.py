"""The Port model the project ships (blueprints/, actions/, scorecards/) is what Port's API takes.

Each file is checked against the request schema of the route that creates it in Port's published
OpenAPI spec, and every relation, scorecard and action points at a blueprint the project has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from port_bridge.mapping.actions import load_actions
from port_bridge_sandbox.port.spec import PortSpec
from tests.conftest import REPO

BLUEPRINTS = sorted((REPO / "blueprints").glob("*.json"))
SCORECARDS = sorted((REPO / "scorecards").glob("*/*.json"))


@pytest.fixture(scope="module")
def spec(port_spec_path: Path) -> PortSpec:
    return PortSpec.load(port_spec_path)


def read(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


@pytest.mark.parametrize("path", BLUEPRINTS, ids=[path.stem for path in BLUEPRINTS])
def test_each_blueprint_is_what_port_takes(spec: PortSpec, path: Path) -> None:
    assert spec.validate_body("POST", "/v1/blueprints", read(path)) == []


def test_each_action_is_what_port_takes(spec: PortSpec) -> None:
    actions = load_actions(REPO / "actions")
    assert actions
    for name, config in actions.items():
        assert spec.validate_body("POST", "/v1/actions", config.raw_action) == [], name


@pytest.mark.parametrize("path", SCORECARDS, ids=[f"{p.parent.name}/{p.stem}" for p in SCORECARDS])
def test_each_scorecard_is_what_port_takes(spec: PortSpec, path: Path) -> None:
    errors = spec.validate_body("POST", "/v1/blueprints/{blueprint_identifier}/scorecards", read(path))
    assert errors == []


def test_everything_points_at_a_blueprint_the_project_has() -> None:
    blueprints = {read(path)["identifier"]: read(path) for path in BLUEPRINTS}
    assert set(blueprints) == {path.stem for path in BLUEPRINTS}  # each file is named after its blueprint
    for identifier, blueprint in blueprints.items():
        for relation in (blueprint.get("relations") or {}).values():
            assert relation["target"] in blueprints, (identifier, relation)
    for path in SCORECARDS:
        assert path.parent.name in blueprints, path
    for config in load_actions(REPO / "actions").values():
        assert config.action.trigger.blueprint_identifier in blueprints, config.identifier
        for mapping in config.request_mappings:
            if mapping.entity is not None:
                assert mapping.entity.blueprint in blueprints, (config.identifier, mapping.id)
