"""Create, change and delete through Port for every shipped Promise, in every Kratix era.

Each run is started by a signed webhook from the Port emulator and must end in Port with the
truth: SUCCESS once Kratix has really reconciled (with the catalog entity upserted, under the
run, before the terminal status), or gone for a delete.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from kubernetes.client import ApiClient

from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.serving import WsgiThread
from port_bridge_sandbox.kratix import Behaviour, Era, Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run
from tests.conftest import BRIDGE_NAMESPACE, Bridge, MakeBridge, StartController, StartKratix
from tests.waiting import wait_for


class Lifecycle(NamedTuple):
    """One Promise's request through Port: created, changed (DAY-2), deleted."""

    resource: Resource
    name: str
    create: tuple[str, dict[str, object]]  # action, inputs
    change: tuple[str, dict[str, object]]
    delete: str
    changed: dict[str, object]  # entity properties after the change


LIFECYCLES = {
    "postgresql": Lifecycle(
        Resource("marketplace.kratix.io", "v1alpha2", "postgresqls"),
        "orders",
        ("create-postgresql", {"name": "orders", "env": "dev", "teamId": "payments"}),
        ("update-postgresql", {"env": "prod", "backupEnabled": True}),
        "delete-postgresql",
        {"environment": "prod", "backupEnabled": True},
    ),
    "redis": Lifecycle(
        Resource("marketplace.kratix.io", "v1alpha1", "redis"),
        "cache",
        ("create-redis", {"name": "cache"}),
        ("update-redis", {"size": "large"}),
        "delete-redis",
        {"size": "large"},
    ),
    "namespace": Lifecycle(
        Resource("marketplace.kratix.io", "v1alpha1", "namespaces"),
        "team-x",
        ("create-namespace", {"name": "team-x", "namespaceName": "team-x"}),
        ("move-namespace", {"clusterName": "worker-2"}),
        "delete-namespace",
        {"clusterName": "worker-2"},
    ),
}
BLUEPRINTS = {"postgresql": "postgresql", "redis": "redis", "namespace": "kratix-namespace"}
REDIS = LIFECYCLES["redis"].resource


def reconciliations(kube: KubeApiServer, resource: Resource, name: str) -> int:
    """How often Kratix has turned a request's ``Reconciled`` condition true, from its stored versions."""
    history = kube.call(
        kube.emulator.object_history, resource.group, resource.version, resource.plural, "default", name
    )
    count, was_true = 0, False
    for version in history:
        conditions = ((version or {}).get("status") or {}).get("conditions") or []
        is_true = any(c.get("type") == "Reconciled" and c.get("status") == "True" for c in conditions)
        if is_true and not was_true:
            count += 1
        was_true = is_true
    return count


@pytest.fixture(params=list(Era), ids=[era.value for era in Era])
def era_bridge(
    request: pytest.FixtureRequest,
    port: PortEmulator,
    intake_server: WsgiThread,
    cluster: KubeApiServer,
    start_kratix: StartKratix,
    start_controller: StartController,
) -> Bridge:
    start_kratix(era=request.param)
    start_controller()
    return Bridge(port, intake_server, cluster)


def succeeded(run: Run) -> None:
    assert run.status == "SUCCESS", [log.message for log in run.logs]
    assert len(run.terminal_reports) == 1


@pytest.mark.parametrize("promise", sorted(LIFECYCLES))
def test_create_change_delete(promise: str, era_bridge: Bridge, kube_client: ApiClient) -> None:
    resource, name, (create, create_inputs), (change, change_inputs), delete, changed = LIFECYCLES[promise]
    blueprint, identifier = BLUEPRINTS[promise], f"default.{name}"
    port, objects = era_bridge.port, KubeObjects(kube_client)

    created = era_bridge.run_to_end(create, create_inputs)
    succeeded(created)
    request = objects.get(resource, name, namespace="default")
    assert request["metadata"]["annotations"]["port-bridge.io/run-id"] == created.id
    assert request["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "port-bridge"
    assert created.external_run_id == f"default/{request['kind']}/{name}"
    assert created.status_label == "Ready"
    assert any(log.message.startswith("Kratix: reconciled") for log in created.logs)
    entity = port.entity(blueprint, identifier)
    assert entity is not None and entity["properties"]["requestName"] == name
    assert [(a.blueprint, a.identifier) for a in created.affected_entities] == [(blueprint, identifier)]

    updated = era_bridge.run_to_end(change, change_inputs, entity=identifier)
    succeeded(updated)
    request = objects.get(resource, name, namespace="default")
    assert request["metadata"]["generation"] == 2
    assert request["status"]["observedGeneration"] == 2  # the run waited for Kratix to apply the change
    entity = port.entity(blueprint, identifier)
    assert entity is not None
    assert {key: entity["properties"].get(key) for key in changed} == changed

    deleted = era_bridge.run_to_end(delete, entity=identifier)
    succeeded(deleted)
    assert objects.list(resource, namespace="default")["items"] == []
    assert port.entity(blueprint, identifier) is None
    assert deleted.summary == f"{request['kind']} default/{name} was deleted"
    assert port.spec_violations == []


def test_the_catalog_entity_goes_in_before_the_terminal_status(bridge: Bridge) -> None:
    run = bridge.run_to_end(
        "create-postgresql", {"name": "orders", "env": "prod", "teamId": "payments", "backupEnabled": True}
    )
    calls = [
        call
        for call in bridge.port.calls
        if run.id in call.path or (call.query or {}).get("run_id") == run.id
    ]
    entity_at = next(i for i, call in enumerate(calls) if "/entities" in call.path)
    terminal_at = next(i for i, call in enumerate(calls) if (call.json or {}).get("status") == "SUCCESS")
    assert entity_at < terminal_at
    entity = bridge.port.entity("postgresql", "default.orders")
    assert entity is not None
    assert entity["scorecards"]["production-readiness"]["level"] == "Gold"


def test_a_finished_run_is_not_reopened_by_kratix_rerunning_the_workflow(
    port: PortEmulator,
    intake_server: WsgiThread,
    cluster: KubeApiServer,
    start_kratix: StartKratix,
    start_controller: StartController,
) -> None:
    kratix = start_kratix(timings=Timings(pickup=0.005, pipeline=0.02, works=0.01, reconcile_interval=0.2))
    start_controller()
    bridge = Bridge(port, intake_server, cluster)
    run = bridge.run_to_end("create-redis", {"name": "cache"})
    logs_at_end = len(run.logs)
    reconciled = reconciliations(cluster, REDIS, "cache")
    kratix.rerun("redis", "default", "cache")
    # Several re-runs flip the request back to in progress and forward again...
    wait_for(lambda: reconciliations(cluster, REDIS, "cache") >= reconciled + 3, what="three re-runs")
    # ...and the controller has seen them: another redis request, watched on the same stream after
    # them, goes through to its end.
    assert bridge.run_to_end("create-redis", {"name": "other"}).status == "SUCCESS"
    after = port.run(run.id)
    assert (after.status, len(after.logs), len(after.history)) == ("SUCCESS", logs_at_end, len(run.history))
    assert after.refusals == []  # nothing even tried to change the finished run


def test_finished_actionruns_are_collected_after_the_retention_period(
    make_bridge: MakeBridge, kube_client: ApiClient
) -> None:
    bridge = make_bridge(retention_seconds=1.0)
    objects = KubeObjects(kube_client)
    run = bridge.run_to_end("create-redis", {"name": "cache"})
    assert run.status == "SUCCESS"
    assert len(objects.list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"]) == 1
    wait_for(lambda: objects.list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"] == [], timeout=10)
    assert objects.get(Resource("marketplace.kratix.io", "v1alpha1", "redis"), "cache", namespace="default")


def test_a_run_still_going_records_what_port_was_told(bridge: Bridge, kube_client: ApiClient) -> None:
    """Progress delivered to Port is written to the ActionRun with what comes next or soon after."""
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="hang"))
    run_id = bridge.click("create-redis", {"name": "cache"})
    objects = KubeObjects(kube_client)

    def recorded_journal() -> list[str]:
        run = objects.get(ACTIONRUNS, actionrun_name(run_id), namespace=BRIDGE_NAMESPACE)
        return [line["message"] for line in (run.get("status") or {}).get("journal", [])]

    running = "Kratix: configure pipeline instance-configure running (1 of 1)"
    wait_for(lambda: running in recorded_journal(), timeout=10, what="the running line to be recorded")
    logged = [log.message for log in bridge.port.run(run_id).logs]
    assert recorded_journal() == logged  # every line Port has, in its order
