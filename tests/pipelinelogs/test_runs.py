"""A run's Kratix pipeline Pods' logs in its Port run, end to end on the emulators.

The test plays the Job controller and the kubelet as the simulator will: it creates the pipeline
Pod with the labels of the Job Kratix created for the request, and writes the container's output
through the Kubernetes emulator's PodLogs. Port's run logs are read back over HTTP. Kratix is the
simulator, its pipeline held running (``hang``) until the test lets the request reconcile (a new
generation, which the run counts as done) or the action's timeout ends the run.
"""

from __future__ import annotations

import logging
from typing import Any

import kubernetes
import pytest
from kubernetes.client import BatchV1Api, CoreV1Api

from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge_sandbox.kratix import Behaviour, Era
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import Bridge, MakeBridge, PortApi, StartController, with_timeout
from tests.waiting import wait_for

POSTGRES = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")
ORDERS = {"name": "orders", "env": "dev"}
PIPELINE = "instance-configure"
STEP = "migrate"  # the test's own container: the simulator's pipelines write to theirs, never to it
MINE = f"[{PIPELINE}/{STEP}]"  # how Port shows its lines
KRATIX_IMAGE = "ghcr.io/syntasso/kratix-platform-pipeline-adapter"


def port_logs(port_api: PortApi, run_id: str) -> list[str]:
    """The run's log messages, as Port's API pages them."""
    messages: list[str] = []
    while True:
        answer = port_api.get(
            f"/v1/actions/runs/{run_id}/logs", params={"limit": 50, "offset": len(messages)}
        )
        assert answer.status_code == 200, answer.text
        page = [entry["message"] for entry in answer.json()["runLogs"]]
        messages += page
        if len(page) < 50:
            return messages


def pipeline_pod(
    kube_client: kubernetes.client.ApiClient,
    *,
    name: str = "orders",
    promise: str = "postgresql",
    suffix: str = "test",
) -> str:
    """A Pod for the request's current pipeline Job, as the Job controller makes it; its name."""
    selector = f"kratix.io/promise-name={promise},kratix.io/resource-name={name}"
    jobs = wait_for(
        lambda: BatchV1Api(kube_client).list_namespaced_job("default", label_selector=selector).items,
        what=f"Kratix's pipeline Job for {name}",
    )
    metadata = jobs[-1].metadata
    assert metadata is not None and metadata.name
    labels = {**(metadata.labels or {}), "job-name": metadata.name}
    pod_name = f"{metadata.name}-{suffix}"
    body: Any = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": "default", "labels": labels},
        "spec": {
            "initContainers": [
                {"name": "reader", "image": KRATIX_IMAGE},
                {"name": STEP, "image": "ghcr.io/port-bridge/postgresql-pipeline:v0.1.0"},
                {"name": "work-writer", "image": KRATIX_IMAGE},
            ],
            "containers": [{"name": "status-writer", "image": KRATIX_IMAGE}],
        },
    }
    CoreV1Api(kube_client).create_namespaced_pod("default", body)
    return pod_name


def write(kube: KubeApiServer, pod: str, text: str, *, container: str = STEP) -> None:
    kube.pod_logs.write("default", pod, text, container=container)


def reconcile_now(bridge: Bridge, kube_client: kubernetes.client.ApiClient) -> None:
    """Let Kratix finish: the next generation of the request runs without hanging, and reconciles."""
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour())
    KubeObjects(kube_client).patch(POSTGRES, "orders", {"spec": {"teamId": "next"}}, namespace="default")


def hung_bridge(
    make_bridge: MakeBridge,
    *,
    actions: dict[str, ActionConfig] | None = None,
    poll_seconds: float = 0.05,
    max_lines: int = 200,
    max_bytes: int = 32 * 1024,
) -> Bridge:
    """A bridge whose Kratix pipelines keep running until the test lets them end."""
    bridge = make_bridge(
        actions=actions,
        pipeline_log_poll_seconds=poll_seconds,
        pipeline_log_max_lines=max_lines,
        pipeline_log_max_bytes=max_bytes,
    )
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="hang"))
    return bridge


def test_pipeline_lines_reach_the_port_run_as_they_come_and_before_its_end(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge)
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "reading the request\n", container="reader")
    write(bridge.kube, pod, "creating database orders\nsizing: 1Gi\n")
    wait_for(lambda: f"{MINE} sizing: 1Gi" in port_logs(port_api, run_id), what="the first lines in Port")
    assert bridge.port.run(run_id).status == "IN_PROGRESS"  # they came while the pipeline ran
    write(bridge.kube, pod, "done")  # the last line, without a newline, as the container ends
    bridge.kube.pod_logs.close("default", pod, container=STEP)
    reconcile_now(bridge, kube_client)
    run = bridge.finished(run_id)
    assert run.status == "SUCCESS"
    assert run.refusals == []  # nothing came after the terminal status
    logged = port_logs(port_api, run_id)
    expected = [
        f"[{PIPELINE}/reader] reading the request",
        f"{MINE} creating database orders",
        f"{MINE} sizing: 1Gi",
        f"{MINE} done",
    ]
    assert [line for line in logged if line in expected] == expected  # each once, in order
    reconciled = next(i for i, line in enumerate(logged) if line.startswith("Kratix: reconciled"))
    assert logged.index(expected[-1]) < reconciled


@pytest.mark.parametrize("era", list(Era))
def test_every_kratix_eras_pipeline_pods_are_found(
    era: Era, make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = make_bridge(era=era, pipeline_log_poll_seconds=0.05)
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="hang"))
    run_id = bridge.click("create-postgresql", ORDERS)
    write(bridge.kube, pipeline_pod(kube_client), f"configuring in the {era} era\n")
    wait_for(lambda: f"{MINE} configuring in the {era} era" in port_logs(port_api, run_id), what="the line")


def test_a_run_of_several_requests_shows_each_ones_pipelines(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge)
    inputs = {"name": "billing", "language": "Go", "tier": "standard", "includeDatabase": True}
    run_id = bridge.click("create-service", inputs)
    service = pipeline_pod(kube_client, promise="service", name="billing")
    database = pipeline_pod(kube_client, promise="postgresql", name="billing-db")
    write(bridge.kube, service, "scaffolding the repository\n")
    write(bridge.kube, database, "creating database billing\n")
    service_line = f"[service-configure/{STEP}] scaffolding the repository"

    def both() -> bool:
        logged = port_logs(port_api, run_id)
        return service_line in logged and f"{MINE} creating database billing" in logged

    wait_for(both, what="both requests' lines")


def test_the_last_lines_are_flushed_before_the_terminal_status(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge, poll_seconds=3600.0)  # only the flush reads them
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "migrated 12 tables\n")
    reconcile_now(bridge, kube_client)
    run = bridge.finished(run_id)
    assert run.status == "SUCCESS"
    assert f"{MINE} migrated 12 tables" in port_logs(port_api, run_id)
    assert run.refusals == []


def test_bounds_cut_the_log_with_a_line_saying_how_to_see_the_rest(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge, max_lines=3)
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "".join(f"step {n}\n" for n in range(1, 8)))
    wait_for(lambda: any("cut here" in line for line in port_logs(port_api, run_id)), what="the cut")
    write(bridge.kube, pod, "step 8\n")
    reconcile_now(bridge, kube_client)
    assert bridge.finished(run_id).status == "SUCCESS"
    logged = port_logs(port_api, run_id)
    assert [line for line in logged if line.startswith(MINE)] == [f"{MINE} step {n}" for n in (1, 2, 3)]
    [notice] = [line for line in logged if "cut here" in line]
    assert "PORT_BRIDGE_PIPELINE_LOG_MAX_LINES" in notice
    assert notice.endswith(
        "kubectl logs -n default -l kratix.io/promise-name=postgresql,kratix.io/resource-name=orders"
        " --all-containers --prefix --tail=-1"
    )


def test_the_byte_bound_counts_what_port_gets(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    prefix = f"{MINE} "
    bridge = hung_bridge(make_bridge, max_bytes=2 * len(prefix + "0123456789"))
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "0123456789\n" * 3)
    wait_for(lambda: any("cut here" in line for line in port_logs(port_api, run_id)), what="the cut")
    assert [line for line in port_logs(port_api, run_id) if line.startswith(prefix)] == [
        prefix + "0123456789"
    ] * 2


def test_secrets_are_masked(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi, port: PortEmulator
) -> None:
    bridge = hung_bridge(make_bridge)
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(
        bridge.kube,
        pod,
        f"calling Port with {port.client_secret}\n"
        "DB_PASSWORD=hunter2 user=orders\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
        "postgres://orders:s3cret@db:5432/orders ready\n",
    )
    wait_for(lambda: any("ready" in line for line in port_logs(port_api, run_id)), what="the lines")
    mine = [line for line in port_logs(port_api, run_id) if line.startswith(MINE)]
    assert mine == [
        f"{MINE} calling Port with ***",
        f"{MINE} DB_PASSWORD=*** user=orders",
        f"{MINE} ***",
        f"{MINE} ***",
        f"{MINE} ***",
        f"{MINE} postgres://orders:***@db:5432/orders ready",
    ]
    assert all(secret not in "".join(port_logs(port_api, run_id)) for secret in ("hunter2", "s3cret", "MIIE"))


def test_a_pods_log_refusal_does_not_change_the_outcome(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge)
    refusal = bridge.kube.emulator.faults.refuse(
        403, verb="get", plural="pods", subresource="log", times=None
    )
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "you will not see me\n")
    wait_for(lambda: refusal.hits >= 2, what="the poller to be refused")
    reconcile_now(bridge, kube_client)
    run = bridge.finished(run_id)
    assert run.status == "SUCCESS"
    assert len(run.terminal_reports) == 1
    assert not any(line.startswith(MINE) for line in port_logs(port_api, run_id))


def test_a_refusal_is_logged_once_per_run_and_a_container_not_started_is_no_failure(
    make_bridge: MakeBridge,
    kube_client: kubernetes.client.ApiClient,
    port_api: PortApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="port_bridge.pipelinelogs")
    bridge = hung_bridge(make_bridge)
    faults = bridge.kube.emulator.faults
    waiting = faults.refuse(
        400,
        "BadRequest",
        "container is waiting to start",
        verb="get",
        plural="pods",
        subresource="log",
        times=3,
    )
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "started late\n")
    wait_for(lambda: f"{MINE} started late" in port_logs(port_api, run_id), what="the line")
    assert waiting.hits == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], (
        "a container not started is normal"
    )
    refused = faults.refuse(403, verb="get", plural="pods", subresource="log", times=None)
    write(bridge.kube, pod, "unseen for now\n")
    wait_for(lambda: refused.hits >= 3, what="several refused polls")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["cannot read pipeline logs yet (the run goes on): 403 Forbidden"]
    faults.remove(refused)
    wait_for(lambda: f"{MINE} unseen for now" in port_logs(port_api, run_id), what="the line after")
    assert "pipeline logs readable again" in [r.getMessage() for r in caplog.records]


def test_the_pods_of_another_request_are_not_read(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient, port_api: PortApi
) -> None:
    bridge = hung_bridge(make_bridge)
    other_id = bridge.click("create-postgresql", {"name": "carts", "env": "dev"})
    other_pod = pipeline_pod(kube_client, name="carts")
    write(bridge.kube, other_pod, "carts only\n")
    wait_for(lambda: f"{MINE} carts only" in port_logs(port_api, other_id), what="carts' line")
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "orders only\n")
    wait_for(lambda: f"{MINE} orders only" in port_logs(port_api, run_id), what="orders' line")
    assert f"{MINE} carts only" not in port_logs(port_api, run_id)
    assert f"{MINE} orders only" not in port_logs(port_api, other_id)


def test_a_new_controller_goes_on_where_the_last_one_stopped(
    bridge_without_controller: Bridge,
    start_controller: StartController,
    kube_client: kubernetes.client.ApiClient,
    port_api: PortApi,
) -> None:
    bridge = bridge_without_controller
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="hang"))
    first = start_controller(pipeline_log_poll_seconds=0.05)
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "one\ntwo\n")
    wait_for(lambda: f"{MINE} two" in port_logs(port_api, run_id), what="the first lines")
    first.stop()
    write(bridge.kube, pod, "three\n")
    start_controller(identity="controller-b", pipeline_log_poll_seconds=0.05)
    wait_for(lambda: f"{MINE} three" in port_logs(port_api, run_id), what="the successor's line")
    reconcile_now(bridge, kube_client)
    assert bridge.finished(run_id, timeout=30).status == "SUCCESS"
    mine = [line for line in port_logs(port_api, run_id) if line.startswith(MINE)]
    assert mine == [f"{MINE} {word}" for word in ("one", "two", "three")]


@pytest.mark.parametrize("ended", [True, False])
def test_a_run_that_times_out_still_shows_what_its_pipeline_said(
    ended: bool,
    make_bridge: MakeBridge,
    kube_client: kubernetes.client.ApiClient,
    port_api: PortApi,
    project_actions: dict[str, ActionConfig],
) -> None:
    bridge = hung_bridge(make_bridge, actions=with_timeout(project_actions, 2.0), poll_seconds=3600.0)
    run_id = bridge.click("create-postgresql", ORDERS)
    pod = pipeline_pod(kube_client)
    write(bridge.kube, pod, "waiting for the cloud provider\nstill wait")
    if ended:
        bridge.kube.pod_logs.close("default", pod, container=STEP)
    run = bridge.finished(run_id)
    assert run.status == "FAILURE"
    mine = [line for line in port_logs(port_api, run_id) if line.startswith(MINE)]
    # the last line is unfinished: at the end it is shown as it is
    assert mine == [f"{MINE} waiting for the cloud provider", f"{MINE} still wait"]


def test_the_projects_real_pipeline_prints_into_the_port_run(
    make_bridge: MakeBridge, port_api: PortApi, pipelines_python: object
) -> None:
    """End to end with the Promise's own pipeline process: what it prints is what the developer reads."""
    bridge = make_bridge(pipelines=True, pipeline_log_poll_seconds=0.2)
    assert bridge.kratix is not None and bridge.kratix.runs_pipelines
    run_id = bridge.click("create-postgresql", ORDERS)
    run = bridge.finished(run_id, timeout=120)
    assert run.status == "SUCCESS", run.summary
    printed = [line for line in port_logs(port_api, run_id) if line.startswith(f"[{PIPELINE}")]
    assert any("postgresql.yaml" in line for line in printed), printed
    assert run.refusals == []
