"""Every run ends, whatever fails: each class of fault injected at each step of a run.

The invariant (issue "Never leave a run open"): every ActionRun reaches a terminal outcome, and the
Port run gets exactly one terminal status if Port will take one. Faults come from the emulators
(Port's 5xx and 4xx answers, the Kubernetes API's 503 and 403) and, for the unexpected class (a
bug), from collaborators handed to the bridge that raise where a call would have been made: a
Port client and a Kubernetes client whose chosen call raises ``RuntimeError`` a few times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import kubernetes
import pytest
from kubernetes.client.rest import RESTResponse

from port_bridge.intake.app import create_app
from port_bridge.intake.closing import PortRunCloser
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.port.transport import Json
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Behaviour
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run
from tests.conftest import BRIDGE_NAMESPACE, Bridge, MakeBridge, PortApi, StartController, with_timeout
from tests.waiting import wait_for

CACHE = {"name": "cache"}


@dataclass
class Injected:
    """Unexpected failures to raise from the bridge's collaborators: the Nth calls of one operation."""

    port_method: str | None = None  # a PortClient method name...
    port_when: Callable[[dict[str, Any]], bool] = lambda _kwargs: True  # ...called with these keywords
    kube_call: tuple[str, str] | None = None  # (HTTP method, path regex) on the Kubernetes client
    times: int = 2
    raised: list[str] = field(default_factory=list)

    def fire(self, where: str) -> None:
        if len(self.raised) < self.times:
            self.raised.append(where)
            raise RuntimeError(f"injected bug in {where}")


@pytest.fixture
def injected() -> Injected:
    return Injected()


class FaultyPortClient(PortClient):
    """A Port client whose chosen operation raises an injected bug before calling Port."""

    def __init__(self, *args: Any, injected: Injected, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._injected = injected

    def _maybe_fail(self, method: str, kwargs: dict[str, Any]) -> None:
        if self._injected.port_method == method and self._injected.port_when(kwargs):
            self._injected.fire(f"PortClient.{method}")

    def patch_run(self, run_id: str, **kwargs: Any) -> Json:
        self._maybe_fail("patch_run", kwargs)
        return super().patch_run(run_id, **kwargs)

    def add_run_log(self, run_id: str, message: str, **kwargs: Any) -> Json:
        self._maybe_fail("add_run_log", kwargs)
        return super().add_run_log(run_id, message, **kwargs)

    def upsert_entity(self, blueprint: str, entity: Mapping[str, Any], **kwargs: Any) -> Json:
        self._maybe_fail("upsert_entity", kwargs)
        return super().upsert_entity(blueprint, entity, **kwargs)


@pytest.fixture
def port_client(port: PortEmulator, injected: Injected) -> Iterator[PortClient]:
    with FaultyPortClient(
        port.url,
        client_id=port.client_id,
        client_secret=port.client_secret,
        max_retry_seconds=2.0,
        max_wait_seconds=0.2,
        injected=injected,
    ) as client:
        yield client


class FaultyApiClient(kubernetes.client.ApiClient):
    """The official client, raising an injected bug on the calls ``injected.kube_call`` names."""

    def __init__(self, configuration: kubernetes.client.Configuration, injected: Injected) -> None:
        super().__init__(configuration)
        self._injected = injected

    def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> RESTResponse:
        call = self._injected.kube_call
        path = urlsplit(url).path
        if call is not None and method == call[0] and re.search(call[1], path):
            self._injected.fire(f"{method} {path}")
        return super().call_api(method, url, *args, **kwargs)


@pytest.fixture
def kube_client(kube: KubeApiServer, injected: Injected) -> Iterator[kubernetes.client.ApiClient]:
    configuration = kubernetes.client.Configuration()
    configuration.host = kube.url
    configuration.connection_pool_maxsize = 32
    with FaultyApiClient(configuration, injected) as client:
        yield client


@dataclass(frozen=True)
class Route:
    """Where a step's call goes: a Kubernetes verb on a plural (and subresource), or a Port route."""

    side: Literal["kube", "port"]
    verb: str  # Kubernetes verb, or Port's HTTP method
    where: str  # Kubernetes plural, or a regex of Port's path
    subresource: str | None = None
    after: int = 0  # Port calls on the route let through before the fault strikes


STEPS = {
    "apply": Route("kube", "create", "redis"),
    "record": Route("kube", "patch", "actionruns", subresource="status"),
    "announce": Route("port", "PATCH", r"/v1/actions/runs/"),
    "log": Route("port", "POST", r"/v1/actions/runs/.*/logs"),
    "entity": Route("port", "POST", r"/v1/blueprints/redis/entities"),
    "terminal": Route("port", "PATCH", r"/v1/actions/runs/", after=1),
}
PORT_CALLS: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "announce": ("patch_run", lambda kwargs: "external_run_id" in kwargs),
    "log": ("add_run_log", lambda _kwargs: True),
    "entity": ("upsert_entity", lambda _kwargs: True),
    "terminal": ("patch_run", lambda kwargs: kwargs.get("status") is not None),
}
KUBE_CALLS = {"apply": ("POST", r"/redis$"), "record": ("PATCH", r"/actionruns/[^/]+/status$")}
# Where a permanent refusal leaves the run: only refusing the request itself fails it.
PERMANENT_OUTCOME = {"apply": ("FAILURE", "Kubernetes refused to create redis default/cache: forbidden")}


def inject(
    kind: str, step: str, bridge: Bridge, cluster: KubeApiServer, injected: Injected
) -> Callable[[], int]:
    """Set the fault up; returns how often it has struck so far."""
    route = STEPS[step]
    if kind == "unexpected":
        if route.side == "port":
            injected.port_method, injected.port_when = PORT_CALLS[step]
        else:
            injected.kube_call = KUBE_CALLS[step]
        return lambda: len(injected.raised)
    if route.side == "kube":
        faults = cluster.emulator.faults
        kube_rule = (
            faults.unavailable(verb=route.verb, plural=route.where, times=2)
            if kind == "temporary"
            else faults.refuse(
                403,
                "Forbidden",
                "forbidden",
                verb=route.verb,
                plural=route.where,
                subresource=route.subresource,
            )
        )
        return lambda: kube_rule.hits
    port_faults = bridge.port.faults
    port_rule = (
        port_faults.server_error(503, method=route.verb, path=route.where, times=2)
        if kind == "temporary"
        else port_faults.refuse(
            400, error="invalid_request", message="refused (emulated)", method=route.verb, path=route.where
        )
    )
    port_rule.after = route.after
    return lambda: port_rule.hits


def finished_actionrun(kube_client: kubernetes.client.ApiClient, run_id: str) -> dict[str, Any]:
    objects = KubeObjects(kube_client)

    def finished() -> dict[str, Any] | None:
        found: dict[str, Any] = objects.get(ACTIONRUNS, actionrun_name(run_id), namespace=BRIDGE_NAMESPACE)
        return found if (found.get("status") or {}).get("reported", {}).get("terminal") else None

    return wait_for(finished, timeout=20, what="the ActionRun to finish")


@pytest.mark.parametrize("kind", ["temporary", "permanent", "unexpected"])
@pytest.mark.parametrize("step", list(STEPS))
def test_every_run_ends_with_one_terminal_status(
    kind: str,
    step: str,
    bridge: Bridge,
    cluster: KubeApiServer,
    injected: Injected,
    kube_client: kubernetes.client.ApiClient,
) -> None:
    struck = inject(kind, step, bridge, cluster, injected)
    run = bridge.run_to_end("create-redis", CACHE)
    assert struck() > 0, "the fault was never reached"
    expected_status, expected_summary = (
        PERMANENT_OUTCOME.get(step, ("SUCCESS", "")) if kind == "permanent" else ("SUCCESS", "")
    )
    assert run.status == expected_status, (run.summary, [log.message for log in run.logs])
    assert expected_summary in (run.summary or "")
    assert len(run.terminal_reports) == 1
    record = finished_actionrun(kube_client, run.id)
    assert record["status"]["outcome"]["result"] == run.status
    assert bridge.port.spec_violations == []


def test_a_bug_that_never_goes_away_ends_the_run_as_failure(
    bridge: Bridge, injected: Injected, kube_client: kubernetes.client.ApiClient
) -> None:
    injected.kube_call, injected.times = KUBE_CALLS["apply"], 10_000
    run = bridge.run_to_end("create-redis", CACHE)
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert run.summary is not None
    assert run.summary.startswith("port-bridge failed unexpectedly (RuntimeError: injected bug in POST")
    assert run.logs[-1].message == run.summary  # the log says it too: reporting itself worked
    assert len(injected.raised) == 6  # five retries, then the run was ended
    finished_actionrun(kube_client, run.id)


def test_a_bug_in_reporting_that_never_goes_away_still_sends_the_terminal_status(
    bridge: Bridge, injected: Injected, kube_client: kubernetes.client.ApiClient
) -> None:
    injected.port_method, injected.times = "add_run_log", 10_000
    run = bridge.run_to_end("create-redis", CACHE)
    assert len(run.terminal_reports) == 1
    assert run.logs == []  # every log line failed: only the terminal status went out ("bare")
    record = finished_actionrun(kube_client, run.id)
    assert record["status"]["outcome"]["bare"] is True
    assert record["status"]["outcome"]["result"] == run.status


def test_a_kubernetes_refusal_to_store_the_run_closes_it_from_intake(
    port: PortEmulator,
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    port_client: PortClient,
) -> None:
    cluster.emulator.faults.refuse(
        403, "Forbidden", "actionruns is forbidden", verb="create", plural="actionruns"
    )
    app = create_app(
        bridge_settings, api_client=kube_client, actions=project_actions, closer=PortRunCloser(port_client)
    )
    with WsgiThread(app) as intake:
        invocation = port.invoke("create-redis", inputs=CACHE, url=intake.url + "/webhook")
    answer = invocation.response
    assert (answer.status_code, answer.json()["error"]) == (503, "kubernetes_refused")
    assert "Retry-After" not in answer.headers  # trying again would not help
    run = port.run(invocation.run_id)
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert "actionruns is forbidden" in (run.summary or "")
    assert "the platform team needs to look" in (run.summary or "")


def refuse_writes(port: PortEmulator, run_id: str, status: int, error: str) -> None:
    """Port refusing every change to one run, with an error code port-bridge cannot know."""
    for method in ("PATCH", "POST"):
        port.faults.refuse(
            status, error=error, message="refused", method=method, path=re.escape(run_id), times=None
        )


def runs_refused(port: PortEmulator, run: Run) -> int:
    return sum(
        1 for call in port.calls if run.id in call.path and call.status is not None and call.status >= 400
    )


def test_a_run_closed_in_port_before_the_bridge_reports_ends_at_once(
    bridge_without_controller: Bridge,
    start_controller: StartController,
    port_api: PortApi,
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = bridge_without_controller
    run_id = bridge.click("create-redis", CACHE)
    port_api.patch(
        f"/v1/actions/runs/{run_id}?version=v2", json={"status": "FAILURE", "summary": "cancelled"}
    )
    refuse_writes(bridge.port, run_id, 403, "forbidden")
    start_controller()
    record = finished_actionrun(kube_client, run_id)
    assert record["status"]["phase"] == "Closed"
    assert "Port shows the run FAILURE already" in record["status"]["reported"]["note"]
    run = bridge.port.run(run_id)
    assert len(run.terminal_reports) == 1 and run.summary == "cancelled"
    assert runs_refused(bridge.port, run) == 1  # one refused write, then nothing: no retries


def test_a_run_closed_in_port_while_kratix_works_ends_at_its_next_report(
    make_bridge: MakeBridge,
    project_actions: dict[str, ActionConfig],
    port_api: PortApi,
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = make_bridge(actions=with_timeout(project_actions, 1.5), retention_seconds=1.0)
    assert bridge.kratix is not None
    bridge.kratix.behave(Behaviour(configure="hang"))
    run_id = bridge.click("create-redis", CACHE)
    wait_for(lambda: bridge.port.run(run_id).logs, what="the run to be announced")
    port_api.patch(f"/v1/actions/runs/{run_id}?version=v2", json={"status": "FAILURE", "summary": "by hand"})
    refuse_writes(bridge.port, run_id, 422, "some_undocumented_code")
    objects = KubeObjects(kube_client)
    wait_for(
        lambda: not objects.list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"],
        timeout=20,
        what="the closed run's ActionRun to be collected after its retention",
    )
    run = bridge.port.run(run_id)
    assert len(run.terminal_reports) == 1 and run.summary == "by hand"
    assert runs_refused(bridge.port, run) == 1
