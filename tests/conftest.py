"""Fixtures shared by the whole suite: the reference data and the emulators on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from port_bridge.sandbox.kube import KubeApiServer
from port_bridge.sandbox.kube.crds import load_manifests
from port_bridge.sandbox.shared import locate_shared_dir


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return locate_shared_dir()


# --- Kubernetes emulator ---


@pytest.fixture(scope="session")
def kratix_crds(shared_dir: Path) -> list[dict[str, Any]]:
    """Kratix's own CRDs (Promise, Work, Destination...), parsed once per session."""
    return [
        m for path in sorted((shared_dir / "kratix" / "crds").glob("*.yaml")) for m in load_manifests(path)
    ]


@pytest.fixture(scope="session")
def promises(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """The marketplace Promises by name (postgresql, redis, namespace...)."""
    found = (
        m
        for path in sorted((shared_dir / "kratix" / "promises").glob("*.yaml"))
        for m in load_manifests(path)
    )
    return {manifest["metadata"]["name"]: manifest for manifest in found}


@pytest.fixture(scope="session")
def sample_requests(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """The sample resource request for each marketplace Promise, keyed by the Promise's file name."""
    return {
        path.stem: next(load_manifests(path))
        for path in sorted((shared_dir / "kratix" / "requests").glob("*.yaml"))
    }


@pytest.fixture
def kube(kratix_crds: list[dict[str, Any]]) -> Iterator[KubeApiServer]:
    """A fresh Kubernetes API emulator with Kratix's CRDs installed; fails the test on emulator bugs."""
    server = KubeApiServer().start()
    for manifest in kratix_crds:
        server.apply(manifest)
    yield server
    server.stop()
    assert server.emulator.internal_errors == []


@pytest.fixture
def kube_client(kube: KubeApiServer) -> Iterator[kubernetes.client.ApiClient]:
    """The official client pointed at the emulator."""
    configuration = kubernetes.client.Configuration()
    configuration.host = kube.url
    with kubernetes.client.ApiClient(configuration) as client:
        yield client
