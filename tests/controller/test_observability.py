"""The controller's probes and metrics, over HTTP, as a kubelet and Prometheus see them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import kubernetes
import requests

from port_bridge.controller.leader import LeaderElector
from port_bridge.controller.observability import ControllerMetrics, health_app
from port_bridge.serving import WsgiThread
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
    assert (
        "port_bridge_work_queue_depth" in metrics
        and "port_bridge_reconcile_duration_seconds_count" in metrics
    )
    assert 'port_bridge_leader{identity="a"} 1.0' in metrics
    assert 'port_bridge_leader{identity="b"} 0.0' in get(standby_address, "/metrics").text


def _get(url: str) -> requests.Response | None:
    try:
        response = requests.get(url, timeout=2)
    except requests.ConnectionError:
        return None
    return response if response.ok else None


def test_the_leader_gauge_follows_leadership_as_it_changes(kube_client: kubernetes.client.ApiClient) -> None:
    replicas = {identity: Replica(kube_client, identity) for identity in ("a", "b")}
    a, b = replicas["a"], replicas["b"]
    try:
        a.start()
        wait_for(lambda: a.sample("port_bridge_leader") == 1.0, what="a to lead")
        b.start()
        wait_for(lambda: b.sample("port_bridge_leader") == 0.0, what="b to stand by")
        # What Prometheus scrapes from each replica's /metrics:
        a_metrics, b_metrics = _get(a.url + "/metrics"), _get(b.url + "/metrics")
        assert a_metrics is not None and b_metrics is not None
        assert 'port_bridge_leader{identity="a"} 1.0' in a_metrics.text
        assert 'port_bridge_leader_transitions_total{identity="a"} 1.0' in a_metrics.text
        assert 'port_bridge_leader{identity="b"} 0.0' in b_metrics.text
        assert 'port_bridge_leader_transitions_total{identity="b"}' not in b_metrics.text

        a.shut_down()  # releases the Lease; b takes over
        assert a.sample("port_bridge_leader") == 0.0  # set as it stepped down, before any scrape
        wait_for(lambda: b.sample("port_bridge_leader") == 1.0, what="b to lead")
        assert b.sample("port_bridge_leader_transitions_total") == 1.0
        assert a.sample("port_bridge_leader_transitions_total") == 1.0
    finally:
        for replica in replicas.values():
            replica.shut_down()


class Replica:
    """A controller replica's election and metrics, wired as ``port-bridge controller`` wires them,
    with the probes and metrics served over HTTP."""

    def __init__(self, client: kubernetes.client.ApiClient, identity: str) -> None:
        self.identity = identity
        self.metrics = ControllerMetrics()
        self.elector = LeaderElector(
            client,
            namespace="default",
            name="bridge",
            identity=identity,
            lease_seconds=2,
            renew_deadline_seconds=1.0,
            retry_seconds=0.1,
            on_change=self.metrics.leadership_changed,
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self.elector.run, args=(self.stop,), kwargs={"lead": _idle}, daemon=True
        )
        self.server = WsgiThread(
            health_app(self.metrics, leading=self.elector.leading, alive=lambda: True)
        ).start()
        self.url = self.server.url

    def start(self) -> None:
        self.thread.start()

    def sample(self, name: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, {"identity": self.identity})

    def shut_down(self) -> None:
        if not self.stop.is_set():
            self.stop.set()
            self.thread.join(5)
            self.server.stop()


def _idle(lost: threading.Event) -> None:
    """The leader's work, reduced to waiting until leadership ends."""
    lost.wait()
