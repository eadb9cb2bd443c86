"""Action runs: ids, PATCH semantics, logs, and the refusal of any change once a run has finished."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from port_bridge_sandbox.port import PortEmulator
from tests.conftest import PortApi

ACTION = {
    "identifier": "create_database",
    "title": "Create database",
    "trigger": {
        "type": "self-service",
        "operation": "CREATE",
        "blueprintIdentifier": "database",
        "userInputs": {"properties": {"name": {"type": "string"}}},
    },
    "invocationMethod": {"type": "WEBHOOK", "url": "https://bridge.example.com/webhook"},
}
BLUEPRINT = {
    "identifier": "database",
    "title": "Database",
    "schema": {"properties": {"engine": {"type": "string"}}},
}


@pytest.fixture
def catalog(port_emulator: PortEmulator) -> PortEmulator:
    port_emulator.add_blueprint(BLUEPRINT)
    port_emulator.add_action(ACTION)
    return port_emulator


def test_run_ids_look_like_ports(port_emulator: PortEmulator) -> None:
    ids = {port_emulator.create_run("create_database") for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"r_[A-Za-z0-9]{16}", run_id) for run_id in ids)
    assert any(run_id[2:] != run_id[2:].lower() for run_id in ids)


def test_run_ids_are_case_sensitive(port_api: PortApi) -> None:
    real = port_api.emulator.create_run("create_database")
    assert port_api.get(f"/v1/actions/runs/{real}").status_code == 200
    assert port_api.get(f"/v1/actions/runs/r_{real[2:].swapcase()}").status_code == 404


def test_a_run_reads_back_as_ports_run_object(catalog: PortEmulator, port_api: PortApi) -> None:
    run_id = catalog.create_run("create_database", inputs={"name": "orders"}, user_email="ana@example.com")
    run = port_api.get(f"/v1/actions/runs/{run_id}").json()["run"]
    assert run["id"] == run_id
    assert run["status"] == "IN_PROGRESS"
    assert run["action"]["identifier"] == "create_database"
    assert run["blueprint"]["identifier"] == "database"
    assert run["properties"] == {"name": "orders"}
    assert run["createdBy"] == "ana@example.com"


def test_an_unknown_run_is_404(port_api: PortApi) -> None:
    answer = port_api.patch("/v1/actions/runs/r_0000000000000000", json={"summary": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_each_patch_overwrites_only_the_keys_it_sends(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"link": "https://ci/1", "summary": "first"})
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"link": ["https://ci/2", "https://logs/2"]})
    port_api.patch(
        f"/v1/actions/runs/{run_id}", json={"externalRunId": "job-7", "statusLabel": "Provisioning"}
    )
    run = port_api.emulator.run(run_id)
    assert run.link == ["https://ci/2", "https://logs/2"]
    assert run.summary == "first"
    assert run.external_run_id == "job-7"
    assert run.status_label == "Provisioning"
    assert run.status == "IN_PROGRESS"
    assert len(run.patches) == 3


def test_logs_are_added_and_listed(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    created = [
        port_api.post(f"/v1/actions/runs/{run_id}/logs", json={"message": f"step {i}"}) for i in range(4)
    ]
    assert {answer.status_code for answer in created} == {201}
    first = created[0].json()["runLog"]
    assert (first["runId"], first["message"]) == (run_id, "step 0")
    listed = port_api.get(f"/v1/actions/runs/{run_id}/logs?limit=2&offset=1").json()["runLogs"]
    assert [log["message"] for log in listed] == ["step 1", "step 2"]


def test_a_log_with_termination_status_finishes_the_run(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    answer = port_api.post(
        f"/v1/actions/runs/{run_id}/logs",
        json={"message": "failed", "terminationStatus": "FAILURE", "statusLabel": "Broken"},
    )
    assert answer.status_code == 201
    run = port_api.emulator.run(run_id)
    assert (run.status, run.status_label) == ("FAILURE", "Broken")
    assert run.ended_at is not None
    assert [change.via for change in run.terminal_reports] == ["log"]


@pytest.mark.parametrize("finish_by", ["patch", "log"])
def test_a_finished_run_refuses_every_change_with_run_exhausted(
    catalog: PortEmulator, port_api: PortApi, finish_by: str
) -> None:
    run_id = catalog.create_run("create_database")
    if finish_by == "patch":
        assert port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "SUCCESS"}).status_code == 200
    else:
        finished = port_api.post(
            f"/v1/actions/runs/{run_id}/logs", json={"message": "done", "terminationStatus": "SUCCESS"}
        )
        assert finished.status_code == 201
    refused = [
        port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "FAILURE"}),
        port_api.patch(f"/v1/actions/runs/{run_id}", json={"summary": "late"}),
        port_api.post(f"/v1/actions/runs/{run_id}/logs", json={"message": "late"}),
        port_api.post(
            f"/v1/blueprints/database/entities?upsert=true&run_id={run_id}", json={"identifier": "db"}
        ),
        port_api.post(
            f"/v1/blueprints/database/entities/bulk?upsert=true&run_id={run_id}",
            json={"entities": [{"identifier": "db"}]},
        ),
    ]
    assert [answer.status_code for answer in refused] == [422] * 5
    assert {answer.json()["error"] for answer in refused} == {"run_exhausted"}
    run = catalog.run(run_id)
    assert run.status == "SUCCESS"
    assert run.summary is None
    assert len(run.terminal_reports) == 1
    assert [refusal.reason for refusal in run.refusals] == ["run_exhausted"] * 5
    assert catalog.entity("database", "db") is None
    assert port_api.emulator.spec_violations == []


def test_a_delete_tied_to_a_finished_run_is_refused(catalog: PortEmulator, port_api: PortApi) -> None:
    catalog.add_entity("database", {"identifier": "db"})
    run_id = catalog.create_run("create_database")
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "FAILURE"})
    answer = port_api.delete(f"/v1/blueprints/database/entities/db?delete_dependents=false&run_id={run_id}")
    assert (answer.status_code, answer.json()["error"]) == (422, "run_exhausted")
    assert catalog.entity("database", "db") is not None
    assert catalog.run(run_id).refusals[0].request.startswith("DELETE /v1/blueprints/database/entities/db")


def test_history_keeps_every_status_change(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"statusLabel": "Requested"})
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"summary": "no status change"})
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"statusLabel": "Provisioning"})
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "SUCCESS", "statusLabel": "Ready"})
    history = port_api.emulator.run(run_id).history
    assert [(change.status, change.label) for change in history] == [
        ("IN_PROGRESS", None),
        ("IN_PROGRESS", "Requested"),
        ("IN_PROGRESS", "Provisioning"),
        ("SUCCESS", "Ready"),
    ]


def test_entity_writes_with_run_id_are_listed_on_the_run(catalog: PortEmulator, port_api: PortApi) -> None:
    run_id = catalog.create_run("create_database")
    port_api.post(f"/v1/blueprints/database/entities?upsert=true&run_id={run_id}", json={"identifier": "db"})
    port_api.delete(f"/v1/blueprints/database/entities/db?delete_dependents=false&run_id={run_id}")
    changes = [(a.blueprint, a.identifier, a.change) for a in catalog.run(run_id).affected_entities]
    assert changes == [("database", "db", "upsert"), ("database", "db", "delete")]


def test_an_entity_write_with_an_unknown_run_id_is_404(catalog: PortEmulator, port_api: PortApi) -> None:
    answer = port_api.post(
        "/v1/blueprints/database/entities?upsert=true&run_id=r_0000000000000000", json={"identifier": "db"}
    )
    assert answer.status_code == 404
    assert catalog.entity("database", "db") is None


def test_executing_an_action_through_the_api_creates_a_run(catalog: PortEmulator, port_api: PortApi) -> None:
    catalog.add_entity("database", {"identifier": "orders"})
    answer = port_api.post(
        "/v1/actions/create_database/runs?run_as=ana@example.com",
        json={"properties": {"name": "orders"}, "entity": "orders"},
    )
    assert answer.status_code == 202
    run = answer.json()["run"]
    assert re.fullmatch(r"r_[A-Za-z0-9]{16}", run["id"])
    assert (run["source"], run["createdBy"], run["status"]) == ("API", "ana@example.com", "IN_PROGRESS")
    assert catalog.run(run["id"]).entity == "orders"


def test_executing_an_unknown_action_or_on_a_missing_entity_is_404(
    catalog: PortEmulator, port_api: PortApi
) -> None:
    assert port_api.post("/v1/actions/nope/runs", json={"properties": {}}).status_code == 404
    missing = port_api.post("/v1/actions/create_database/runs", json={"properties": {}, "entity": "ghost"})
    assert missing.status_code == 404
    assert catalog.runs() == []


def test_runs_can_be_found_by_external_run_id(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    port_api.emulator.create_run("create_database")
    port_api.patch(f"/v1/actions/runs/{run_id}", json={"externalRunId": "job-9"})
    found = port_api.get("/v1/actions/runs?external_run_id=job-9").json()["runs"]
    assert [run["id"] for run in found] == [run_id]
    assert len(port_api.get("/v1/actions/runs?active=true").json()["runs"]) == 2


def test_racing_terminal_reports_leave_exactly_one(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("create_database")
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda status: port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": status}),
                ["SUCCESS", "FAILURE"] * 5,
            )
        )
    assert sorted(answer.status_code for answer in answers) == [200] + [422] * 9
    run = port_api.emulator.run(run_id)
    assert len(run.terminal_reports) == 1
    assert len(run.refusals) == 9
