"""The emulator as a server: lifecycle, Port's error shape, trace ids, body limits, recordings."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from port_bridge_sandbox.port import PortEmulator, PortSpec
from port_bridge_sandbox.shared import SharedDataMissing
from tests.conftest import PortApi
from tests.waiting import wait_for


def test_serves_on_loopback_with_a_free_port_each(port_spec_path: Path) -> None:
    with PortEmulator(spec_path=port_spec_path) as first, PortEmulator(spec_path=port_spec_path) as second:
        assert first.url.startswith("http://127.0.0.1:")
        assert first.url != second.url
        assert requests.get(first.url + "/v1/blueprints", timeout=5).status_code == 401


def test_stop_closes_the_port(port_spec_path: Path) -> None:
    emulator = PortEmulator(spec_path=port_spec_path).start()
    url = emulator.url
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v1/blueprints", timeout=2)
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url


def test_the_spec_is_loaded_once_and_shared_by_every_emulator(port_spec_path: Path) -> None:
    loaded = PortSpec.load(port_spec_path)
    with PortEmulator(spec_path=port_spec_path) as first, PortEmulator(spec_path=port_spec_path) as second:
        assert first.spec is loaded and second.spec is loaded


def test_stop_is_quick_with_a_request_in_flight(port_spec_path: Path) -> None:
    emulator = PortEmulator(spec_path=port_spec_path).start()
    held = emulator.faults.latency(30)
    outcome: list[object] = []

    def slow_request() -> None:
        try:
            outcome.append(requests.get(emulator.url + "/v1/blueprints", timeout=10).status_code)
        except requests.RequestException as error:
            outcome.append(error)

    client = threading.Thread(target=slow_request)
    client.start()
    wait_for(lambda: held.hits, what="the request to be held by the latency")
    emulator.stop()
    client.join(timeout=5)  # far less than the 30 s the request was held for: stopping cut it short
    assert not client.is_alive()
    assert outcome


def test_missing_spec_fails_construction_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "apispec.yaml"
    with pytest.raises(SharedDataMissing, match=r"Port's OpenAPI spec .* not found at .*apispec\.yaml"):
        PortEmulator(spec_path=missing)


def test_spec_is_parsed_once_per_path(port_spec_path: Path) -> None:
    assert PortSpec.load(port_spec_path) is PortSpec.load(port_spec_path)


def test_errors_have_ports_shape_and_every_answer_a_trace_id(port_api: PortApi) -> None:
    answers = [
        requests.get(port_api.emulator.url + "/v1/blueprints", timeout=5),  # 401
        port_api.get("/v1/blueprints/nothing-here"),  # 404
        port_api.get("/v1/no-such-route"),  # 404 (and a violation)
        port_api.patch("/v1/actions/runs/r_x", json={"status": "DONE"}),  # 422
        port_api.get("/v1/blueprints"),  # 200
    ]
    assert [a.status_code for a in answers] == [401, 404, 404, 422, 200]
    for answer in answers[:-1]:
        body = answer.json()
        assert body["ok"] is False
        assert isinstance(body["error"], str)
        assert isinstance(body["message"], str)
    traces = [a.headers["x-trace-id"] for a in answers]
    assert len(set(traces)) == len(traces)
    assert [c.trace_id for c in port_api.emulator.calls] == traces


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/auth/access_token"),
        ("PATCH", "/v1/actions/runs/r_0123456789abcdef"),
        ("POST", "/v1/blueprints/service/entities?upsert=true"),
        ("POST", "/v1/blueprints/service/entities/bulk?upsert=true"),
    ],
)
def test_bodies_over_one_mib_get_413(port_api: PortApi, method: str, path: str) -> None:
    oversized = '{"padding": "' + "x" * (1024 * 1024) + '"}'
    answer = port_api.request(method, path, data=oversized, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["ok"] is False
    assert "x-trace-id" in answer.headers


def test_body_limit_is_configurable(port_spec_path: Path) -> None:
    with PortEmulator(spec_path=port_spec_path, max_body_bytes=200) as emulator:
        run_id = emulator.create_run("deploy")
        url = f"{emulator.url}/v1/actions/runs/{run_id}"
        small = requests.patch(url, json={"summary": "s" * 100}, headers=emulator.auth_headers(), timeout=5)
        large = requests.patch(url, json={"summary": "s" * 300}, headers=emulator.auth_headers(), timeout=5)
    assert (small.status_code, large.status_code) == (200, 413)


def test_a_body_that_is_not_json_is_refused_and_recorded(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    wrong_type = port_api.patch(f"/v1/actions/runs/{run_id}", data="status=SUCCESS")
    broken = port_api.patch(
        f"/v1/actions/runs/{run_id}", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415
    assert broken.status_code == 422
    assert len(port_api.emulator.spec_violations) == 2
    assert port_api.emulator.run(run_id).status == "IN_PROGRESS"


def test_a_spec_route_the_emulator_lacks_is_501_and_no_violation(port_api: PortApi) -> None:
    answer = port_api.get("/v1/teams")
    assert answer.status_code == 501
    assert answer.json()["error"] == "not_implemented"
    assert port_api.emulator.spec_violations == []


def test_calls_are_recorded_with_query_body_status_and_response(port_api: PortApi) -> None:
    run_id = port_api.emulator.create_run("deploy")
    port_api.patch(f"/v1/actions/runs/{run_id}?version=v2", json={"statusLabel": "Provisioning"})
    port_api.get(f"/v1/actions/runs/{run_id}")
    patches = port_api.emulator.calls_matching("PATCH", r"/v1/actions/runs/r_\w+")
    assert len(patches) == 1
    call = patches[0]
    assert (call.method, call.path, call.query) == ("PATCH", f"/v1/actions/runs/{run_id}", {"version": "v2"})
    assert call.json == {"statusLabel": "Provisioning"}
    assert call.status == 200
    assert call.response["run"]["statusLabel"] == "Provisioning"
    assert call.violation is None
    assert len(port_api.emulator.calls_matching(None, f"/v1/actions/runs/{run_id}")) == 2
    port_api.emulator.clear_calls()
    assert port_api.emulator.calls == []


def test_recordings_never_hold_the_client_secret_or_a_token(port_emulator: PortEmulator) -> None:
    credentials = {"clientId": port_emulator.client_id, "clientSecret": port_emulator.client_secret}
    token = requests.post(port_emulator.url + "/v1/auth/access_token", json=credentials, timeout=5).json()
    headers = {"Authorization": f"Bearer {token['accessToken']}"}
    requests.get(port_emulator.url + "/v1/blueprints", headers=headers, timeout=5)
    recorded = repr(port_emulator.calls)
    assert port_emulator.calls[0].json == {"clientId": port_emulator.client_id, "clientSecret": "<redacted>"}
    assert port_emulator.client_secret not in recorded
    assert token["accessToken"] not in recorded
