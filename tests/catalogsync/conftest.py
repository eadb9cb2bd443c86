"""What the catalog sync's tests share: requests made straight in the cluster, and the running sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes
import pytest

from port_bridge.catalogsync import CatalogSync
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import RunningController
from tests.waiting import wait_for

POSTGRES = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")
REDIS = Resource("marketplace.kratix.io", "v1alpha1", "redis")
KINDS = {POSTGRES: "postgresql", REDIS: "redis"}


class Cluster:
    """kubectl, as a platform engineer or a GitOps tool would use it: no run involved."""

    def __init__(self, client: kubernetes.client.ApiClient) -> None:
        self.objects = KubeObjects(client)

    def create(
        self,
        resource: Resource,
        name: str,
        spec: dict[str, Any],
        *,
        namespace: str = "default",
        annotations: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body = {
            "apiVersion": resource.api_version,
            "kind": KINDS[resource],
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
            "spec": spec,
        }
        return self.objects.create(resource, body, namespace=namespace)

    def patch(
        self, resource: Resource, name: str, spec: dict[str, Any], *, namespace: str = "default"
    ) -> None:
        self.objects.patch(resource, name, {"spec": spec}, namespace=namespace)

    def set_finalizers(
        self,
        resource: Resource,
        name: str,
        change: Callable[[list[str]], list[str]],
        *,
        namespace: str = "default",
    ) -> None:
        """Change the request's finalizers from their current list (a merge patch replaces the list)."""
        current = self.objects.get(resource, name, namespace=namespace)
        held = list(current["metadata"].get("finalizers") or [])
        version = current["metadata"]["resourceVersion"]
        patch = {"metadata": {"finalizers": change(held), "resourceVersion": version}}
        self.objects.patch(resource, name, patch, namespace=namespace)

    def delete(self, resource: Resource, name: str, *, namespace: str = "default") -> None:
        self.objects.delete(resource, name, namespace=namespace)


@pytest.fixture
def kubectl(kube_client: kubernetes.client.ApiClient) -> Cluster:
    return Cluster(kube_client)


def property_of(port: PortEmulator, blueprint: str, identifier: str, name: str) -> Any:
    """A property of an entity in Port, ``None`` if the entity (or the property) is not there."""
    entity = port.entity(blueprint, identifier)
    return None if entity is None else entity["properties"].get(name)


def catalog_of(controller: RunningController, *, passes: int = 1) -> CatalogSync:
    """The running controller's catalog sync, once it has made ``passes`` passes (the first is full)."""

    def ready() -> CatalogSync | None:
        current = controller.controllers[-1] if controller.controllers else None
        sync = current.catalog if current is not None else None
        return sync if sync is not None and sync.passes >= passes else None

    return wait_for(ready, timeout=15, what="the catalog sync's first pass")
