"""Every request is judged by Port's OpenAPI spec: off-spec requests are 422/404 and recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from port_bridge_sandbox.port import PortEmulator, PortSpec
from tests.conftest import PortApi

BLUEPRINT = {"identifier": "service", "title": "Service", "schema": {"properties": {}}}


@pytest.fixture
def spec(port_spec_path: Path) -> PortSpec:
    return PortSpec.load(port_spec_path)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"status": "DONE"}, "body.status: 'DONE' is not one of ['SUCCESS', 'FAILURE']"),
        ({"status": "SUCCESS", "colour": "green"}, "'colour' was unexpected"),
        ({"link": 42}, "body.link"),
        ({"summary": ["not", "a", "string"]}, "body.summary"),
    ],
)
def test_a_run_patch_off_the_spec_is_refused_and_recorded(
    port_api: PortApi, body: dict[str, object], named: str
) -> None:
    run_id = port_api.emulator.create_run("deploy")
    answer = port_api.patch(f"/v1/actions/runs/{run_id}", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_request"
    assert named in answer.json()["message"]
    [violation] = port_api.emulator.spec_violations
    assert (violation.method, violation.path) == ("PATCH", f"/v1/actions/runs/{run_id}")
    assert named in violation.message
    assert port_api.emulator.run(run_id).status == "IN_PROGRESS"


def test_a_run_patch_on_the_spec_is_accepted(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    body = {"status": "SUCCESS", "statusLabel": "Ready", "link": ["https://ci/1"], "summary": "ok"}
    answer = port_api.patch(f"/v1/actions/runs/{run_id}?version=v2", json={**body, "externalRunId": "ci-1"})
    assert answer.status_code == 200
    assert port_api.emulator.spec_violations == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/no-such-thing"),
        ("DELETE", "/v1/actions/runs/r_0123456789abcdef"),
        ("POST", "/v1/actions/runs/r_0123456789abcdef"),
        ("GET", "/v1/blueprints/"),
        ("OPTIONS", "/v1/blueprints"),
    ],
)
def test_a_route_port_lacks_is_404_and_a_violation(port_api: PortApi, method: str, path: str) -> None:
    answer = port_api.request(method, path)
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
    assert [(v.method, v.path) for v in port_api.emulator.spec_violations] == [(method, path)]


def test_query_parameters_are_typed_by_their_schema(port_api: PortApi) -> None:
    port_api.emulator.add_blueprint(BLUEPRINT)
    good = port_api.post("/v1/blueprints/service/entities?upsert=true&merge=false", json={"identifier": "a"})
    bad = port_api.post("/v1/blueprints/service/entities?upsert=yes", json={"identifier": "b"})
    assert good.status_code == 201
    assert bad.status_code == 422
    assert "query.upsert: 'yes' is not of type 'boolean'" in bad.json()["message"]
    assert len(port_api.emulator.spec_violations) == 1
    assert port_api.emulator.entity("service", "b") is None


def test_a_missing_parameter_with_a_default_satisfies_required(port_api: PortApi) -> None:
    """``upsert`` is marked required with default false; Port's validator fills the default in."""
    port_api.emulator.add_blueprint(BLUEPRINT)
    answer = port_api.post("/v1/blueprints/service/entities", json={"identifier": "a"})
    assert answer.status_code == 201
    assert port_api.emulator.spec_violations == []


def test_numeric_and_format_checks_apply_to_query_parameters(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    assert port_api.get(f"/v1/actions/runs/{run_id}/logs?limit=10").status_code == 200
    assert port_api.get(f"/v1/actions/runs/{run_id}/logs?limit=51").status_code == 422
    port_api.emulator.add_action(
        {
            "identifier": "deploy",
            "trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}},
            "invocationMethod": {"type": "WEBHOOK", "url": "https://example.com"},
        }
    )
    refused = port_api.post("/v1/actions/deploy/runs?run_as=not-an-email", json={"properties": {}})
    assert refused.status_code == 422
    assert "query.run_as" in refused.json()["message"]
    assert len(port_api.emulator.spec_violations) == 2


def test_identifier_patterns_accept_any_unicode_letter(port_api: PortApi) -> None:
    port_api.emulator.add_blueprint(BLUEPRINT)
    accepted = port_api.post("/v1/blueprints/service/entities", json={"identifier": "Zürich-ñ_1"})
    refused = port_api.post("/v1/blueprints/service/entities", json={"identifier": "has space"})
    assert accepted.status_code == 201
    assert refused.status_code == 422
    assert "body.identifier: 'has space' does not match" in refused.json()["message"]


def test_more_than_twenty_entities_in_bulk_is_off_the_spec(port_api: PortApi) -> None:
    port_api.emulator.add_blueprint(BLUEPRINT)
    entities = [{"identifier": f"e{i}"} for i in range(21)]
    answer = port_api.post("/v1/blueprints/service/entities/bulk?upsert=true", json={"entities": entities})
    assert answer.status_code == 422
    assert "body.entities" in answer.json()["message"]
    assert port_api.emulator.entity("service", "e0") is None
    assert len(port_api.emulator.spec_violations) == 1


def test_literal_segments_win_over_templated_ones(spec: PortSpec) -> None:
    runs = spec.match("GET", "/v1/actions/runs")
    run = spec.match("GET", "/v1/actions/runs/r_AbC")
    action = spec.match("GET", "/v1/actions/runs-of-mine")
    assert runs is not None and runs.template == "/v1/actions/runs"
    assert run is not None and run.template == "/v1/actions/runs/{run_id}"
    assert run.path_params == {"run_id": "r_AbC"}
    assert action is not None and action.template == "/v1/actions/{action_identifier}"
    assert spec.match("GET", "/v1/actions/runs/r_AbC/nothing") is None
    put_action = spec.match("PUT", "/v1/actions/runs")
    assert put_action is not None and put_action.path_params == {"action_identifier": "runs"}


def test_percent_encoded_path_parameters_are_decoded_per_segment(port_api: PortApi, spec: PortSpec) -> None:
    operation = spec.match("GET", "/v1/blueprints/service/entities/team%2Fapi")
    assert operation is not None
    assert operation.path_params == {"blueprint_identifier": "service", "entity_identifier": "team/api"}
    port_api.emulator.add_blueprint(BLUEPRINT)
    port_api.post("/v1/blueprints/service/entities", json={"identifier": "team/api"})
    assert (
        port_api.get("/v1/blueprints/service/entities/team%2Fapi").json()["entity"]["identifier"]
        == "team/api"
    )


def test_answers_match_the_specs_response_schemas(port_api: PortApi, spec: PortSpec) -> None:
    run_id = port_api.emulator.create_run("deploy", inputs={"name": "db"})
    credentials = {"clientId": port_api.emulator.client_id, "clientSecret": port_api.emulator.client_secret}
    exchanges: list[tuple[str, str, Any]] = [
        ("POST", "/v1/auth/access_token", credentials),
        ("GET", f"/v1/actions/runs/{run_id}", None),
        ("PATCH", f"/v1/actions/runs/{run_id}", {"statusLabel": "Working", "link": "https://ci/1"}),
        ("POST", f"/v1/actions/runs/{run_id}/logs", {"message": "step 1"}),
        ("GET", f"/v1/actions/runs/{run_id}/logs", None),
        ("GET", "/v1/actions/runs", None),
        ("POST", "/v1/blueprints", BLUEPRINT),
        ("GET", "/v1/blueprints", None),
        ("PUT", "/v1/blueprints/service", {"title": "Svc", "schema": {"properties": {}}}),
        ("POST", "/v1/blueprints/service/entities/bulk", {"entities": [{"identifier": "a"}]}),
        (
            "POST",
            "/v1/blueprints/service/entities/bulk",
            {"entities": [{"identifier": "a"}, {"identifier": "b"}]},
        ),
        ("DELETE", "/v1/blueprints/service/entities/a?delete_dependents=false", None),
        ("GET", "/v1/blueprints/service/entities/a", None),
        ("PATCH", f"/v1/actions/runs/{run_id}", {"status": "DONE"}),
        ("GET", "/v1/blueprints", {"ignored": "body"}),
    ]
    statuses = []
    for method, path, body in exchanges:
        answer = port_api.request(method, path, json=body)
        statuses.append(answer.status_code)
        operation = spec.match(method, path.partition("?")[0])
        assert operation is not None
        assert spec.response_errors(operation, answer.status_code, answer.json()) == [], (method, path)
    assert statuses == [200, 200, 200, 201, 200, 200, 201, 200, 200, 200, 207, 200, 404, 422, 200]


def test_seeding_helpers_are_checked_against_the_spec(port_emulator: PortEmulator) -> None:
    with pytest.raises(ValueError, match="schema"):
        port_emulator.add_blueprint({"identifier": "service", "title": "Service"})
    with pytest.raises(ValueError, match="invocationMethod"):
        port_emulator.add_action({"identifier": "deploy", "trigger": {"type": "self-service"}})
