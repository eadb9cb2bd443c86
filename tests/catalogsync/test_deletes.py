"""Deletes: an entity whose request is gone goes, a mass delete is held back, and nothing port-bridge
did not create is ever deleted. Also: a new leader rebuilds what Port holds from Port, and writes
nothing that has not changed."""

from __future__ import annotations

import logging

import pytest
import requests

from port_bridge.kube.objects import Resource
from port_bridge_sandbox.port import PortEmulator
from tests.catalogsync.conftest import POSTGRES, REDIS, Cluster, catalog_of
from tests.conftest import StartController
from tests.controller.test_observability import free_address
from tests.waiting import wait_for

BULK = "/v1/blueprints/[^/]+/entities/bulk"
DELETES = "/v1/blueprints/[^/]+/(bulk/entities/delete|entities/.+)"


def mirrored(port: PortEmulator, names: list[str]) -> bool:
    return all(port.entity("redis", f"default.{name}") is not None for name in names)


def make(kubectl: Cluster, resource: Resource, names: list[str]) -> None:
    for name in names:
        kubectl.create(resource, name, {"size": "small"})


def test_a_mass_delete_is_held_back_until_the_threshold_lets_it_through(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    names = [f"cache-{index}" for index in range(10)]
    make(kubectl, REDIS, names)
    first = start_controller(catalog_sync=True)
    catalog_of(first)
    wait_for(lambda: mirrored(port, names))
    first.stop()
    for name in names[:8]:  # what a wrong kubeconfig or an empty list from a failing API looks like
        kubectl.delete(REDIS, name)
    port.clear_calls()

    address = free_address()
    with caplog.at_level(logging.WARNING, logger="port_bridge.catalogsync"):
        second = start_controller(catalog_sync=True, identity="controller-b", controller_bind=address)
        catalog_of(second)
    assert port.calls_matching(None, DELETES) == []
    assert mirrored(port, names)
    assert "holding back 8 deletes of the 10 entities it mirrors (over 50% in one pass" in caplog.text
    readyz = requests.get(f"http://{address}/readyz", timeout=5).json()
    assert readyz["catalog"]["deletesHeldBack"] == 8 and readyz["catalog"]["mirrored"] == 10
    metrics = requests.get(f"http://{address}/metrics", timeout=5).text
    assert "port_bridge_catalog_deletes_held_back_total 8.0" in metrics
    assert "port_bridge_catalog_entities 10.0" in metrics
    second.stop()

    third = start_controller(catalog_sync=True, identity="controller-c", catalog_delete_threshold=1.0)
    sync = catalog_of(third)
    assert sync.status()["deletesHeldBack"] == 0
    assert [port.entity("redis", f"default.{name}") is None for name in names] == [True] * 8 + [False] * 2
    assert sync.status()["mirrored"] == 2


def test_a_few_deletes_in_one_pass_go_through(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController
) -> None:
    names = [f"cache-{index}" for index in range(10)]
    make(kubectl, REDIS, names)
    sync = catalog_of(start_controller(catalog_sync=True))
    wait_for(lambda: mirrored(port, names))
    for name in names[:3]:
        kubectl.delete(REDIS, name)
    wait_for(lambda: all(port.entity("redis", f"default.{name}") is None for name in names[:3]), timeout=5)
    assert mirrored(port, names[3:]) and sync.status()["deletesHeldBack"] == 0


def test_entities_port_bridge_did_not_create_are_never_deleted(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController
) -> None:
    port.add_entity(
        "redis",
        {"identifier": "default.legacy", "properties": {"namespace": "default", "requestName": "legacy"}},
    )
    port.add_entity(
        "redis",
        {
            "identifier": "default.shared",
            "title": "Made by hand",
            "properties": {"namespace": "default", "requestName": "shared"},
        },
    )
    kubectl.create(REDIS, "shared", {"size": "large"})  # a request for the entity someone else made
    kubectl.create(REDIS, "ours", {"size": "small"})
    catalog_of(start_controller(catalog_sync=True))
    shared = port.entity("redis", "default.shared")
    assert shared is not None and shared["properties"]["kratixState"] == "Pending"
    assert shared["properties"]["size"] == "large" and "kratixRequest" not in shared["properties"]
    ours = port.entity("redis", "default.ours")
    assert (
        ours is not None and ours["properties"]["kratixRequest"] == "redis.marketplace.kratix.io/default/ours"
    )

    kubectl.delete(REDIS, "shared")
    kubectl.delete(REDIS, "ours")
    wait_for(lambda: port.entity("redis", "default.ours") is None, timeout=5)
    assert port.entity("redis", "default.shared") is not None  # kept: port-bridge did not make it
    assert port.entity("redis", "default.legacy") is not None  # no request of that name ever: kept


def test_a_new_leader_reads_what_port_holds_and_writes_nothing_unchanged(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController
) -> None:
    names = [f"cache-{index}" for index in range(30)]
    make(kubectl, REDIS, names)
    first = start_controller(catalog_sync=True)
    catalog_of(first)
    wait_for(lambda: mirrored(port, names))
    first.stop()
    versions = {
        item["metadata"]["name"]: item["metadata"]["resourceVersion"]
        for item in kubectl.objects.list(REDIS, namespace="default")["items"]
    }
    port.clear_calls()

    sync = catalog_of(start_controller(catalog_sync=True, identity="controller-b"))
    assert port.calls_matching("POST", BULK) == []
    reads = port.calls_matching("GET", "/v1/blueprints/(kratix-namespace|postgresql|redis|service)/entities")
    assert sorted(call.path for call in reads) == [
        f"/v1/blueprints/{blueprint}/entities"
        for blueprint in ("kratix-namespace", "postgresql", "redis", "service")
    ]
    assert sync.status()["mirrored"] == 30
    after = {
        item["metadata"]["name"]: item["metadata"]["resourceVersion"]
        for item in kubectl.objects.list(REDIS, namespace="default")["items"]
    }
    assert after == versions  # nothing was written to Kratix's objects to remember anything


def test_an_entity_others_relate_to_is_kept_and_said_so(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    kubectl.create(POSTGRES, "orders-db", {"env": "dev", "teamId": "payments"})
    catalog_of(start_controller(catalog_sync=True))
    service = {"language": "Go", "tier": "standard", "owner": "dev@example.com"}
    port.add_entity(
        "service",
        {
            "identifier": "default.orders",
            "properties": service,
            "relations": {"database": "default.orders-db"},
        },
    )
    with caplog.at_level(logging.WARNING, logger="port_bridge.catalogsync"):
        kubectl.delete(POSTGRES, "orders-db")
        wait_for(
            lambda: "Port keeps entity default.orders-db of postgresql: 422 has_dependents" in caplog.text
        )
    assert port.entity("postgresql", "default.orders-db") is not None  # never deleted with its dependents
    assert port.entity("service", "default.orders") is not None


def test_while_port_is_away_the_sync_waits_and_then_catches_up(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController
) -> None:
    sync = catalog_of(start_controller(catalog_sync=True))
    port.faults.port_down()
    kubectl.create(REDIS, "cache", {"size": "small"})
    wait_for(lambda: sync.status()["state"] == "waiting for Port", timeout=15)
    assert "503" in (sync.status()["lastError"] or "")
    port.faults.port_up()
    wait_for(lambda: port.entity("redis", "default.cache"), timeout=15)
    wait_for(lambda: sync.status()["state"] == "synced" and sync.status()["pending"] == 0)
