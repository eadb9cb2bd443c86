"""Injected faults as a real HTTP client sees them: 429, 5xx, latency, dropped connections, outage."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import PortApi


def test_rate_limit_answers_429_with_ports_headers(port_api: PortApi) -> None:
    port_api.emulator.faults.rate_limit(retry_after=2, reset_after=30, limit=100, period=300)
    before = time.time()
    answer = port_api.get("/v1/blueprints")
    assert answer.status_code == 429
    assert answer.json()["ok"] is False
    headers = answer.headers
    assert headers["Retry-After"] == "2"
    assert (headers["x-ratelimit-limit"], headers["x-ratelimit-remaining"]) == ("100", "0")
    assert headers["x-ratelimit-period"] == "300"
    assert before + 29 <= int(headers["x-ratelimit-reset"]) <= time.time() + 31
    assert "x-trace-id" in headers
    assert port_api.get("/v1/blueprints").status_code == 200


def test_rate_limit_reset_can_be_seconds_from_now_without_retry_after(port_api: PortApi) -> None:
    port_api.emulator.faults.rate_limit(retry_after=None, reset_after=0.5, reset_format="seconds")
    answer = port_api.get("/v1/blueprints")
    assert answer.status_code == 429
    assert answer.headers["x-ratelimit-reset"] == "0.5"
    assert "Retry-After" not in answer.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(port_api: PortApi, status: int) -> None:
    rule = port_api.emulator.faults.server_error(status)
    answer = port_api.get("/v1/blueprints")
    assert answer.status_code == status
    assert answer.json()["ok"] is False
    assert rule.hits == 1
    assert port_api.get("/v1/blueprints").status_code == 200


def test_server_error_only_takes_5xx(port_api: PortApi) -> None:
    with pytest.raises(ValueError, match="5xx"):
        port_api.emulator.faults.server_error(404)


def test_a_fault_applies_n_times_to_matching_method_and_path_only(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    port_api.emulator.faults.server_error(503, method="PATCH", path=r"^/v1/actions/runs/", times=2)
    assert port_api.get(f"/v1/actions/runs/{run_id}").status_code == 200
    statuses = [
        port_api.patch(f"/v1/actions/runs/{run_id}", json={"summary": "s"}).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert len(port_api.emulator.run(run_id).patches) == 1


def test_a_fault_without_a_count_lasts_until_removed(port_api: PortApi) -> None:
    rule = port_api.emulator.faults.server_error(500, times=None)
    assert [port_api.get("/v1/blueprints").status_code for _ in range(3)] == [500, 500, 500]
    port_api.emulator.faults.remove(rule)
    assert port_api.get("/v1/blueprints").status_code == 200
    port_api.emulator.faults.rate_limit(times=None)
    port_api.emulator.faults.clear()
    assert port_api.get("/v1/blueprints").status_code == 200


def test_latency_delays_the_answer(port_api: PortApi) -> None:
    port_api.emulator.faults.latency(0.3, path="/v1/blueprints$")
    started = time.monotonic()
    assert port_api.get("/v1/blueprints").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    port_api.get("/v1/blueprints")
    assert time.monotonic() - started < 0.3


def test_latency_makes_a_client_time_out(port_api: PortApi) -> None:
    port_api.emulator.faults.latency(1.0)
    with pytest.raises(requests.Timeout):
        requests.get(
            port_api.emulator.url + "/v1/blueprints", headers=port_api.emulator.auth_headers(), timeout=0.2
        )


def test_a_dropped_connection_is_a_connection_error_and_is_recorded(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    port_api.emulator.faults.drop_connection(method="PATCH")
    with pytest.raises(requests.ConnectionError):
        port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "SUCCESS"})
    assert port_api.emulator.run(run_id).status == "IN_PROGRESS"
    [dropped] = port_api.emulator.calls_matching("PATCH", ".*")
    assert (dropped.status, dropped.fault, dropped.json) == (None, "drop", {"status": "SUCCESS"})
    assert port_api.patch(f"/v1/actions/runs/{run_id}", json={"status": "SUCCESS"}).status_code == 200


def test_port_down_answers_503_to_everything_until_cleared(port_api: PortApi) -> None:
    emulator = port_api.emulator
    emulator.faults.port_down()
    credentials = {"clientId": emulator.client_id, "clientSecret": emulator.client_secret}
    token = requests.post(emulator.url + "/v1/auth/access_token", json=credentials, timeout=5)
    assert token.status_code == 503
    assert port_api.get("/v1/blueprints").status_code == 503
    assert port_api.get("/v1/no-such-route").status_code == 503
    assert emulator.spec_violations == []
    emulator.faults.port_up()
    assert port_api.get("/v1/blueprints").status_code == 200


def test_faulted_requests_are_recorded(port_api: PortApi) -> None:
    port_api.emulator.faults.rate_limit()
    port_api.emulator.faults.server_error(502)
    port_api.get("/v1/blueprints")
    port_api.get("/v1/blueprints")
    port_api.get("/v1/blueprints")
    assert [(c.status, c.fault) for c in port_api.emulator.calls] == [
        (429, "rate_limit"),
        (502, "server_error"),
        (200, None),
    ]


def test_a_counted_fault_hits_exactly_n_of_concurrent_requests(port_api: PortApi) -> None:
    rule = port_api.emulator.faults.server_error(503, times=3)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: port_api.get("/v1/blueprints").status_code, range(10)))
    assert sorted(statuses) == [200] * 7 + [503] * 3
    assert rule.hits == 3
