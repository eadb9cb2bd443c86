"""Fixtures shared by the whole suite: the reference data and the emulators on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import requests

from port_bridge.sandbox.kratix import Era, KratixSimulator, Timings
from port_bridge.sandbox.kube import KubeApiServer
from port_bridge.sandbox.kube.crds import load_manifests
from port_bridge.sandbox.port import PortEmulator
from port_bridge.sandbox.shared import locate_shared_dir, require_file


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


# --- Kratix simulator ---

FAST_KRATIX = Timings(pickup=0.005, pipeline=0.02, works=0.01, delete_pipeline=0.02)
StartKratix = Callable[..., KratixSimulator]


@pytest.fixture
def start_kratix(kube_client: kubernetes.client.ApiClient) -> Iterator[StartKratix]:
    """Start a Kratix simulator (``era=``, ``timings=``); fails the test on its errors."""
    started: list[KratixSimulator] = []

    def start(*, era: Era = Era.CURRENT, timings: Timings = FAST_KRATIX) -> KratixSimulator:
        simulator = KratixSimulator(kube_client, era=era, timings=timings).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()
        assert simulator.errors == []


# --- Port emulator ---


@pytest.fixture(scope="session")
def port_spec_path(shared_dir: Path) -> Path:
    return require_file(shared_dir / "port" / "apispec.yaml", what="Port's OpenAPI spec")


@pytest.fixture
def port_emulator(port_spec_path: Path) -> Iterator[PortEmulator]:
    """A fresh Port emulator; fails the test on emulator bugs."""
    with PortEmulator(spec_path=port_spec_path) as emulator:
        yield emulator
    assert emulator.internal_errors == []


class PortApi:
    """Requests to the emulator with its active bearer token: ``port_api.patch("/v1/...", json=...)``."""

    def __init__(self, emulator: PortEmulator) -> None:
        self.emulator = emulator

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.emulator.auth_headers(), **kwargs.pop("headers", {})}
        return requests.request(method, self.emulator.url + path, headers=headers, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def port_api(port_emulator: PortEmulator) -> PortApi:
    return PortApi(port_emulator)
