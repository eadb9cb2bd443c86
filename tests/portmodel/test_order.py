"""Blueprints that relate to each other (and to themselves) are created and pruned in a valid order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from port_bridge.portmodel.normalise import normalised
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import PortApi
from tests.portmodel.conftest import Apply, write_json, write_lines


def relation(target: str, *, many: bool = True) -> dict[str, Any]:
    return {"title": target.title(), "target": target, "required": False, "many": many}


ENVIRONMENT: dict[str, Any] = {
    "identifier": "environment",
    "title": "Environment",
    "schema": {"properties": {"region": {"type": "string"}}},
}
SERVICE: dict[str, Any] = {
    "identifier": "service",
    "title": "Service",
    "schema": {
        "properties": {"tier": {"type": "string", "enum": ["critical", "standard"]}},
        "required": ["tier"],
    },
    "relations": {
        "environment": relation("environment"),
        "dependencies": relation("service"),
        "databases": relation("database"),
    },
}
DATABASE: dict[str, Any] = {
    "identifier": "database",
    "title": "Database",
    "schema": {"properties": {"engine": {"type": "string"}}},
    "relations": {"service": relation("service", many=False)},
    "mirrorProperties": {"serviceTier": {"title": "Service tier", "path": "service.tier"}},
}
SCORECARD: dict[str, Any] = {
    "identifier": "tiered",
    "title": "Tiered",
    "rules": [
        {
            "identifier": "has-tier",
            "title": "Has a tier",
            "level": "Bronze",
            "query": {"combinator": "and", "conditions": [{"property": "tier", "operator": "isNotEmpty"}]},
        }
    ],
}


@pytest.fixture
def related_model(model_dir: Path) -> Path:
    """Only blueprints that relate in a cycle (service <-> database), to themselves, and a scorecard."""
    for name in ("actions", "scorecards", "blueprints"):
        for path in sorted((model_dir / name).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    for body in (ENVIRONMENT, SERVICE, DATABASE):
        write_json(model_dir / "blueprints" / f"{body['identifier']}.json", body)
    write_json(model_dir / "scorecards" / "service" / "tiered.json", SCORECARD)
    return model_dir


def test_port_refuses_a_relation_to_a_blueprint_it_does_not_have_yet(port_api: PortApi) -> None:
    """The emulator judges the order: created as written, the service blueprint is refused."""
    assert port_api.post("/v1/blueprints", json=SERVICE).status_code == 404


def test_related_blueprints_are_created_before_their_relations(
    apply: Apply, port_emulator: PortEmulator, related_model: Path
) -> None:
    result = apply()
    assert result.code == 0, result.err
    for body in (ENVIRONMENT, SERVICE, DATABASE):
        stored = port_emulator.blueprint(body["identifier"])
        assert stored is not None
        assert normalised("blueprint", stored) == normalised("blueprint", body)
    assert write_lines(port_emulator, records=False) == [
        "POST /v1/blueprints",  # database, without its relation and mirror property
        "POST /v1/blueprints",  # environment, whole: it names no other blueprint
        "POST /v1/blueprints",  # service, without its relations
        "PUT /v1/blueprints/service",  # targets first: database mirrors service.tier
        "PUT /v1/blueprints/database",
        "POST /v1/blueprints/service/scorecards",
    ]
    port_emulator.clear_calls()
    assert apply().lines[1].startswith("No changes")
    assert write_lines(port_emulator) == []


def test_pruning_blueprints_that_relate_in_a_cycle_cuts_the_cycle_first(
    apply: Apply, port_emulator: PortEmulator, related_model: Path
) -> None:
    assert apply().code == 0
    (related_model / "blueprints" / "service.json").unlink()
    (related_model / "blueprints" / "database.json").unlink()
    (related_model / "scorecards" / "service" / "tiered.json").unlink()
    port_emulator.clear_calls()
    result = apply("--prune")
    assert result.code == 0, result.err
    assert write_lines(port_emulator, records=False) == [
        "DELETE /v1/blueprints/service/scorecards/tiered",
        "PUT /v1/blueprints/database",  # cut loose from service
        "DELETE /v1/blueprints/service",  # nothing relates to it any more
        "DELETE /v1/blueprints/database",
    ]
    assert port_emulator.blueprint("service") is None and port_emulator.blueprint("database") is None
    assert port_emulator.blueprint("environment") is not None


def test_a_relation_to_a_new_blueprint_is_added_after_the_blueprint_exists(
    apply: Apply, port_emulator: PortEmulator, related_model: Path
) -> None:
    assert apply().code == 0
    team: dict[str, Any] = {"identifier": "team", "title": "Team", "schema": {"properties": {}}}
    write_json(related_model / "blueprints" / "team.json", team)
    write_json(
        related_model / "blueprints" / "environment.json",
        {**ENVIRONMENT, "relations": {"team": relation("team")}},
    )
    port_emulator.clear_calls()
    result = apply()
    assert result.code == 0, result.err
    assert '    + relations: {"team": {"many": true, "target": "team", "title": "Team"}}' in result.lines
    assert write_lines(port_emulator, records=False) == [
        "POST /v1/blueprints",
        "PUT /v1/blueprints/environment",
    ]
