"""Reporting on runs: PATCH only what is given, logs, and the refusal of a finished run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from port_bridge.port import NotFound, PortClient, RunAlreadyFinished
from port_bridge_sandbox.port import PortEmulator
from tests.port.conftest import MakeClient

RUNS = "/v1/actions/runs/.*"


def test_get_run_reads_the_v2_run(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database", inputs={"name": "orders"})
    run = client.get_run(run_id)
    assert (run["id"], run["status"], run["properties"]) == (run_id, "IN_PROGRESS", {"name": "orders"})
    [call] = port.calls_matching("GET", RUNS)
    assert call.query == {"version": "v2"}


def test_an_unknown_run_is_not_found(port: PortEmulator, client: PortClient) -> None:
    with pytest.raises(NotFound) as raised:
        client.get_run("r_0000000000000000")
    assert (raised.value.status, raised.value.code) == (404, "not_found")
    assert raised.value.trace_id == port.calls_matching("GET", RUNS)[0].trace_id


def test_patch_run_sends_only_the_fields_given(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    client.patch_run(run_id, link="https://ci/1", summary="first")
    updated = client.patch_run(
        run_id, status_label="Provisioning", link=["https://ci/2", "https://logs/2"], external_run_id="job-7"
    )
    assert updated["statusLabel"] == "Provisioning"
    run = port.run(run_id)
    assert run.patches == [
        {"link": "https://ci/1", "summary": "first"},
        {"statusLabel": "Provisioning", "link": ["https://ci/2", "https://logs/2"], "externalRunId": "job-7"},
    ]
    assert (run.summary, run.status) == ("first", "IN_PROGRESS")


def test_patch_run_finishes_the_run(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    finished = client.patch_run(run_id, status="FAILURE", summary="quota exceeded")
    assert finished["status"] == "FAILURE"
    assert [change.via for change in port.run(run_id).terminal_reports] == ["PATCH"]


def test_patch_run_needs_a_field(port: PortEmulator, client: PortClient) -> None:
    with pytest.raises(ValueError, match="at least one field"):
        client.patch_run(port.create_run("create_database"))
    assert port.calls == []


def test_logs_are_added_and_one_can_finish_the_run(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    entry = client.add_run_log(run_id, "requested orders")
    assert (entry["runId"], entry["message"]) == (run_id, "requested orders")
    client.add_run_log(run_id, "ready", termination_status="SUCCESS", status_label="Ready")
    run = port.run(run_id)
    assert [log.message for log in run.logs] == ["requested orders", "ready"]
    assert (run.status, run.status_label) == ("SUCCESS", "Ready")


@pytest.mark.parametrize("late", ["patch", "log"])
def test_a_finished_run_raises_run_already_finished_without_retrying(
    port: PortEmulator, make_client: MakeClient, waits: list[float], late: str
) -> None:
    client = make_client()
    run_id = port.create_run("create_database")
    client.patch_run(run_id, status="SUCCESS")
    change: Callable[[], object] = (
        (lambda: client.patch_run(run_id, status="FAILURE", summary="late"))
        if late == "patch"
        else (lambda: client.add_run_log(run_id, "late"))
    )
    with pytest.raises(RunAlreadyFinished) as raised:
        change()
    assert (raised.value.status, raised.value.code, raised.value.attempts) == (422, "run_exhausted", 1)
    assert len(port.calls_matching(None, RUNS)) == 2
    assert waits == []
    run = port.run(run_id)
    assert (run.status, run.summary) == ("SUCCESS", None)
    assert [refusal.reason for refusal in run.refusals] == ["run_exhausted"]
