"""Signed calls that once got a 500: each now gets a 4xx or 503 that names the problem, and whenever
the run id is known the run is recorded and closed in Port with that message."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import kubernetes
import pytest
import requests
from flask import Flask
from werkzeug.wrappers import Request, Response

from port_bridge.intake.app import create_app
from port_bridge.intake.service import Intake
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kratix.promise import PromiseApi
from port_bridge.kube.actionruns import ACTIONRUNS
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run, sign
from tests.conftest import BRIDGE_NAMESPACE
from tests.waiting import wait_for

TOO_DEEP = "is nested more than 64 levels deep (port-bridge reads at most 64)"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def signed(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "content-type": "application/json",
        "x-port-timestamp": stamp,
        "x-port-signature": sign(body, secret=secret, timestamp=stamp),
    }


def stored(objects: KubeObjects) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = objects.list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"]
    return items


def closed(port: PortEmulator, run_id: str) -> Run:
    def finished() -> Run | None:
        run = port.run(run_id)
        return run if run.finished else None

    run = wait_for(finished, what=f"run {run_id} to be closed")
    assert run is not None
    return run


@pytest.fixture
def objects(kube_client: kubernetes.client.ApiClient) -> KubeObjects:
    return KubeObjects(kube_client)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b'"inputs":{"name":' + nested(3000) + b"}", "inputs", TOO_DEEP),
        (b'"inputs":{"name":"cache"},"entity":' + nested(5000), "entity", TOO_DEEP),
        (b'"inputs":{"name":"cache","size":NaN}', "inputs.size", "NaN is not a JSON value"),
        (b'"inputs":{"name":"cache","size":1e400}', "inputs.size", "1e400 is out of range"),
        (b'"inputs":{"name":"cache","size":' + b"7" * 5000 + b"}", "inputs.size", "is out of range"),
        (b'"inputs":{"name":"cache\\udfff"}', "inputs.name", "lone UTF-16 surrogate"),
    ],
)
def test_bodies_python_reads_but_port_never_sends_are_400_and_the_run_is_closed(
    body: bytes,
    field: str,
    message: str,
    port: PortEmulator,
    intake_server: WsgiThread,
    objects: KubeObjects,
    start_controller: Callable[..., Any],
) -> None:
    start_controller()
    run_id = port.create_run("create-redis", inputs={"name": "cache"})
    raw = b'{"runId":"' + run_id.encode() + b'","action":"create-redis",' + body + b"}"
    answer = requests.post(
        intake_server.url + "/webhook", data=raw, headers=signed(port.client_secret, raw), timeout=10
    )
    assert answer.status_code == 400, answer.text
    refusal = answer.json()
    assert refusal["error"] == "unsupported_json"
    [problem] = refusal["errors"]
    assert problem["field"] == field and message in problem["message"]
    [actionrun] = stored(objects)
    assert actionrun["spec"]["rejection"]["reason"] == "unsupported_json"
    run = closed(port, run_id)
    assert (run.status, run.summary) == ("FAILURE", refusal["message"])
    assert len(run.terminal_reports) == 1


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (nested(5000), "missing_run_id"),
        (b'{"runId":"r_\\ud800x","action":"create-redis","inputs":{"name":"cache"}}', "invalid_run_id"),
        (b'{"runId":"r_\\udc00","action":"create-redis"}', "invalid_run_id"),
        (b'{"runId":"r_1 2","action":"create-redis","inputs":{"name":"cache"}}', "invalid_run_id"),
        (b'{"context":{"runId":"' + b"r" * 129 + b'"},"action":"create-redis"}', "invalid_run_id"),
        (b'{"runId":"r_1","inputs":' + b"9" * 5000 + b"}", None),  # once 'not valid JSON', now recorded
    ],
)
def test_calls_without_a_usable_run_id_are_400_and_store_nothing(
    raw: bytes, error: str | None, port: PortEmulator, intake_server: WsgiThread, objects: KubeObjects
) -> None:
    answer = requests.post(
        intake_server.url + "/webhook", data=raw, headers=signed(port.client_secret, raw), timeout=10
    )
    assert answer.status_code == 400, answer.text
    if error is None:
        assert answer.json()["error"] == "unsupported_json"
        assert [run["spec"]["runId"] for run in stored(objects)] == ["r_1"]
        return
    assert answer.json()["error"] == error
    assert answer.json()["message"].startswith(
        "the run id must be 1 to 128 printable" if error == "invalid_run_id" else "the body carries no run id"
    )
    assert stored(objects) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"runId":"r_1","inputs":' + nested(5000) + b"}",
        b'{"runId":"r_\\ud800","action":"create-redis"}',
        b'{"runId": "r_1", "inputs": {"name": "\\ud800"}}',
    ],
)
def test_calls_that_do_not_verify_are_401_whatever_the_body(
    raw: bytes, port: PortEmulator, intake_server: WsgiThread, objects: KubeObjects
) -> None:
    answer = requests.post(
        intake_server.url + "/webhook", data=raw, headers=signed("not-the-secret", raw), timeout=10
    )
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "unauthorized"
    assert stored(objects) == []


# -- The Kubernetes API refuses ------------------------------------------------------------------

FORBIDDEN = (
    'promises.platform.kratix.io "redis" is forbidden: User "system:serviceaccount:port-bridge:port-bridge" '
    'cannot get resource "promises" in API group "platform.kratix.io" at the cluster scope'
)


class RbacProxy:
    """The API server as port-bridge sees it when its RBAC lacks a rule: a real HTTP server that
    forwards to the emulator and answers 403, as the API server words it, for what is forbidden."""

    def __init__(self, upstream: str, *, forbidden: Callable[[Request], bool]) -> None:
        self.upstream, self.forbidden = upstream, forbidden

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if self.forbidden(request):
            status = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": FORBIDDEN,
                "reason": "Forbidden",
                "details": {"name": "redis", "group": "platform.kratix.io", "kind": "promises"},
                "code": 403,
            }
            response = Response(json.dumps(status), status=403, mimetype="application/json")
            return response(environ, start_response)
        query = request.query_string.decode()
        upstream = requests.request(
            request.method,
            self.upstream + request.path + (f"?{query}" if query else ""),
            data=request.get_data(),
            headers={"Content-Type": request.content_type or "application/json"},
            timeout=10,
        )
        response = Response(upstream.content, status=upstream.status_code)
        response.headers["Content-Type"] = upstream.headers.get("Content-Type", "application/json")
        return response(environ, start_response)


@pytest.fixture
def promises_forbidden(cluster: KubeApiServer) -> Iterator[kubernetes.client.ApiClient]:
    """A Kubernetes client whose every Promise read is refused with 403."""
    proxy = RbacProxy(cluster.url, forbidden=lambda request: "/promises" in request.path)
    with WsgiThread(proxy) as server:
        configuration = kubernetes.client.Configuration()
        configuration.host = server.url
        with kubernetes.client.ApiClient(configuration) as client:
            yield client


def test_a_promise_port_bridge_may_not_read_is_503_naming_rbac_and_the_run_is_closed(
    promises_forbidden: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    port: PortEmulator,
    objects: KubeObjects,
    start_controller: Callable[..., Any],
) -> None:
    start_controller()
    app = create_app(bridge_settings, api_client=promises_forbidden, actions=project_actions)
    with WsgiThread(app) as intake:
        invocation = port.invoke("create-redis", inputs={"name": "cache"}, url=intake.url + "/webhook")
        page = requests.get(f"{intake.url}/runs/{invocation.run_id}", timeout=10)
    assert invocation.response.status_code == 503, invocation.response.text
    refusal = invocation.response.json()
    assert refusal["error"] == "promise_forbidden"
    assert refusal["message"] == (
        f"port-bridge may not read Promise 'redis' (the Kubernetes API answered 403: {FORBIDDEN}): its "
        "ServiceAccount needs get on promises.platform.kratix.io; the platform team needs to fix "
        "port-bridge's RBAC"
    )
    assert page.json()["rejection"]["reason"] == "promise_forbidden"
    [actionrun] = stored(objects)
    assert actionrun["spec"]["rejection"]["code"] == 503
    run = closed(port, invocation.run_id)
    assert (run.status, run.summary) == ("FAILURE", refusal["message"])


def test_the_run_pages_answer_a_refusal_and_a_bad_run_id_without_500(
    cluster: KubeApiServer, bridge_settings: Settings, project_actions: dict[str, ActionConfig]
) -> None:
    proxy = RbacProxy(cluster.url, forbidden=lambda request: "/actionruns" in request.path)
    with WsgiThread(proxy) as server:
        configuration = kubernetes.client.Configuration()
        configuration.host = server.url
        with kubernetes.client.ApiClient(configuration) as client:
            page = create_app(bridge_settings, api_client=client, actions=project_actions).test_client()
            forbidden = page.get("/runs/r_QOz6WoOB1Q2lmhZZ")
            bad_id = page.get("/runs/r%201")
            listing = page.get("/runs")
    assert forbidden.status_code == 503 and "answered 403" in json.loads(forbidden.data)["message"]
    assert listing.status_code == 503 and "answered 403" in json.loads(listing.data)["message"]
    assert bad_id.status_code == 400 and json.loads(bad_id.data)["error"] == "invalid_run_id"


# -- Whatever else goes wrong ---------------------------------------------------------------------


class FailingCatalog(PromiseCatalog):
    """A Promise catalog with a bug: stands for any unexpected error while a run is checked."""

    def get(self, name: str) -> PromiseApi:
        raise ZeroDivisionError("a bug")


def test_an_unexpected_error_is_recorded_as_a_refusal_so_the_run_is_closed(
    port: PortEmulator,
    objects: KubeObjects,
    project_actions: dict[str, ActionConfig],
    start_controller: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    start_controller()
    intake = Intake(
        client_secret=port.client_secret,
        namespace=BRIDGE_NAMESPACE,
        replay_window_seconds=300,
        actions=project_actions,
        objects=objects,
        promises=FailingCatalog(objects),
    )
    run_id = port.create_run("create-redis", inputs={"name": "cache"})
    raw = json.dumps({"runId": run_id, "action": "create-redis", "inputs": {"name": "cache"}}).encode()
    answer = intake.handle(signed(port.client_secret, raw), raw)
    assert (answer.status, answer.body["error"]) == (500, "internal_error")
    assert "ZeroDivisionError: a bug" in caplog.text  # the operator sees the traceback in the logs
    [actionrun] = stored(objects)
    assert actionrun["spec"]["rejection"]["reason"] == "internal_error"
    run = closed(port, run_id)
    assert (run.status, run.summary) == ("FAILURE", answer.body["message"])


def test_a_timestamp_too_large_for_a_float_is_401(intake_app: Flask) -> None:
    answer = intake_app.test_client().post(
        "/webhook", data=b"{}", headers={"x-port-timestamp": "9" * 400, "x-port-signature": "v1,AAAA"}
    )
    assert answer.status_code == 401 and "epoch seconds" in json.loads(answer.data)["message"]
