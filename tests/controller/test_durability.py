"""Nothing is lost and nothing is reported twice: a controller killed at any moment, two at once.

The controller here is the real ``port-bridge controller`` process, killed with SIGKILL while it
is blocked in a chosen step (Port's answer held back by the emulator's latency fault), then
replaced by a fresh process. Every run must still end in Port exactly once, with its entity.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest

from port_bridge.intake.app import create_app
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run
from tests.conftest import BRIDGE_NAMESPACE, Bridge, StartController, StartKratix, with_timeout
from tests.waiting import wait_for

POSTGRES = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")
ORDERS = {"name": "orders", "env": "prod", "teamId": "payments", "backupEnabled": True}


class ControllerProcess:
    """``port-bridge controller`` in its own process, pointed at the emulators."""

    def __init__(self, env: dict[str, str], identity: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "port_bridge", "controller"],
            env={**env, "PORT_BRIDGE_IDENTITY": identity},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)
        return self.process.stderr.read().decode() if self.process.stderr else ""


@pytest.fixture
def controllers(bridge_env: dict[str, str]) -> Iterator[Callable[[], ControllerProcess]]:
    env = {
        **bridge_env,
        "PORT_BRIDGE_LEASE_SECONDS": "2",
        "PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS": "1.5",
        "PORT_BRIDGE_LEASE_RETRY_SECONDS": "0.2",
        "PORT_BRIDGE_RESYNC_SECONDS": "1",
        "PORT_BRIDGE_PORT_RETRY_SECONDS": "120",
        "PORT_BRIDGE_LOG_LEVEL": "WARNING",
        "PORT_BRIDGE_CONTROLLER_BIND": "127.0.0.1:0",
    }
    started: list[ControllerProcess] = []

    def start() -> ControllerProcess:
        started.append(ControllerProcess(env, identity=f"controller-{len(started)}"))
        return started[-1]

    yield start
    for process in started:
        errors = process.terminate()
        assert "Traceback" not in errors, errors


@pytest.fixture
def slow_kratix_bridge(
    port: PortEmulator, intake_server: WsgiThread, cluster: KubeApiServer, start_kratix: StartKratix
) -> Bridge:
    kratix = start_kratix(timings=Timings(pickup=0.01, pipeline=0.5, works=0.05))
    return Bridge(port, intake_server, cluster, kratix)


def actionrun(kube_client: kubernetes.client.ApiClient, run_id: str) -> dict[str, Any]:
    found: dict[str, Any] = KubeObjects(kube_client).get(
        ACTIONRUNS, actionrun_name(run_id), namespace=BRIDGE_NAMESPACE
    )
    return found


def status(kube_client: kubernetes.client.ApiClient, run_id: str) -> dict[str, Any]:
    found: dict[str, Any] = actionrun(kube_client, run_id).get("status") or {}
    return found


def reconciled_was_reported(bridge: Bridge, run_id: str) -> bool:
    return any(log.message.startswith("Kratix: reconciled") for log in bridge.port.run(run_id).logs)


def ended_once_with_entity(bridge: Bridge, run_id: str, kube_client: kubernetes.client.ApiClient) -> Run:
    run = bridge.finished(run_id, timeout=30)
    assert run.status == "SUCCESS", [log.message for log in run.logs]
    assert len(run.terminal_reports) == 1
    assert bridge.port.entity("postgresql", "default.orders") is not None
    wait_for(lambda: status(kube_client, run_id).get("reported", {}).get("terminal"), timeout=10)
    journal = [entry["message"] for entry in status(kube_client, run_id)["journal"]]
    logged = [log.message for log in run.logs]
    assert all(line in logged for line in journal)  # nothing the controller recorded was lost on the way
    assert len(logged) <= len(set(logged)) + 2  # a kill may repeat the line that was in flight, no more
    assert bridge.port.spec_violations == []
    return run


def test_killed_while_following_kratix(
    slow_kratix_bridge: Bridge,
    controllers: Callable[[], ControllerProcess],
    kube_client: kubernetes.client.ApiClient,
) -> None:
    first = controllers()
    run_id = slow_kratix_bridge.click("create-postgresql", ORDERS)
    wait_for(
        lambda: any("running" in log.message for log in slow_kratix_bridge.port.run(run_id).logs),
        timeout=20,
        what="the run to report Kratix's pipeline running",
    )
    assert status(kube_client, run_id)["requests"]["main"]["submittedGeneration"] == 1  # recorded
    uid = KubeObjects(kube_client).get(POSTGRES, "orders", namespace="default")["metadata"]["uid"]
    first.kill()
    controllers()
    ended_once_with_entity(slow_kratix_bridge, run_id, kube_client)
    assert KubeObjects(kube_client).get(POSTGRES, "orders", namespace="default")["metadata"]["uid"] == uid


def test_killed_while_reporting_progress_to_port(
    bridge_without_controller: Bridge,
    controllers: Callable[[], ControllerProcess],
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = bridge_without_controller
    held = bridge.port.faults.latency(30, method="POST", path=r"/v1/actions/runs/.*/logs", times=None)
    first = controllers()
    run_id = bridge.click("create-postgresql", ORDERS)
    objects = KubeObjects(kube_client)
    wait_for(lambda: objects.list(POSTGRES, namespace="default")["items"], timeout=20)
    wait_for(lambda: held.hits > 0, what="the announcement's log line to be held by Port")
    assert "requests" not in status(kube_client, run_id)  # ...and the request created but not recorded
    first.kill()
    bridge.port.faults.remove(held)
    controllers()
    ended_once_with_entity(bridge, run_id, kube_client)


def test_killed_while_upserting_the_entity(
    bridge_without_controller: Bridge,
    controllers: Callable[[], ControllerProcess],
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = bridge_without_controller
    held = bridge.port.faults.latency(
        30, method="POST", path=r"/v1/blueprints/postgresql/entities", times=None
    )
    first = controllers()
    run_id = bridge.click("create-postgresql", ORDERS)
    wait_for(lambda: reconciled_was_reported(bridge, run_id), timeout=20)
    wait_for(lambda: held.hits > 0, what="the entity upsert to be held by Port")
    assert bridge.port.run(run_id).affected_entities == []
    first.kill()
    bridge.port.faults.remove(held)
    controllers()
    ended_once_with_entity(bridge, run_id, kube_client)


def test_killed_while_sending_the_terminal_status(
    bridge_without_controller: Bridge,
    controllers: Callable[[], ControllerProcess],
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = bridge_without_controller
    slow_upsert = bridge.port.faults.latency(1.0, method="POST", path=r"/v1/blueprints/postgresql/entities")
    first = controllers()
    run_id = bridge.click("create-postgresql", ORDERS)
    wait_for(lambda: reconciled_was_reported(bridge, run_id), timeout=20)
    held = bridge.port.faults.latency(30, method="PATCH", path=r"/v1/actions/runs/.*", times=None)
    wait_for(lambda: bridge.port.entity("postgresql", "default.orders") is not None, timeout=10)
    wait_for(lambda: held.hits > 0, what="the terminal PATCH to be held by Port")
    first.kill()
    bridge.port.faults.remove(held)
    bridge.port.faults.remove(slow_upsert)
    controllers()
    ended_once_with_entity(bridge, run_id, kube_client)


def test_a_crash_between_creating_the_request_and_recording_it_adopts_the_request(
    bridge_without_controller: Bridge,
    start_controller: StartController,
    kube_client: kubernetes.client.ApiClient,
    sample_requests: dict[str, Any],
) -> None:
    bridge = bridge_without_controller
    run_id = bridge.click("create-postgresql", ORDERS)
    request = {
        **sample_requests["postgresql"],
        "metadata": {
            "name": "orders",
            "namespace": "default",
            "annotations": {"port-bridge.io/run-id": run_id},
        },
    }
    request["spec"] = {"env": "prod", "teamId": "payments", "backupEnabled": True}
    KubeObjects(kube_client).create(POSTGRES, request, namespace="default")  # what the dead controller did
    start_controller()
    ended_once_with_entity(bridge, run_id, kube_client)


def test_two_controllers_only_the_leader_acts_and_the_other_takes_over(
    bridge_without_controller: Bridge,
    start_controller: StartController,
) -> None:
    bridge = bridge_without_controller
    a = start_controller(identity="controller-a")
    b = start_controller(identity="controller-b")
    wait_for(lambda: len(a.controllers) + len(b.controllers) == 1)
    leader, standby = (a, b) if a.controllers else (b, a)
    runs = [bridge.click("create-redis", {"name": f"cache-{n}"}) for n in range(3)]
    for run_id in runs:
        run = bridge.finished(run_id)
        assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
        assert len({log.message for log in run.logs}) == len(run.logs)  # nobody reported twice
    assert standby.controllers == []
    leader.stop()  # releases the lease on the way out
    wait_for(lambda: standby.controllers, timeout=5)
    after = bridge.run_to_end("create-redis", {"name": "cache-after"})
    assert after.status == "SUCCESS" and len(after.terminal_reports) == 1


def test_an_outcome_once_decided_is_the_one_reported_after_a_crash(
    port: PortEmulator,
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    start_kratix: StartKratix,
    controllers: Callable[[], ControllerProcess],
) -> None:
    """A timeout decided FAILURE; the controller dies while reporting it; Kratix then succeeds.
    The next leader reports the FAILURE that was decided, not a SUCCESS of its own."""
    start_kratix(timings=Timings(pickup=0.01, pipeline=4.0, works=0.05))
    app = create_app(bridge_settings, api_client=kube_client, actions=with_timeout(project_actions, 1.0))
    with WsgiThread(app) as intake:
        bridge = Bridge(port, intake, cluster)
        held = port.faults.latency(30, method="PATCH", path=r"/v1/actions/runs/", times=None)
        held.after = 1  # the announcement goes through; the terminal status is held
        first = controllers()
        run_id = bridge.click("create-redis", {"name": "cache"})
        wait_for(lambda: held.hits > 0, timeout=20, what="the terminal status to be held by Port")
        decided = status(kube_client, run_id)["outcome"]
        assert (decided["result"], decided["label"]) == ("FAILURE", "Timed out")
        first.kill()
        port.faults.remove(held)
        redis = Resource("marketplace.kratix.io", "v1alpha1", "redis")
        wait_for(
            lambda: any(
                c["type"] == "Reconciled" and c["status"] == "True"
                for c in KubeObjects(kube_client)
                .get(redis, "cache", namespace="default")
                .get("status", {})
                .get("conditions", [])
            ),
            timeout=20,
            what="Kratix to finish after all",
        )
        controllers()
        run = bridge.finished(run_id, timeout=30)
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert run.summary == decided["summary"]
