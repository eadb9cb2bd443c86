"""Configuration as code: blueprints, actions and scorecards read, created and replaced."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.port import NotFound, PortApiError, PortClient
from port_bridge_sandbox.port import PortEmulator
from tests.port.conftest import CREATE_DATABASE, DATABASE_BLUEPRINT

SCORECARD: dict[str, Any] = {
    "identifier": "basics",
    "title": "Basics",
    "rules": [
        {
            "identifier": "has_engine",
            "title": "Has an engine",
            "level": "Bronze",
            "query": {"combinator": "and", "conditions": [{"property": "engine", "operator": "isNotEmpty"}]},
        }
    ],
}


def test_blueprints(port_emulator: PortEmulator, client: PortClient) -> None:
    assert client.get_blueprint("database") is None
    assert client.create_blueprint(DATABASE_BLUEPRINT)["identifier"] == "database"
    with pytest.raises(PortApiError) as raised:
        client.create_blueprint(DATABASE_BLUEPRINT)
    assert raised.value.status == 409
    replaced = client.update_blueprint("database", {**DATABASE_BLUEPRINT, "title": "Databases"})
    assert replaced["title"] == "Databases"
    found = client.get_blueprint("database")
    assert found is not None and found["title"] == "Databases"
    assert port_emulator.calls_matching("PUT", "/v1/blueprints/database")[0].status == 200


def test_actions(port_emulator: PortEmulator, client: PortClient) -> None:
    client.create_blueprint(DATABASE_BLUEPRINT)
    assert client.get_action("create_database") is None
    assert client.create_action(CREATE_DATABASE)["identifier"] == "create_database"
    client.update_action("create_database", {**CREATE_DATABASE, "title": "New database"})
    found = client.get_action("create_database")
    assert found is not None and found["title"] == "New database"
    stored = port_emulator.action("create_database")
    assert stored is not None and stored["title"] == "New database"


def test_scorecards(port_emulator: PortEmulator, client: PortClient) -> None:
    client.create_blueprint(DATABASE_BLUEPRINT)
    assert client.get_scorecard("database", "basics") is None
    assert client.create_scorecard("database", SCORECARD)["identifier"] == "basics"
    client.update_scorecard("database", "basics", {**SCORECARD, "title": "Basic hygiene"})
    found = client.get_scorecard("database", "basics")
    assert found is not None and found["title"] == "Basic hygiene"
    assert [rule["identifier"] for rule in found["rules"]] == ["has_engine"]


def test_list_scorecards_of_a_blueprint_or_of_all(port_emulator: PortEmulator, client: PortClient) -> None:
    client.create_blueprint(DATABASE_BLUEPRINT)
    client.create_blueprint({**DATABASE_BLUEPRINT, "identifier": "cache", "title": "Cache"})
    assert client.list_scorecards("database") == []
    client.create_scorecard("database", SCORECARD)
    client.create_scorecard("cache", {**SCORECARD, "identifier": "cache-basics"})
    assert [s["identifier"] for s in client.list_scorecards("database")] == ["basics"]
    every = client.list_scorecards()
    assert sorted((s["blueprint"], s["identifier"]) for s in every) == [
        ("cache", "cache-basics"),
        ("database", "basics"),
    ]
    with pytest.raises(NotFound):
        client.list_scorecards("no-such-blueprint")


def test_lists_counts_and_deletes(port_emulator: PortEmulator, client: PortClient) -> None:
    client.create_blueprint(DATABASE_BLUEPRINT, catalog_page=False)
    assert port_emulator.calls_matching("POST", "/v1/blueprints")[0].query == {"create_catalog_page": "false"}
    client.create_action(CREATE_DATABASE)
    client.create_scorecard("database", SCORECARD)
    port_emulator.add_entity("database", {"identifier": "orders", "properties": {"engine": "postgres"}})
    assert [b["identifier"] for b in client.list_blueprints()] == ["database"]
    assert [a["identifier"] for a in client.list_actions()] == ["create_database"]
    assert port_emulator.calls_matching("GET", "/v1/actions")[0].query == {"version": "v2"}
    assert [s["identifier"] for s in client.list_scorecards("database")] == ["basics"]
    assert client.count_entities("database") == 1
    assert [e["identifier"] for e in client.list_entities("database")] == ["orders"]
    assert client.delete_scorecard("database", "basics") is True
    assert client.delete_scorecard("database", "basics") is False
    assert client.delete_action("create_database") is True
    assert client.delete_action("create_database") is False
    with pytest.raises(PortApiError) as refused:
        client.delete_blueprint("database")
    assert refused.value.status == 422
    client.delete_entity("database", "orders")
    assert client.count_entities("database") == 0
    assert client.delete_blueprint("database") is True
    assert client.delete_blueprint("database") is False
