"""Entities: Port's create/upsert/merge semantics, validation against the blueprint, bulk 207."""

from __future__ import annotations

import re
from typing import Any

import pytest

from port_bridge_sandbox.port import PortEmulator
from tests.conftest import PortApi

SERVICE = {
    "identifier": "service",
    "title": "Service",
    "schema": {
        "properties": {
            "tier": {"type": "string", "enum": ["bronze", "gold"], "enumColors": {"gold": "yellow"}},
            "replicas": {"type": "number", "minimum": 1},
            "public": {"type": "boolean"},
            "homepage": {"type": "string", "format": "url"},
            "owner": {"type": "string", "format": "email"},
            "expires": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "readme": {"type": "string", "format": "markdown"},
            "slug": {"type": "string", "pattern": "^[\\p{L}-]+$"},
        },
        "required": ["tier"],
    },
    "relations": {
        "database": {"title": "Database", "target": "database", "required": False, "many": False},
        "consumers": {"title": "Consumers", "target": "service", "required": False, "many": True},
    },
}
DATABASE = {"identifier": "database", "title": "Database", "schema": {"properties": {}}}
ENTITIES = "/v1/blueprints/service/entities"


@pytest.fixture
def catalog(port_emulator: PortEmulator) -> PortEmulator:
    port_emulator.add_blueprint(DATABASE)
    port_emulator.add_blueprint(SERVICE)
    return port_emulator


def _stored_service(catalog: PortEmulator, identifier: str) -> dict[str, Any]:
    entity = catalog.entity("service", identifier)
    assert entity is not None, f"no service {identifier!r} in the catalog"
    return entity


def _service(identifier: str, **properties: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "title": identifier.title(),
        "properties": {"tier": "gold", **properties},
    }


def test_create_returns_the_entity_and_a_second_plain_create_is_409(
    catalog: PortEmulator, port_api: PortApi
) -> None:
    created = port_api.post(ENTITIES, json=_service("api", replicas=2))
    assert created.status_code == 201
    entity = created.json()["entity"]
    assert (entity["identifier"], entity["blueprint"], entity["properties"]["replicas"]) == (
        "api",
        "service",
        2,
    )
    again = port_api.post(ENTITIES + "?upsert=false", json=_service("api"))
    assert again.status_code == 409
    assert again.json()["ok"] is False
    assert _stored_service(catalog, "api")["properties"]["replicas"] == 2


def test_upsert_replaces_the_whole_entity(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json={**_service("api", replicas=2), "team": "platform"})
    answer = port_api.post(ENTITIES + "?upsert=true", json=_service("api", public=True))
    assert answer.status_code == 201
    entity = _stored_service(catalog, "api")
    assert entity["properties"] == {"tier": "gold", "public": True}
    assert entity["team"] == []


def test_upsert_with_merge_changes_only_the_given_fields(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json={**_service("api", replicas=2), "team": "platform"})
    port_api.post(
        ENTITIES + "?upsert=true&merge=true", json={"identifier": "api", "properties": {"public": True}}
    )
    entity = _stored_service(catalog, "api")
    assert entity["properties"] == {"tier": "gold", "replicas": 2, "public": True}
    assert (entity["title"], entity["team"]) == ("Api", ["platform"])


def test_an_entity_without_identifier_gets_a_generated_one(catalog: PortEmulator, port_api: PortApi) -> None:
    entity = port_api.post(ENTITIES, json={"properties": {"tier": "gold"}}).json()["entity"]
    assert re.fullmatch(r"e_[A-Za-z0-9]{16}", entity["identifier"])


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"tier": "platinum"}, "properties.tier"),
        ({"tier": "gold", "replicas": "three"}, "properties.replicas"),
        ({"tier": "gold", "replicas": 0}, "properties.replicas"),
        ({"tier": "gold", "public": "yes"}, "properties.public"),
        ({"tier": "gold", "homepage": "not a url"}, "properties.homepage"),
        ({"tier": "gold", "owner": "nobody"}, "properties.owner"),
        ({"tier": "gold", "expires": "tomorrow"}, "properties.expires"),
        ({"tier": "gold", "tags": ["ok", 3]}, "properties.tags[1]"),
        ({"tier": "gold", "slug": "has space"}, "properties.slug"),
        ({"replicas": 2}, "'tier' is a required property"),
        ({"tier": "gold", "colour": "red"}, "'colour' was unexpected"),
    ],
)
def test_properties_are_validated_against_the_blueprint(
    catalog: PortEmulator, port_api: PortApi, properties: dict[str, Any], named: str
) -> None:
    answer = port_api.post(ENTITIES + "?upsert=true", json={"identifier": "api", "properties": properties})
    assert answer.status_code == 422
    assert named in answer.json()["message"]
    assert catalog.entity("service", "api") is None
    assert catalog.spec_violations == []


def test_valid_formats_and_null_properties_are_accepted(catalog: PortEmulator, port_api: PortApi) -> None:
    properties = {
        "homepage": "https://api.example.com",
        "owner": "ana@example.com",
        "expires": "2030-01-01T00:00:00.000Z",
        "readme": "# anything",
        "slug": "café-ünique",
        "replicas": None,
    }
    assert port_api.post(ENTITIES, json=_service("api", **properties)).status_code == 201


def test_merge_validates_the_merged_result(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json=_service("api"))
    answer = port_api.post(
        ENTITIES + "?upsert=true&merge=true", json={"identifier": "api", "properties": {"tier": None}}
    )
    assert answer.status_code == 422
    assert "'tier' is a required property" in answer.json()["message"]


def test_an_unknown_blueprint_is_404(catalog: PortEmulator, port_api: PortApi) -> None:
    for answer in (
        port_api.post("/v1/blueprints/nope/entities", json={"identifier": "x"}),
        port_api.get("/v1/blueprints/nope/entities/x"),
        port_api.post("/v1/blueprints/nope/entities/bulk", json={"entities": [{"identifier": "x"}]}),
    ):
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found")


def test_get_list_and_delete(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json=_service("api"))
    port_api.post(ENTITIES, json=_service("web"))
    assert port_api.get(ENTITIES + "/api").json()["entity"]["title"] == "Api"
    assert {e["identifier"] for e in port_api.get(ENTITIES).json()["entities"]} == {"api", "web"}
    assert port_api.delete(ENTITIES + "/api?delete_dependents=false").json() == {"ok": True}
    assert port_api.get(ENTITIES + "/api").status_code == 404
    assert port_api.delete(ENTITIES + "/api?delete_dependents=false").status_code == 404


def test_deleting_an_entity_others_relate_to_needs_delete_dependents(
    catalog: PortEmulator, port_api: PortApi
) -> None:
    port_api.post(ENTITIES, json=_service("api"))
    port_api.post(ENTITIES, json={**_service("web"), "relations": {"consumers": ["api"]}})
    refused = port_api.delete(ENTITIES + "/api?delete_dependents=false")
    assert refused.status_code == 422
    assert "web" in refused.json()["message"]
    assert port_api.delete(ENTITIES + "/api?delete_dependents=true").status_code == 200
    assert catalog.entity("service", "web") is None


def test_relations_need_their_target_unless_created_as_missing(
    catalog: PortEmulator, port_api: PortApi
) -> None:
    body = {**_service("api"), "relations": {"database": "orders-db"}}
    assert port_api.post(ENTITIES, json=body).status_code == 404
    created = port_api.post(ENTITIES + "?create_missing_related_entities=true", json=body)
    assert created.status_code == 201
    assert catalog.entity("database", "orders-db") is not None


@pytest.mark.parametrize(
    ("relations", "named"),
    [({"owner": "x"}, "relations.owner"), ({"database": ["a", "b"]}, "relations.database")],
)
def test_relations_must_match_the_blueprint(
    catalog: PortEmulator, port_api: PortApi, relations: dict[str, Any], named: str
) -> None:
    answer = port_api.post(ENTITIES, json={**_service("api"), "relations": relations})
    assert answer.status_code == 422
    assert named in answer.json()["message"]


def test_validation_only_does_not_write(catalog: PortEmulator, port_api: PortApi) -> None:
    answer = port_api.post(ENTITIES + "?validation_only=true", json=_service("api"))
    assert answer.status_code == 201
    assert catalog.entity("service", "api") is None
    refused = port_api.post(ENTITIES + "?validation_only=true", json=_service("api", tier="platinum"))
    assert refused.status_code == 422


def test_bulk_all_written_is_200(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json=_service("api"))
    bodies = [_service("api", replicas=3), _service("web")]
    answer = port_api.post(ENTITIES + "/bulk?upsert=true", json={"entities": bodies})
    assert answer.status_code == 200
    assert answer.json()["entities"] == [
        {"created": False, "identifier": "api", "index": 0},
        {"created": True, "identifier": "web", "index": 1},
    ]
    assert answer.json()["errors"] == []
    assert _stored_service(catalog, "api")["properties"]["replicas"] == 3


def test_bulk_with_failures_is_207_with_per_item_errors(catalog: PortEmulator, port_api: PortApi) -> None:
    port_api.post(ENTITIES, json=_service("api"))
    bodies = [_service("web"), _service("bad", tier="platinum"), _service("api"), _service("db")]
    answer = port_api.post(ENTITIES + "/bulk?upsert=false", json={"entities": bodies})
    assert answer.status_code == 207
    body = answer.json()
    assert [(e["identifier"], e["index"]) for e in body["entities"]] == [("web", 0), ("db", 3)]
    errors = {e["identifier"]: e for e in body["errors"]}
    assert set(errors) == {"bad", "api"}
    assert (errors["bad"]["index"], errors["bad"]["statusCode"], errors["bad"]["error"]) == (
        1,
        422,
        "invalid_request",
    )
    assert "properties.tier" in errors["bad"]["message"]
    assert (errors["api"]["index"], errors["api"]["statusCode"]) == (2, 409)
    assert catalog.entity("service", "db") is not None
    assert catalog.entity("service", "bad") is None


def test_entities_carry_their_scorecard_results(catalog: PortEmulator, port_api: PortApi) -> None:
    catalog.add_scorecard(
        "service",
        {
            "identifier": "production_readiness",
            "title": "Production readiness",
            "rules": [
                {
                    "identifier": "has_replicas",
                    "title": "Two replicas",
                    "level": "Bronze",
                    "query": {
                        "combinator": "and",
                        "conditions": [{"property": "replicas", "operator": ">=", "value": 2}],
                    },
                },
                {
                    "identifier": "is_gold",
                    "title": "Gold tier",
                    "level": "Silver",
                    "query": {
                        "combinator": "and",
                        "conditions": [{"property": "tier", "operator": "=", "value": "gold"}],
                    },
                },
            ],
        },
    )
    entity = port_api.post(ENTITIES, json=_service("api", replicas=1)).json()["entity"]
    assert entity["scorecards"]["production_readiness"] == {
        "level": "Basic",
        "rules": [
            {"identifier": "has_replicas", "status": "FAILURE", "level": "Bronze"},
            {"identifier": "is_gold", "status": "SUCCESS", "level": "Silver"},
        ],
    }
    port_api.post(
        ENTITIES + "?upsert=true&merge=true", json={"identifier": "api", "properties": {"replicas": 3}}
    )
    fetched = port_api.get(ENTITIES + "/api").json()["entity"]
    assert fetched["scorecards"]["production_readiness"]["level"] == "Silver"
