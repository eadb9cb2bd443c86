"""The controller's probes and metrics, over HTTP, as a kubelet and Prometheus see them."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import requests

from tests.conftest import Bridge, RunningController
from tests.waiting import wait_for


def free_address() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_probes_and_metrics_of_a_leader_and_a_standby(
    bridge_without_controller: Bridge, start_controller: Callable[..., RunningController]
) -> None:
    leader_address, standby_address = free_address(), free_address()
    leader = start_controller(identity="a", controller_bind=leader_address)
    wait_for(lambda: leader.controllers)
    start_controller(identity="b", controller_bind=standby_address)
    run = bridge_without_controller.run_to_end("create-redis", {"name": "cache"})
    failed = bridge_without_controller.run_to_end("create-redis", {"name": "Bad Name"})
    assert (run.status, failed.status) == ("SUCCESS", "FAILURE")

    def get(address: str, path: str) -> Any:
        return wait_for(lambda: _get(f"http://{address}{path}"), timeout=10)

    assert get(leader_address, "/healthz").json() == {"status": "alive", "leading": True}
    assert get(standby_address, "/readyz").json() == {"ready": True, "role": "standby"}
    metrics = get(leader_address, "/metrics").text
    assert 'port_bridge_runs_finished_total{action="create-redis",result="SUCCESS"} 1.0' in metrics
    assert 'port_bridge_runs_finished_total{action="unknown",result="FAILURE"} 1.0' not in metrics
    assert 'port_bridge_runs_finished_total{action="create-redis",result="FAILURE"} 1.0' in metrics
    assert "port_bridge_leader 1.0" in metrics
    assert (
        "port_bridge_work_queue_depth" in metrics
        and "port_bridge_reconcile_duration_seconds_count" in metrics
    )
    assert "port_bridge_leader 0.0" in get(standby_address, "/metrics").text


def _get(url: str) -> requests.Response | None:
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response if response.ok else None
