"""The sync beside runs: one entity, never fought over; one Port budget, reports first; refusals."""

from __future__ import annotations

import logging

import pytest

from port_bridge.port.client import PortClient
from port_bridge_sandbox.port import PortEmulator, RateLimits, RecordedCall
from tests.catalogsync.conftest import POSTGRES, REDIS, Cluster, catalog_of, property_of
from tests.conftest import Bridge, StartController
from tests.waiting import wait_for

BULK = "/v1/blueprints/postgresql/entities/bulk"
ORDERS = {"name": "orders", "env": "dev", "teamId": "payments"}


def writes_of(calls: list[RecordedCall], identifier: str) -> list[int]:
    """Where in ``calls`` the sync's bulk writes of ``identifier`` are."""
    return [
        index
        for index, call in enumerate(calls)
        if call.method == "POST"
        and call.path == BULK
        and any(entity.get("identifier") == identifier for entity in (call.json or {}).get("entities", []))
    ]


def run_write(calls: list[RecordedCall], run_id: str) -> int:
    [index] = [
        index
        for index, call in enumerate(calls)
        if call.path == "/v1/blueprints/postgresql/entities" and call.query.get("run_id") == run_id
    ]
    return index


def test_a_run_and_the_sync_write_one_entity_and_never_fight(
    bridge_without_controller: Bridge, start_controller: StartController
) -> None:
    bridge, port = bridge_without_controller, bridge_without_controller.port
    catalog_of(start_controller(catalog_sync=True))
    created = bridge.run_to_end("create-postgresql", ORDERS)
    assert created.status == "SUCCESS"
    wait_for(lambda: property_of(port, "postgresql", "default.orders", "kratixState") == "Ready")
    entity = port.entity("postgresql", "default.orders")
    assert entity is not None
    assert entity["properties"]["requestedBy"] == "developer@example.com"  # the run's, kept by the sync
    assert entity["properties"]["kratixRequest"] == "postgresqls.marketplace.kratix.io/default/orders"
    calls = port.calls
    by_run, by_sync = run_write(calls, created.id), writes_of(calls, "default.orders")
    assert by_sync and min(by_sync) > by_run  # while the run followed the request, the entity was the run's
    first = next(e for e in calls[min(by_sync)].json["entities"] if e["identifier"] == "default.orders")
    assert first["properties"]["kratixState"] == "Ready"  # never older than what the run wrote
    assert all(
        "run_id" not in calls[index].query and calls[index].query["merge"] == "true" for index in by_sync
    )

    port.clear_calls()
    changed = bridge.run_to_end("update-postgresql", {"env": "prod"}, entity="default.orders")
    assert changed.status == "SUCCESS"
    wait_for(lambda: property_of(port, "postgresql", "default.orders", "kratixObservedGeneration") == 2)
    calls = port.calls
    assert all(index > run_write(calls, changed.id) for index in writes_of(calls, "default.orders"))
    after = port.entity("postgresql", "default.orders")
    assert after is not None
    assert (after["properties"]["environment"], after["properties"]["kratixState"]) == ("prod", "Ready")
    assert after["properties"]["requestedBy"] == "developer@example.com"


def test_a_failed_run_leaves_its_request_in_the_catalog_as_failed(
    bridge_without_controller: Bridge, start_controller: StartController
) -> None:
    from port_bridge_sandbox.kratix import Behaviour

    bridge = bridge_without_controller
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="fail"), promise="postgresql")
    catalog_of(start_controller(catalog_sync=True))
    run = bridge.run_to_end("create-postgresql", ORDERS)
    assert run.status == "FAILURE" and run.affected_entities == []  # the run writes no entity
    entity = wait_for(lambda: bridge.port.entity("postgresql", "default.orders"), timeout=5)
    assert (entity["properties"]["kratixState"], entity["properties"]["kratixDetail"]) == (
        "Failed",
        "Pipeline failed",
    )


def test_the_sync_paces_under_ports_rate_limit_and_reports_go_first(
    bridge_without_controller: Bridge,
    kubectl: Cluster,
    start_controller: StartController,
    port_client: PortClient,
) -> None:
    bridge, port = bridge_without_controller, bridge_without_controller.port
    for index in range(60):
        kubectl.create(REDIS, f"cache-{index}", {"size": "small"})
    port.limit_rate(RateLimits(entities=6, other=100, period=1.0))
    start_controller(catalog_sync=True)
    run = bridge.finished(bridge.click("create-postgresql", ORDERS), timeout=30)
    assert run.status == "SUCCESS"
    wait_for(lambda: all(port.entity("redis", f"default.cache-{i}") for i in range(60)), timeout=30)
    assert port.rate_limited == []  # paced from the headers: Port never had to say 429
    stats = port_client.budget.stats
    assert stats.throttled == 0 and stats.paced_calls.get("background", 0) >= 1


def test_an_entity_port_refuses_waits_for_its_request_to_change(
    port: PortEmulator, kubectl: Cluster, start_controller: StartController, caplog: pytest.LogCaptureFixture
) -> None:
    spec = {"env": "dev", "teamId": "payments"}
    kubectl.create(POSTGRES, "good", spec)
    kubectl.create(POSTGRES, "bad", spec, annotations={"port-bridge.io/requested-by": "not an address"})
    with caplog.at_level(logging.WARNING, logger="port_bridge.catalogsync"):
        sync = catalog_of(start_controller(catalog_sync=True))
    assert port.entity("postgresql", "default.good") is not None
    assert port.entity("postgresql", "default.bad") is None
    assert sync.status()["refused"] == 1
    refusal = "Port refused entity default.bad of postgresql (postgresqls.marketplace.kratix.io/default/bad)"
    assert f"{refusal}: 422 invalid_request (properties: requestedBy)" in caplog.text
    assert "not an address" not in caplog.text  # Port's message quotes the value: never logged

    port.clear_calls()
    kubectl.patch(POSTGRES, "good", {"env": "prod"})
    wait_for(lambda: property_of(port, "postgresql", "default.good", "environment") == "prod")
    assert writes_of(port.calls, "default.bad") == []  # not tried again while it has not changed

    annotations = {"port-bridge.io/requested-by": "dev@example.com"}
    kubectl.objects.patch(POSTGRES, "bad", {"metadata": {"annotations": annotations}}, namespace="default")
    entity = wait_for(lambda: port.entity("postgresql", "default.bad"), timeout=5)
    assert entity["properties"]["requestedBy"] == "dev@example.com"
    wait_for(lambda: sync.status()["refused"] == 0, what="the sync to take in Port's answer")
