"""Create New Service: one Port action, a service request and a PostgreSQL request followed together.

The run succeeds only when both have reconciled, fails naming the one that failed, and leaves
two entities in the catalog, the service related to its database, with the production readiness
level its tier earns (from what the service pipeline published).
"""

from __future__ import annotations

import kubernetes
import pytest

from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.kratix import Behaviour
from tests.conftest import Bridge
from tests.waiting import wait_for

SERVICES = Resource("platform.port-bridge.io", "v1alpha1", "services")
POSTGRES = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")


def test_a_service_with_its_database(bridge: Bridge) -> None:
    run = bridge.run_to_end(
        "create-service", {"name": "orders", "language": "Go", "tier": "critical", "includeDatabase": True}
    )
    assert run.status == "SUCCESS", (run.summary, [log.message for log in run.logs])
    assert run.summary == (
        "service default/orders is ready: Go service orders scaffolded from its template; "
        "postgresql default/orders-db is ready: 10Gi instance v16 deployed successfully with backups"
    )
    assert len(run.terminal_reports) == 1
    service = bridge.port.entity("service", "default.orders")
    database = bridge.port.entity("postgresql", "default.orders-db")
    assert service is not None and database is not None
    assert service["relations"]["database"] == "default.orders-db"
    assert service["properties"]["owner"] == "developer@example.com"
    assert service["scorecards"]["production_readiness"]["level"] == "Gold"
    assert service["properties"]["productionReadiness"] == 100  # computed by port-bridge, in step with Gold
    assert {entity.identifier for entity in run.affected_entities} == {"default.orders", "default.orders-db"}
    logged = [log.message for log in run.logs]
    for where in ("service default/orders", "postgresql default/orders-db"):
        assert any(line.startswith(f"Kratix ({where}): ") for line in logged), logged


def test_a_service_without_a_database_makes_one_request(bridge: Bridge) -> None:
    run = bridge.run_to_end("create-service", {"name": "lab", "language": "Python", "tier": "experimental"})
    assert run.status == "SUCCESS"
    assert run.summary == "service default/lab is ready: Python service lab scaffolded from its template"
    service = bridge.port.entity("service", "default.lab")
    assert service is not None and "database" not in (service.get("relations") or {})
    assert service["scorecards"]["production_readiness"]["level"] == "Bronze"
    assert service["properties"]["productionReadiness"] == 34  # Bronze's band is 34-66
    assert bridge.port.entity("postgresql", "default.lab-db") is None


def test_a_failed_database_fails_the_run_naming_it(bridge: Bridge) -> None:
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="fail"), promise="postgresql")
    run = bridge.run_to_end(
        "create-service", {"name": "billing", "language": "Java", "tier": "standard", "includeDatabase": True}
    )
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert run.summary == "postgresql default/billing-db: A Configure Pipeline has failed: instance-configure"
    assert bridge.port.entity("service", "default.billing") is None  # nothing in the catalog for a failed run


def test_deleting_a_service_deletes_its_database_too(
    bridge: Bridge, kube_client: kubernetes.client.ApiClient
) -> None:
    created = bridge.run_to_end(
        "create-service", {"name": "orders", "language": "Go", "tier": "standard", "includeDatabase": True}
    )
    assert created.status == "SUCCESS"
    deleted = bridge.run_to_end("delete-service", entity="default.orders")
    assert deleted.status == "SUCCESS", deleted.summary
    assert deleted.summary == "service default/orders was deleted; postgresql default/orders-db was deleted"
    assert bridge.port.entity("service", "default.orders") is None
    assert bridge.port.entity("postgresql", "default.orders-db") is None
    objects = KubeObjects(kube_client)
    wait_for(lambda: not objects.list(SERVICES, namespace="default")["items"])
    assert objects.list(POSTGRES, namespace="default")["items"] == []


@pytest.mark.parametrize("tier", ["standard"])
def test_changing_a_services_tier_changes_its_readiness(bridge: Bridge, tier: str) -> None:
    created = bridge.run_to_end(
        "create-service", {"name": "web", "language": "Node.js", "tier": "experimental"}
    )
    assert created.status == "SUCCESS"
    changed = bridge.run_to_end("update-service", {"tier": tier}, entity="default.web")
    assert changed.status == "SUCCESS", changed.summary
    service = bridge.port.entity("service", "default.web")
    assert service is not None and service["properties"]["tier"] == tier
    assert service["scorecards"]["production_readiness"]["level"] == "Silver"
    assert service["properties"]["productionReadiness"] == 67  # Silver's band is 67-99
