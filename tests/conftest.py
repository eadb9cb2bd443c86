"""Fixtures shared by the whole suite: the reference data and the emulators on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import kubernetes
import pytest
import requests
from flask import Flask
from pydantic import SecretStr

from port_bridge.controller.main import run_controller
from port_bridge.controller.manager import Controller
from port_bridge.intake.app import create_app
from port_bridge.mapping.actions import ActionConfig, RequestMapping, load_actions
from port_bridge.port.client import PortClient
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Era, KratixSimulator, Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.port import PortEmulator, Run
from port_bridge_sandbox.shared import SharedDataMissing, locate_shared_dir, require_file
from tests.waiting import wait_for

# --- Reference data beside the clone (../shared), and the project's own Kratix objects ---

REPO = Path(__file__).resolve().parents[1]
PROJECT_PROMISES = REPO / "deploy" / "kratix" / "promises"
SHARED_MISSING = (
    "../shared is not beside the clone: the checks against Port's published OpenAPI spec and "
    "Kratix's released CRDs and Promises are skipped (set PORT_BRIDGE_SHARED_DIR to run them)"
)


# What the skips for want of ../shared say, wherever they come from (fixtures, the oracles' loaders).
_SHARED_SKIP_MARKS = (SHARED_MISSING, "reference data not found")


def _shared() -> Path | None:
    try:
        return locate_shared_dir()
    except SharedDataMissing:
        return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """On CI the reference data is always there: its absence fails the run, once, at the start."""
    if os.environ.get("CI", "").lower() == "true" and _shared() is None:
        raise pytest.UsageError(f"CI=true but {SHARED_MISSING.split(':')[0]}")


ARTIFACTS = REPO / "test-artifacts"  # what a person may want to look at after a run (gitignored)
_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Fold every skip for want of ../shared into one line of the summary; name the artifacts this
    run wrote (the browser test's screenshots), even from xdist workers."""
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and any(mark in str(longrepr[2]) for mark in _SHARED_SKIP_MARKS):
            report.longrepr = (str(Path(__file__)), None, SHARED_MISSING)
    written = sorted(path for path in ARTIFACTS.glob("*") if path.stat().st_mtime >= _STARTED)
    for path in written:
        terminalreporter.write_line(f"test artifact: {path}")


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Commands run in-process configure the root logger onto the test's captured stderr; put back
    what was there so later tests do not log into a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The reference data; tests that need it are skipped, with one reason, when it is absent."""
    found = _shared()
    if found is None:
        pytest.skip(SHARED_MISSING)
    return found


def _manifests(directory: Path) -> list[dict[str, Any]]:
    return [manifest for path in sorted(directory.glob("*.yaml")) for manifest in load_manifests(path)]


@pytest.fixture(scope="session")
def project_crds() -> list[dict[str, Any]]:
    """The Kratix CRDs the project writes for itself (deploy/kratix/crds): what the tests run on."""
    return _manifests(REPO / "deploy" / "kratix" / "crds")


@pytest.fixture(scope="session")
def promises() -> dict[str, dict[str, Any]]:
    """The project's own Promises by name: postgresql, redis and namespace (the marketplace's request
    APIs, written by the project) and service."""
    return {manifest["metadata"]["name"]: manifest for manifest in _manifests(PROJECT_PROMISES)}


@pytest.fixture(scope="session")
def kratix_crds(shared_dir: Path) -> list[dict[str, Any]]:
    """Kratix's released CRDs (Promise, Work, Destination...), from ../shared."""
    return _manifests(shared_dir / "kratix" / "crds")


@pytest.fixture(scope="session")
def marketplace_promises(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """The Kratix marketplace's released Promises by name (postgresql, redis, aws-rds, jenkins...)."""
    return {
        manifest["metadata"]["name"]: manifest for manifest in _manifests(shared_dir / "kratix" / "promises")
    }


@pytest.fixture(scope="session")
def sample_requests(shared_dir: Path) -> dict[str, dict[str, Any]]:
    """The sample resource request for each marketplace Promise, keyed by the Promise's file name."""
    return {
        path.stem: next(load_manifests(path))
        for path in sorted((shared_dir / "kratix" / "requests").glob("*.yaml"))
    }


# --- Kubernetes emulator ---


@pytest.fixture
def kube(project_crds: list[dict[str, Any]]) -> Iterator[KubeApiServer]:
    """A fresh Kubernetes API emulator with the project's Kratix CRDs; fails the test on emulator bugs."""
    server = KubeApiServer().start()
    for manifest in project_crds:
        server.apply(manifest)
    yield server
    server.stop()
    assert server.emulator.internal_errors == []


@pytest.fixture
def kube_client(kube: KubeApiServer) -> Iterator[kubernetes.client.ApiClient]:
    """The official client pointed at the emulator."""
    configuration = kubernetes.client.Configuration()
    configuration.host = kube.url
    configuration.connection_pool_maxsize = 32
    with kubernetes.client.ApiClient(configuration) as client:
        yield client


# --- Kratix simulator ---

FAST_KRATIX = Timings(pickup=0.005, pipeline=0.02, works=0.01, delete_pipeline=0.02)


class StartKratix(Protocol):
    def __call__(
        self, *, era: Era = ..., timings: Timings = ..., pipelines: bool = ...
    ) -> KratixSimulator: ...


@pytest.fixture
def start_kratix(
    kube: KubeApiServer, kube_client: kubernetes.client.ApiClient, request: pytest.FixtureRequest
) -> Iterator[StartKratix]:
    """Start a Kratix simulator (``era=``, ``timings=``); fails the test on its errors.

    Its pipelines are simulated in-process, on the test's own timings, unless ``pipelines=True``:
    then the project's pipelines run as processes (.venv-pipelines; see ``pipelines_python``), their
    output in the Pods' logs. Tests of timing-sensitive bridge behaviour keep to the simulated ones
    (a pipeline process takes 1 to 5 s on this machine under load); the pipelines' own tests, the
    demo and the browser test run the real ones."""
    started: list[KratixSimulator] = []

    def start(
        *, era: Era = Era.CURRENT, timings: Timings = FAST_KRATIX, pipelines: bool = False
    ) -> KratixSimulator:
        python = request.getfixturevalue("pipelines_python") if pipelines else None
        simulator = KratixSimulator(
            kube_client, era=era, timings=timings, pod_logs=kube.emulator.pod_logs, pipelines_python=python
        )
        simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()
        assert simulator.errors == []


@pytest.fixture(scope="session")
def pipelines_python() -> Path:
    """The interpreter of the Promises' pipelines (.venv-pipelines, ``make pipelines-venv``); tests
    that need it skip with one line without it, except under CI=true, where they fail."""
    python = REPO / ".venv-pipelines" / "bin" / "python"
    if not python.exists():
        message = (
            f"no {python.parents[1]}: run `make pipelines-venv` for the tests of the Promises' pipelines"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return python


# --- Port emulator ---


@pytest.fixture(scope="session")
def port_spec_path(shared_dir: Path) -> Path:
    return require_file(shared_dir / "port" / "apispec.yaml", what="Port's OpenAPI spec")


@pytest.fixture
def port_emulator() -> Iterator[PortEmulator]:
    """A fresh Port emulator, checking every request against Port's spec when ../shared has it;
    fails the test on emulator bugs."""
    with PortEmulator() as emulator:
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


# --- The bridge: a cluster prepared for it, its configuration, intake ---

BRIDGE_NAMESPACE = "port-bridge"
MAPPED_PROMISES = ("postgresql", "redis", "namespace", "service")


@pytest.fixture(scope="session")
def project_actions() -> dict[str, ActionConfig]:
    """The action files the project ships (actions/)."""
    return load_actions(REPO / "actions")


@pytest.fixture
def cluster(kube: KubeApiServer, promises: dict[str, dict[str, Any]]) -> KubeApiServer:
    """The emulator as a bridge install sees it: the ActionRun CRD, the bridge's namespace, team
    namespaces, and the project's Promises."""
    kube.apply_file(REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml")
    for namespace in (BRIDGE_NAMESPACE, "team-a", "team-b"):
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for name in MAPPED_PROMISES:
        kube.apply(promises[name])
    return kube


@pytest.fixture
def bridge_settings(port_emulator: PortEmulator) -> Settings:
    return Settings(
        port_client_id=port_emulator.client_id,
        port_client_secret=SecretStr(port_emulator.client_secret),
        port_api_url=port_emulator.url,
        namespace=BRIDGE_NAMESPACE,
        config_dir=REPO,
    )


@pytest.fixture
def port(port_emulator: PortEmulator, project_actions: dict[str, ActionConfig]) -> PortEmulator:
    """The Port emulator holding the project's blueprints, actions and scorecards."""
    for path in sorted((REPO / "blueprints").glob("*.json")):
        port_emulator.add_blueprint(json.loads(path.read_text()))
    for config in project_actions.values():
        port_emulator.add_action(config.raw_action)
    for path in sorted((REPO / "scorecards").glob("*/*.json")):
        port_emulator.add_scorecard(path.parent.name, json.loads(path.read_text()))
    return port_emulator


@pytest.fixture
def bridge_env(cluster: KubeApiServer, port: PortEmulator, tmp_path: Path) -> dict[str, str]:
    """The environment a port-bridge process needs to run against the emulators."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(cluster.write_kubeconfig(tmp_path / "kubeconfig")),
        "PORT_CLIENT_ID": port.client_id,
        "PORT_CLIENT_SECRET": port.client_secret,
        "PORT_API_URL": port.url,
        "PORT_BRIDGE_NAMESPACE": BRIDGE_NAMESPACE,
        "PORT_BRIDGE_CONFIG_DIR": str(REPO),
    }


@pytest.fixture
def intake_app(
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
) -> Flask:
    return create_app(bridge_settings, api_client=kube_client, actions=project_actions)


@pytest.fixture
def intake_server(intake_app: Flask) -> Iterator[WsgiThread]:
    """Intake over real HTTP on 127.0.0.1, for Port (the emulator) to call."""
    with WsgiThread(intake_app) as server:
        yield server


# --- The controller ---

FAST_LEASE = {"lease_seconds": 3, "lease_renew_deadline_seconds": 2.0, "lease_retry_seconds": 0.2}


class StartController(Protocol):
    """Start a controller with these actions; keywords override its Settings (``identity=``...)."""

    def __call__(
        self, *, actions: dict[str, ActionConfig] | None = None, **overrides: object
    ) -> RunningController: ...


class RunningController:
    """A controller (with leader election) running in a thread against the emulators."""

    def __init__(
        self,
        settings: Settings,
        api_client: kubernetes.client.ApiClient,
        actions: dict[str, ActionConfig],
        port: PortClient,
    ) -> None:
        self.settings, self.stop_event = settings, threading.Event()
        self.controllers: list[Controller] = []
        self.thread = threading.Thread(
            target=run_controller,
            args=(settings, self.stop_event),
            kwargs={
                "api_client": api_client,
                "port": port,
                "actions": actions,
                "watch_timeout_seconds": 5,
                "on_started": self.controllers,
            },
            daemon=True,
        )

    def start(self) -> RunningController:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the controller did not stop"


@pytest.fixture
def controller_settings(bridge_settings: Settings) -> Settings:
    """Fast leases and resyncs; no catalog sync unless a test asks (``catalog_sync=True``), so the
    tests of runs see only what runs write."""
    return bridge_settings.model_copy(
        update={
            **FAST_LEASE,
            "resync_seconds": 1.0,
            "identity": "controller-a",
            "controller_bind": "",
            "catalog_sync": False,
        }
    )


@pytest.fixture
def port_client(port: PortEmulator) -> Iterator[PortClient]:
    with PortClient(
        port.url,
        client_id=port.client_id,
        client_secret=port.client_secret,
        max_retry_seconds=5.0,
        max_wait_seconds=0.5,
    ) as client:
        yield client


@pytest.fixture
def start_controller(
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    controller_settings: Settings,
    project_actions: dict[str, ActionConfig],
    port_client: PortClient,
) -> Iterator[StartController]:
    """Start a controller (``identity=`` for a second replica); all are stopped at the end."""
    running: list[RunningController] = []

    def start(*, actions: dict[str, ActionConfig] | None = None, **overrides: object) -> RunningController:
        settings = controller_settings.model_copy(update=overrides)
        controller = RunningController(settings, kube_client, actions or project_actions, port_client).start()
        running.append(controller)
        return controller

    yield start
    for controller in running:
        controller.stop()


class Bridge:
    """The whole product on the emulators: click actions as Port, wait for the runs to end."""

    def __init__(
        self,
        port: PortEmulator,
        intake: WsgiThread,
        kube: KubeApiServer,
        kratix: KratixSimulator | None = None,
    ) -> None:
        self.port, self.intake, self.kube, self.kratix = port, intake, kube, kratix

    @property
    def webhook(self) -> str:
        return self.intake.url + "/webhook"

    def click(self, action: str, inputs: dict[str, Any] | None = None, *, entity: str | None = None) -> str:
        invocation = self.port.invoke(action, inputs=inputs or {}, entity=entity, url=self.webhook)
        assert invocation.response.status_code in (200, 202, 400, 404, 422), invocation.response.text
        return invocation.run_id

    def finished(self, run_id: str, *, timeout: float = 15.0) -> Run:
        def done() -> Run | None:
            run = self.port.run(run_id)
            return run if run.status != "IN_PROGRESS" else None

        return wait_for(done, timeout=timeout, what=f"run {run_id} to finish")

    def run_to_end(
        self, action: str, inputs: dict[str, Any] | None = None, *, entity: str | None = None
    ) -> Run:
        return self.finished(self.click(action, inputs, entity=entity))


@pytest.fixture
def bridge(
    port: PortEmulator,
    intake_server: WsgiThread,
    cluster: KubeApiServer,
    start_kratix: StartKratix,
    start_controller: StartController,
) -> Bridge:
    """Intake, one controller and a current-era Kratix, all running."""
    kratix = start_kratix()
    start_controller()
    return Bridge(port, intake_server, cluster, kratix)


@pytest.fixture
def bridge_without_controller(
    port: PortEmulator, intake_server: WsgiThread, cluster: KubeApiServer, start_kratix: StartKratix
) -> Bridge:
    """Intake and a current-era Kratix; the test starts its controller(s) itself."""
    return Bridge(port, intake_server, cluster, start_kratix())


class MakeBridge(Protocol):
    """A bridge with its own actions, Kratix era and timings; keywords override controller Settings."""

    def __call__(
        self,
        *,
        actions: dict[str, ActionConfig] | None = None,
        era: Era = ...,
        timings: Timings = ...,
        pipelines: bool = ...,
        **controller_settings: object,
    ) -> Bridge: ...


@pytest.fixture
def make_bridge(
    port: PortEmulator,
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    start_kratix: StartKratix,
    start_controller: StartController,
) -> Iterator[MakeBridge]:
    """A bridge with its own ``actions``, Kratix ``era``, ``timings`` and ``pipelines`` (real pipeline
    processes, see ``start_kratix``); controller settings as keywords."""
    servers: list[WsgiThread] = []

    def make(
        *,
        actions: dict[str, ActionConfig] | None = None,
        era: Era = Era.CURRENT,
        timings: Timings = FAST_KRATIX,
        pipelines: bool = False,
        **controller_settings: object,
    ) -> Bridge:
        configured = actions or project_actions
        server = WsgiThread(create_app(bridge_settings, api_client=kube_client, actions=configured)).start()
        servers.append(server)
        kratix = start_kratix(era=era, timings=timings, pipelines=pipelines)
        start_controller(actions=configured, **controller_settings)
        return Bridge(port, server, cluster, kratix)

    yield make
    for server in servers:
        server.stop()


def with_timeout(actions: dict[str, ActionConfig], seconds: float) -> dict[str, ActionConfig]:
    """The same actions, each with a run timeout of ``seconds``."""

    def timed(mapping: RequestMapping) -> RequestMapping:
        return mapping.model_copy(
            update={"kratix": mapping.kratix.model_copy(update={"timeout_seconds": seconds})}
        )

    changed = {}
    for name, config in actions.items():
        if config.kratix is not None:
            changed[name] = config.model_copy(
                update={"kratix": timed(RequestMapping(kratix=config.kratix)).kratix}
            )
        else:
            changed[name] = config.model_copy(update={"requests": tuple(timed(m) for m in config.requests)})
    return changed
