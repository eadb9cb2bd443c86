"""Runs that must end as FAILURE, each with a summary that names the cause, and runs that wait."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.mapping.actions import ActionConfig, load_action_file
from port_bridge_sandbox.kratix import Behaviour, Era, KratixSimulator
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import Run
from tests.conftest import REPO, Bridge, MakeBridge, with_timeout
from tests.waiting import wait_for

POSTGRES = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")
ORDERS = {"name": "orders", "env": "dev"}


def failed(run: Run, *, summary: str) -> None:
    assert run.status == "FAILURE", [log.message for log in run.logs]
    assert summary in (run.summary or ""), run.summary
    assert len(run.terminal_reports) == 1


def kratix_of(bridge: Bridge) -> KratixSimulator:
    assert bridge.kratix is not None
    return bridge.kratix


@pytest.mark.parametrize("era", [Era.Y2024, Era.CURRENT])
def test_a_failed_pipeline_fails_the_run_with_kratixs_message(era: Era, make_bridge: MakeBridge) -> None:
    bridge = make_bridge(era=era)
    kratix_of(bridge).behave(Behaviour(configure="fail"))
    run = bridge.run_to_end("create-postgresql", ORDERS)
    failed(run, summary="A Configure Pipeline has failed: instance-configure")
    assert run.status_label == "Pipeline failed"
    assert bridge.port.entity("postgresql", "default.orders") is None


def test_a_legacy_kratix_failure_is_found_on_the_pipeline_job(make_bridge: MakeBridge) -> None:
    bridge = make_bridge(era=Era.LEGACY)
    kratix_of(bridge).behave(Behaviour(configure="fail"))
    run = bridge.run_to_end("create-postgresql", ORDERS)
    failed(run, summary="configure pipeline instance-configure failed (its Job failed)")


@pytest.mark.parametrize(
    ("behaviour", "stuck_at"),
    [
        (Behaviour(works="pending"), "works are not scheduled yet"),
        (Behaviour(configure="hang"), "configure pipeline instance-configure running (1 of 1)"),
        (
            Behaviour(configure="suspend", suspend_message="waiting for a DBA"),
            "pipeline instance-configure suspended: waiting for a DBA",
        ),
    ],
)
def test_what_kratix_never_fails_ends_at_the_actions_timeout(
    behaviour: Behaviour,
    stuck_at: str,
    make_bridge: MakeBridge,
    project_actions: dict[str, ActionConfig],
) -> None:
    bridge = make_bridge(actions=with_timeout(project_actions, 2.0))
    kratix_of(bridge).behave(behaviour)
    run = bridge.run_to_end("create-postgresql", ORDERS)
    failed(run, summary=f"Kratix did not finish within 2 s; it was at: {stuck_at}")
    assert run.status_label == "Timed out"


def test_a_name_someone_else_took_is_refused(
    bridge: Bridge, kube_client: kubernetes.client.ApiClient, sample_requests: dict[str, Any]
) -> None:
    existing = copy.deepcopy(sample_requests["postgresql"])
    existing["metadata"] = {"name": "orders", "namespace": "default"}
    KubeObjects(kube_client).create(POSTGRES, existing, namespace="default")
    run = bridge.run_to_end("create-postgresql", ORDERS)
    failed(run, summary="a postgresql default/orders already exists (not created through port-bridge)")
    assert KubeObjects(kube_client).get(POSTGRES, "orders", namespace="default")["spec"]["dbName"] == "bestdb"


def test_a_missing_namespace_is_named(bridge: Bridge, kube_client: kubernetes.client.ApiClient) -> None:
    kubernetes.client.CoreV1Api(kube_client).delete_namespace("team-b")
    run = bridge.run_to_end("create-postgresql", {**ORDERS, "namespace": "team-b"})
    failed(run, summary='namespaces "team-b" not found')


def test_changing_a_request_that_no_longer_exists(bridge: Bridge) -> None:
    bridge.port.add_entity(
        "postgresql",
        {
            "identifier": "default.gone",
            "title": "gone",
            "properties": {"namespace": "default", "requestName": "gone"},
        },
    )
    run = bridge.run_to_end("update-postgresql", {"env": "prod"}, entity="default.gone")
    failed(run, summary="postgresql default/gone does not exist; the catalog entity may be out of date")


def test_a_request_deleted_under_a_running_create(
    bridge: Bridge, kube_client: kubernetes.client.ApiClient
) -> None:
    kratix_of(bridge).behave(Behaviour(configure="hang"))
    run_id = bridge.click("create-postgresql", ORDERS)
    objects = KubeObjects(kube_client)
    wait_for(lambda: objects.list(POSTGRES, namespace="default")["items"])
    objects.delete(POSTGRES, "orders", namespace="default")
    failed(bridge.finished(run_id), summary="deleted outside this run")


def test_an_unavailable_promise_makes_the_run_wait_not_fail(bridge: Bridge) -> None:
    kratix = kratix_of(bridge)
    kratix.set_promise_available("postgresql", False)
    run_id = bridge.click("create-postgresql", ORDERS)
    wait_for(lambda: any("Promise is unavailable" in log.message for log in bridge.port.run(run_id).logs))
    assert bridge.port.run(run_id).status == "IN_PROGRESS"
    kratix.set_promise_available("postgresql", True)
    assert bridge.finished(run_id).status == "SUCCESS"


@pytest.fixture
def rds_actions(
    tmp_path: Path,
    project_actions: dict[str, ActionConfig],
    cluster: KubeApiServer,
    marketplace_promises: dict[str, Any],
) -> dict[str, ActionConfig]:
    """Create/delete actions for aws-rds, whose two pipelines and delete pipeline the others lack."""
    cluster.apply(marketplace_promises["aws-rds"])
    configs = dict(project_actions)
    for source, target in (("create-redis", "create-rds"), ("delete-redis", "delete-rds")):
        document = yaml.safe_load((REPO / "actions" / f"{source}.yaml").read_text())
        document["action"]["identifier"] = target
        document["action"]["trigger"]["blueprintIdentifier"] = "redis"
        document["kratix"]["promise"] = "aws-rds"
        if "entity" in document:
            document["entity"]["properties"] = (
                "{namespace: .request.metadata.namespace, requestName: .request.metadata.name}"
            )
        if "spec" in document["kratix"]:
            document["kratix"]["spec"] = '{dbName: "orders", engine: "postgres"}'
            document["action"]["trigger"]["userInputs"]["properties"].pop("size")
            document["action"]["trigger"]["userInputs"]["order"].remove("size")
        path = tmp_path / f"{target}.yaml"
        path.write_text(yaml.safe_dump(document))
        configs[target] = load_action_file(path)
    return configs


def test_multi_pipeline_progress_and_a_failed_delete_pipeline(
    make_bridge: MakeBridge, rds_actions: dict[str, ActionConfig]
) -> None:
    bridge = make_bridge(actions=rds_actions)
    for name in ("create-rds", "delete-rds"):
        bridge.port.add_action(rds_actions[name].raw_action)
    kratix_of(bridge).behave(Behaviour(delete="fail"), promise="aws-rds")
    created = bridge.run_to_end("create-rds", {"name": "orders"})
    assert created.status == "SUCCESS"
    messages = [log.message for log in created.logs]
    assert "Kratix: configure pipeline rds-configure running (1 of 2)" in messages
    assert "Kratix: configure pipeline rds-wait running (2 of 2)" in messages
    deleted = bridge.run_to_end("delete-rds", entity="default.orders")
    failed(deleted, summary="The Delete Pipeline has failed; the request stays until the cause is fixed")
    assert bridge.port.entity("redis", "default.orders") is not None  # the catalog still shows what exists


def test_a_promise_deleted_under_a_running_request(
    bridge: Bridge, kube_client: kubernetes.client.ApiClient
) -> None:
    kratix_of(bridge).behave(Behaviour(configure="hang"))
    run_id = bridge.click("create-postgresql", ORDERS)
    objects = KubeObjects(kube_client)
    wait_for(lambda: objects.list(POSTGRES, namespace="default")["items"])
    objects.delete(Resource("platform.kratix.io", "v1alpha1", "promises", namespaced=False), "postgresql")
    failed(bridge.finished(run_id, timeout=20), summary="the request no longer exists")


def test_a_link_template_that_cannot_be_filled_fails_the_run_before_kratix_is_asked(
    make_bridge: MakeBridge, kube_client: kubernetes.client.ApiClient
) -> None:
    bridge = make_bridge(link_template="https://bridge.example.com/runs/{runId}")
    run = bridge.run_to_end("create-postgresql", ORDERS)
    failed(run, summary="PORT_BRIDGE_LINK_TEMPLATE cannot be filled (KeyError: 'runId')")
    assert run.status_label == "Misconfigured"
    assert KubeObjects(kube_client).list(POSTGRES, namespace="default")["items"] == []


def test_the_runs_link_is_filled_from_the_template(make_bridge: MakeBridge) -> None:
    bridge = make_bridge(link_template="https://bridge.example.com/runs/{run_id}?request={namespace}/{name}")
    run = bridge.run_to_end("create-postgresql", ORDERS)
    assert run.status == "SUCCESS"
    assert run.link == f"https://bridge.example.com/runs/{run.id}?request=default/orders"
    assert run.external_run_id == "default/postgresql/orders"
