"""Retries against a misbehaving Port: 429 storms, 5xx, dropped connections, timeouts, giving up."""

from __future__ import annotations

import logging

import pytest
import tenacity

from port_bridge.port import NotFound, PortApiError, PortClient, PortUnavailable
from port_bridge.port.retry import RetryableAnswer, RetryPolicy
from port_bridge_sandbox.port import PortEmulator
from tests.port.conftest import FakeClock, MakeClient

RUNS = "/v1/actions/runs/.*"


def test_a_429_storm_waits_what_retry_after_says(
    port: PortEmulator, client: PortClient, waits: list[float]
) -> None:
    run_id = port.create_run("create_database")
    port.faults.rate_limit(retry_after=7, reset_after=30, method="GET", times=3)
    assert client.get_run(run_id)["id"] == run_id
    assert waits == [7, 7, 7]
    assert [call.status for call in port.calls_matching("GET", RUNS)] == [429, 429, 429, 200]


def test_without_retry_after_the_reset_header_in_seconds_is_used(
    port: PortEmulator, client: PortClient, waits: list[float]
) -> None:
    run_id = port.create_run("create_database")
    port.faults.rate_limit(retry_after=None, reset_after=12, reset_format="seconds", times=2)
    client.patch_run(run_id, summary="ok")
    assert waits == [12, 12]
    assert len(port.run(run_id).patches) == 1


def test_without_retry_after_the_reset_header_as_an_epoch_is_used(
    port: PortEmulator, make_client: MakeClient, waits: list[float]
) -> None:
    clock = FakeClock()
    client = make_client(clock=clock)
    run_id = port.create_run("create_database")
    port.faults.rate_limit(retry_after=None, reset_after=30, reset_format="epoch")
    client.get_run(run_id)
    [wait] = waits
    assert 29 < wait <= 30.5  # the emulator truncates the epoch to whole seconds


def test_each_wait_is_capped(port: PortEmulator, make_client: MakeClient, waits: list[float]) -> None:
    client = make_client(max_wait_seconds=60)
    port.faults.rate_limit(retry_after=120, times=2)
    client.get_run(port.create_run("create_database"))
    assert waits == [60, 60]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_storm_backs_off_exponentially_then_succeeds(
    port: PortEmulator, client: PortClient, waits: list[float], status: int
) -> None:
    run_id = port.create_run("create_database")
    port.faults.server_error(status, method="PATCH", times=3)
    client.patch_run(run_id, status="SUCCESS")
    assert [int(wait) for wait in waits] == [1, 2, 4]  # 1, 2, 4 s plus up to 1 s of jitter
    assert port.run(run_id).status == "SUCCESS"
    assert len(port.calls_matching("PATCH", RUNS)) == 4


def test_dropped_connections_are_retried(port: PortEmulator, client: PortClient, waits: list[float]) -> None:
    run_id = port.create_run("create_database")
    port.faults.drop_connection(method="POST", path="/logs$", times=2)
    client.add_run_log(run_id, "started")
    assert [log.message for log in port.run(run_id).logs] == ["started"]
    assert [call.status for call in port.calls_matching("POST", RUNS)] == [None, None, 201]
    assert len(waits) == 2


def test_an_answer_slower_than_the_timeout_is_retried(
    port: PortEmulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(timeout=0.2)
    run_id = port.create_run("create_database")
    client.get_run(run_id)
    slow = port.faults.latency(1.0, method="GET", times=1)
    assert client.get_run(run_id)["id"] == run_id
    assert len(waits) == 1
    assert slow.hits == 1
    # The emulator records the slow call only once its delay is over, after the retry answered.
    assert [call.status for call in port.calls_matching("GET", RUNS)] == [200, 200]


def test_it_gives_up_when_the_budget_is_spent(
    port: PortEmulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(max_retry_seconds=30)
    run_id = port.create_run("create_database")
    client.get_run(run_id)
    port.clear_calls()
    port.faults.port_down()
    with pytest.raises(PortUnavailable) as raised:
        client.patch_run(run_id, status="SUCCESS")
    assert [int(wait) for wait in waits] == [1, 2, 4, 8]  # the next one, 16 s, would pass 30 s
    assert sum(waits) <= 30
    assert (raised.value.status, raised.value.attempts) == (503, 5)
    assert len(port.calls) == 5
    assert port.run(run_id).status == "IN_PROGRESS"


def test_it_gives_up_at_once_when_port_asks_for_more_than_the_budget(
    port: PortEmulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(max_retry_seconds=30)
    run_id = port.create_run("create_database")
    client.get_run(run_id)
    port.faults.rate_limit(retry_after=45, times=None)
    with pytest.raises(PortUnavailable) as raised:
        client.get_run(run_id)
    assert waits == []
    assert (raised.value.status, raised.value.attempts) == (429, 1)
    assert raised.value.trace_id == port.calls_matching("GET", RUNS)[-1].trace_id


def test_refusals_are_not_retried_and_their_messages_not_logged(
    port: PortEmulator, client: PortClient, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="port_bridge")
    with pytest.raises(NotFound):
        client.patch_run("r_0000000000000000", summary="nobody")
    with pytest.raises(PortApiError) as raised:
        client.upsert_entity("database", {"identifier": "db", "properties": {"engine": "oracle"}})
    assert (raised.value.status, raised.value.code) == (422, "invalid_request")
    assert "oracle" in raised.value.message  # Port quotes the value sent: kept for the caller only
    assert "oracle" not in caplog.text
    assert waits == []
    assert len(port.calls_matching(None, "/v1/(actions|blueprints)/.*")) == 2


def test_failures_are_logged_with_port_trace_id(
    port: PortEmulator, client: PortClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="port_bridge")
    run_id = port.create_run("create_database")
    port.faults.server_error(503, method="GET")
    client.get_run(run_id)
    failed = port.calls_matching("GET", RUNS)[0]
    [record] = [r for r in caplog.records if getattr(r, "status", None) == 503]
    assert record.levelno == logging.WARNING
    assert (record.__dict__["trace_id"], record.__dict__["method"], record.__dict__["path"]) == (
        failed.trace_id,
        "GET",
        f"/v1/actions/runs/{run_id}",
    )
    assert failed.trace_id in record.getMessage()
    assert any("retrying in" in r.getMessage() for r in caplog.records)


def _policy(waits: list[float], *, budget: float) -> RetryPolicy:
    return RetryPolicy(max_wait_seconds=60, max_retry_seconds=budget, sleep=waits.append, clock=FakeClock(0))


def test_the_policy_stops_before_a_wait_that_would_pass_the_budget() -> None:
    waits: list[float] = []
    tries: list[int] = []

    def always_limited() -> None:
        tries.append(1)
        raise RetryableAnswer(status=429, headers={"Retry-After": "10"}, trace_id=None)

    with pytest.raises(tenacity.RetryError):
        _policy(waits, budget=35).retrying(method="GET", path="/v1/x")(always_limited)
    assert waits == [10, 10, 10]
    assert len(tries) == 4


def test_the_policy_does_not_retry_other_errors() -> None:
    waits: list[float] = []

    def broken() -> None:
        raise ValueError("not Port's fault")

    with pytest.raises(ValueError, match="not Port's fault"):
        _policy(waits, budget=300).retrying(method="GET", path="/v1/x")(broken)
    assert waits == []
