"""Blueprints, actions and scorecards: the configuration pushed to Port as code."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge_sandbox.port import PortEmulator
from tests.conftest import PortApi

BLUEPRINT = {
    "identifier": "service",
    "title": "Service",
    "icon": "Microservice",
    "schema": {"properties": {"tier": {"type": "string"}}, "required": []},
}
ACTION: dict[str, Any] = {
    "identifier": "create_service",
    "title": "Create service",
    "trigger": {
        "type": "self-service",
        "operation": "CREATE",
        "blueprintIdentifier": "service",
        "userInputs": {"properties": {"name": {"type": "string"}}, "required": ["name"]},
    },
    "invocationMethod": {
        "type": "WEBHOOK",
        "url": "https://bridge.example.com/webhook",
        "agent": False,
        "synchronized": False,
        "method": "POST",
        "body": {"runId": "{{ .run.id }}", "inputs": "{{ .inputs }}"},
    },
}
RULE = {
    "identifier": "has_tier",
    "title": "Has a tier",
    "level": "Bronze",
    "query": {"combinator": "and", "conditions": [{"property": "tier", "operator": "isNotEmpty"}]},
}
SCORECARD = {"identifier": "basics", "title": "Basics", "rules": [RULE]}


def test_blueprints_are_created_read_listed_and_conflict(port_api: PortApi) -> None:
    created = port_api.post("/v1/blueprints", json=BLUEPRINT)
    assert created.status_code == 201
    blueprint = created.json()["blueprint"]
    assert blueprint["identifier"] == "service"
    assert {"createdAt", "createdBy", "updatedAt", "updatedBy"} <= set(blueprint)
    assert port_api.post("/v1/blueprints", json=BLUEPRINT).status_code == 409
    assert port_api.get("/v1/blueprints/service").json()["blueprint"]["title"] == "Service"
    assert [b["identifier"] for b in port_api.get("/v1/blueprints").json()["blueprints"]] == ["service"]
    assert port_api.get("/v1/blueprints/nope").status_code == 404


def test_blueprints_are_replaced_and_patched(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    replaced = port_api.put("/v1/blueprints/service", json={"title": "Svc", "schema": {"properties": {}}})
    assert replaced.status_code == 200
    assert replaced.json()["blueprint"]["schema"] == {"properties": {}}
    assert "icon" not in replaced.json()["blueprint"]
    patched = port_api.patch("/v1/blueprints/service", json={"description": "Our services"})
    assert (patched.json()["blueprint"]["title"], patched.json()["blueprint"]["description"]) == (
        "Svc",
        "Our services",
    )
    assert (
        port_api.put("/v1/blueprints/nope", json={"title": "x", "schema": {"properties": {}}}).status_code
        == 404
    )


def test_a_blueprint_off_the_spec_is_refused(port_api: PortApi) -> None:
    answer = port_api.post("/v1/blueprints", json={"identifier": "service", "title": "Service"})
    assert answer.status_code == 422
    assert "'schema' is a required property" in answer.json()["message"]
    assert len(port_api.emulator.spec_violations) == 1


def test_actions_are_created_read_listed_and_replaced(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    created = port_api.post("/v1/actions", json=ACTION)
    assert created.status_code == 201
    assert created.json()["action"]["invocationMethod"]["body"] == ACTION["invocationMethod"]["body"]
    assert port_api.post("/v1/actions", json=ACTION).status_code == 409
    assert port_api.get("/v1/actions/create_service").json()["action"]["title"] == "Create service"
    listed = port_api.get("/v1/actions?blueprint_identifier=service").json()["actions"]
    assert [a["identifier"] for a in listed] == ["create_service"]
    assert port_api.get("/v1/actions?blueprint_identifier=other").json()["actions"] == []
    replaced = port_api.put("/v1/actions/create_service", json={**ACTION, "title": "New service"})
    assert replaced.json()["action"]["title"] == "New service"
    assert port_api.get("/v1/actions/nope").status_code == 404
    assert port_api.emulator.spec_violations == []


def test_an_action_on_an_unknown_blueprint_is_404(port_api: PortApi) -> None:
    assert port_api.post("/v1/actions", json=ACTION).status_code == 404


def test_an_action_off_the_spec_is_refused(port_api: PortApi) -> None:
    broken = {**ACTION, "invocationMethod": {"type": "WEBHOOK"}}
    answer = port_api.post("/v1/actions", json=broken)
    assert answer.status_code == 422
    assert "body.invocationMethod" in answer.json()["message"]


def test_scorecards_are_created_read_replaced_and_listed(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    created = port_api.post("/v1/blueprints/service/scorecards", json=SCORECARD)
    assert created.status_code == 201
    scorecard = created.json()["scorecard"]
    assert [level["title"] for level in scorecard["levels"]] == ["Basic", "Bronze", "Silver", "Gold"]
    assert scorecard["blueprint"] == "service"
    assert port_api.get("/v1/blueprints/service/scorecards/basics").json()["scorecard"]["rules"] == [RULE]
    replaced = port_api.put(
        "/v1/blueprints/service/scorecards/basics", json={**SCORECARD, "title": "Renamed"}
    )
    assert replaced.json()["scorecard"]["title"] == "Renamed"
    second = {**SCORECARD, "identifier": "more", "title": "More"}
    batch = port_api.put("/v1/blueprints/service/scorecards", json=[SCORECARD, second])
    assert batch.status_code == 200
    assert [s["identifier"] for s in batch.json()["scorecards"]] == ["basics", "more"]
    assert len(port_api.get("/v1/blueprints/service/scorecards").json()["scorecards"]) == 2
    assert len(port_api.get("/v1/scorecards").json()["scorecards"]) == 2
    assert port_api.get("/v1/blueprints/service/scorecards/nope").status_code == 404


@pytest.mark.parametrize(
    ("rule_level", "message"),
    [("Basic", "base level"), ("Platinum", "not one of")],
)
def test_a_rule_must_sit_on_a_non_base_level_of_the_scorecard(
    port_api: PortApi, rule_level: str, message: str
) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    body = {**SCORECARD, "rules": [{**RULE, "level": rule_level}]}
    answer = port_api.post("/v1/blueprints/service/scorecards", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]


def test_a_scorecard_with_an_unknown_operator_is_off_the_spec(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    condition = {"property": "tier", "operator": "resembles", "value": "gold"}
    body = {**SCORECARD, "rules": [{**RULE, "query": {"combinator": "and", "conditions": [condition]}}]}
    answer = port_api.post("/v1/blueprints/service/scorecards", json=body)
    assert answer.status_code == 422
    assert len(port_api.emulator.spec_violations) == 1


DATABASE = {
    "identifier": "database",
    "title": "Database",
    "schema": {"properties": {"engine": {"type": "string"}}},
}


def related(**relations: str) -> dict[str, Any]:
    """The ``service`` blueprint with a relation (many, optional) to each named target."""
    return {
        **BLUEPRINT,
        "relations": {
            name: {"title": name, "target": target, "required": False, "many": True}
            for name, target in relations.items()
        },
    }


def test_a_relation_to_a_blueprint_port_does_not_have_is_refused(port_api: PortApi) -> None:
    answer = port_api.post("/v1/blueprints", json=related(databases="database"))
    assert answer.status_code == 404
    assert "relations.databases.target: blueprint 'database'" in answer.json()["message"]
    assert port_api.get("/v1/blueprints/service").status_code == 404
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    assert port_api.put("/v1/blueprints/service", json=related(databases="database")).status_code == 404
    port_api.post("/v1/blueprints", json=DATABASE)
    assert port_api.put("/v1/blueprints/service", json=related(databases="database")).status_code == 200


def test_a_blueprint_may_relate_to_itself(port_api: PortApi) -> None:
    assert port_api.post("/v1/blueprints", json=related(dependencies="service")).status_code == 201


def test_a_mirror_property_must_lead_through_a_relation_to_a_property(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=DATABASE)
    body = related(databases="database")
    good = {**body, "mirrorProperties": {"engine": {"path": "databases.engine"}}}
    wrong_relation = {**body, "mirrorProperties": {"engine": {"path": "db.engine"}}}
    wrong_property = {**body, "mirrorProperties": {"engine": {"path": "databases.version"}}}
    assert "no relation 'db'" in port_api.post("/v1/blueprints", json=wrong_relation).json()["message"]
    assert port_api.post("/v1/blueprints", json=wrong_property).status_code == 422
    assert port_api.post("/v1/blueprints", json=good).status_code == 201


def test_the_seeding_helper_takes_blueprints_in_any_order(port_emulator: PortEmulator) -> None:
    port_emulator.add_blueprint(related(databases="database"))
    port_emulator.add_blueprint(DATABASE)
    assert port_emulator.blueprint("service") is not None


def test_an_action_keeps_its_id_when_replaced_and_can_be_deleted(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    created = port_api.post("/v1/actions", json=ACTION).json()["action"]
    assert created["id"].startswith("action_")
    replaced = port_api.put("/v1/actions/create_service", json={**ACTION, "title": "New"}).json()["action"]
    assert replaced["id"] == created["id"]
    assert port_api.delete("/v1/actions/create_service").status_code == 200
    assert port_api.get("/v1/actions/create_service").status_code == 404
    assert port_api.delete("/v1/actions/create_service").status_code == 404


def test_a_scorecard_can_be_deleted(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    port_api.post("/v1/blueprints/service/scorecards", json=SCORECARD)
    assert port_api.delete("/v1/blueprints/service/scorecards/basics").status_code == 200
    assert port_api.get("/v1/blueprints/service/scorecards/basics").status_code == 404
    assert port_api.delete("/v1/blueprints/service/scorecards/basics").status_code == 404


def test_a_blueprint_something_still_needs_is_not_deleted(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=DATABASE)
    port_api.post("/v1/blueprints", json=related(databases="database"))
    refused = port_api.delete("/v1/blueprints/database")
    assert refused.status_code == 422
    assert "service: relations.databases.target points at it" in refused.json()["message"]
    port_api.put("/v1/blueprints/service", json=BLUEPRINT)
    port_api.post("/v1/blueprints/database/entities", json={"identifier": "orders", "properties": {}})
    assert "1 entities" in port_api.delete("/v1/blueprints/database").json()["message"]
    port_api.delete("/v1/blueprints/database/entities/orders")
    assert port_api.delete("/v1/blueprints/database").status_code == 200
    assert port_api.get("/v1/blueprints/database").status_code == 404
    assert port_api.emulator.spec_violations == []


def test_a_blueprint_with_actions_is_deleted_only_with_them(port_api: PortApi) -> None:
    port_api.post("/v1/blueprints", json=BLUEPRINT)
    port_api.post("/v1/actions", json=ACTION)
    port_api.post("/v1/blueprints/service/scorecards", json=SCORECARD)
    refused = port_api.delete("/v1/blueprints/service")
    assert "actions create_service belong to it" in refused.json()["message"]
    assert port_api.delete("/v1/blueprints/service?delete_actions=true").status_code == 200
    assert port_api.get("/v1/actions/create_service").status_code == 404
    assert port_api.get("/v1/scorecards").json()["scorecards"] == []
