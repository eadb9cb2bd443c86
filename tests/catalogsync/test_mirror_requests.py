"""Requests made in the cluster reach Port's catalog with their Kratix state, and leave it with them.

Everything runs on the emulators: the controller (with the catalog sync) against the Kubernetes
emulator and the Port emulator, the Kratix simulator writing status as Kratix does. Requests are
made the way kubectl or a GitOps tool makes them, without any run.
"""

from __future__ import annotations

from typing import Any

from port_bridge.kube.objects import Resource
from port_bridge_sandbox.kratix import Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator
from tests.catalogsync.conftest import POSTGRES, REDIS, Cluster, catalog_of, property_of
from tests.conftest import StartController, StartKratix
from tests.live.test_live_promises import LABEL, queue_promise
from tests.waiting import wait_for

SLOW_KRATIX = Timings(pickup=0.05, pipeline=1.0, works=0.05, delete_pipeline=1.0)
ORDERS = {"env": "dev", "teamId": "payments", "dbName": "orders", "backupEnabled": False}


def state_of(port: PortEmulator, blueprint: str, identifier: str) -> str | None:
    entity = port.entity(blueprint, identifier)
    return entity["properties"].get("kratixState") if entity is not None else None


def test_a_request_made_in_the_cluster_appears_follows_kratix_and_goes(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController, start_kratix: StartKratix
) -> None:
    catalog_of(start_controller(catalog_sync=True))
    kubectl.create(POSTGRES, "orders", ORDERS)
    entity: dict[str, Any] = wait_for(
        lambda: port.entity("postgresql", "default.orders"), timeout=5, what="the entity in Port"
    )
    assert entity["properties"] == {
        "namespace": "default",
        "requestName": "orders",
        "environment": "dev",
        "team": "payments",
        "database": "orders",
        "backupEnabled": False,
        "kratixState": "Pending",
        "kratixDetail": "Waiting for Kratix",
        "kratixLastReconciled": None,
        "kratixGeneration": 1,
        "kratixObservedGeneration": None,
        "kratixRequest": "postgresqls.marketplace.kratix.io/default/orders",
    }
    assert entity["title"] == "orders"

    start_kratix(timings=SLOW_KRATIX)
    wait_for(lambda: state_of(port, "postgresql", "default.orders") == "Reconciling", timeout=5)
    wait_for(lambda: state_of(port, "postgresql", "default.orders") == "Ready", timeout=10)
    ready = port.entity("postgresql", "default.orders")
    assert ready is not None
    properties = ready["properties"]
    assert properties["kratixDetail"] == "Reconciled"
    assert properties["host"] == "payments-orders-postgresql.default.svc.cluster.local"
    assert (properties["kratixGeneration"], properties["kratixObservedGeneration"]) == (1, 1)
    assert properties["kratixLastReconciled"] is not None
    assert properties["kratixMessage"]

    kubectl.patch(POSTGRES, "orders", {"env": "prod"})  # a change in git, applied by Flux
    wait_for(lambda: property_of(port, "postgresql", "default.orders", "environment") == "prod", timeout=5)
    wait_for(lambda: state_of(port, "postgresql", "default.orders") == "Ready", timeout=10)
    changed = port.entity("postgresql", "default.orders")
    assert changed is not None and changed["properties"]["kratixObservedGeneration"] == 2

    backup = "example.com/backup-first"  # another tool holds the deletion until it has taken a backup
    kubectl.set_finalizers(POSTGRES, "orders", lambda held: [*held, backup])
    kubectl.delete(POSTGRES, "orders")
    wait_for(lambda: state_of(port, "postgresql", "default.orders") == "Deleting", timeout=5)
    deleting = port.entity("postgresql", "default.orders")
    assert deleting is not None and deleting["properties"]["kratixDetail"] == "Deleting"
    kubectl.set_finalizers(POSTGRES, "orders", lambda held: [f for f in held if f != backup])
    wait_for(lambda: port.entity("postgresql", "default.orders") is None, timeout=5)
    assert port.spec_violations == []


def test_a_failed_pipeline_shows_as_failed_with_kratixs_message(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController, start_kratix: StartKratix
) -> None:
    from port_bridge_sandbox.kratix import Behaviour

    kratix = start_kratix()
    kratix.behave(Behaviour(configure="fail"), promise="redis")
    catalog_of(start_controller(catalog_sync=True))
    kubectl.create(REDIS, "cache", {"size": "small"})
    wait_for(lambda: state_of(port, "redis", "default.cache") == "Failed", timeout=10)
    entity = port.entity("redis", "default.cache")
    assert entity is not None and entity["properties"]["kratixDetail"] == "Pipeline failed"


def test_only_what_changed_is_written_and_in_bulk(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController
) -> None:
    for index in range(45):
        kubectl.create(REDIS, f"cache-{index}", {"size": "small"})
    catalog_of(start_controller(catalog_sync=True))
    bulk = "/v1/blueprints/redis/entities/bulk"
    assert [len(call.json["entities"]) for call in port.calls_matching("POST", bulk)] == [20, 20, 5]
    assert port.calls_matching("POST", "/v1/blueprints/redis/entities") == []  # never one by one
    port.clear_calls()
    for index in range(3):
        kubectl.patch(REDIS, f"cache-{index}", {"size": "large"})
    wait_for(
        lambda: all(property_of(port, "redis", f"default.cache-{i}", "size") == "large" for i in range(3))
    )
    written = [
        entity["identifier"] for call in port.calls_matching("POST", bulk) for entity in call.json["entities"]
    ]
    assert sorted(written) == ["default.cache-0", "default.cache-1", "default.cache-2"]
    assert all(
        call.query.get("merge") == "true" and "run_id" not in call.query
        for call in port.calls_matching("POST", bulk)
    )


def test_the_requests_of_a_live_promise_are_mirrored_as_soon_as_its_blueprint_is_in_port(
    port: PortEmulator,
    cluster: KubeApiServer,
    kubectl: Cluster,
    start_controller: StartController,
    start_kratix: StartKratix,
) -> None:
    start_kratix()
    catalog_of(start_controller(catalog_sync=True))
    queue = Resource("test.port-bridge.io", "v1alpha1", "queues")
    cluster.apply(queue_promise(labels={LABEL: "true"}))
    wait_for(lambda: port.blueprint("queue"), timeout=5, what="the live Promise's blueprint in Port")
    body = {
        "apiVersion": queue.api_version,
        "kind": "queue",
        "metadata": {"name": "jobs", "namespace": "default"},
        "spec": {"size": "large", "retentionHours": 4},
    }
    kubectl.objects.create(queue, body, namespace="default")
    wait_for(lambda: property_of(port, "queue", "default.jobs", "kratixState") == "Ready", timeout=10)
    entity = port.entity("queue", "default.jobs")
    assert entity is not None
    assert (entity["properties"]["size"], entity["properties"]["retentionHours"]) == ("large", 4)
    assert entity["properties"]["kratixRequest"] == "queues.test.port-bridge.io/default/jobs"
