"""POST /webhook end to end: Port (the emulator) calls intake over HTTP; the cluster is the emulator.

Each answer intake can give is shown here, and every rejection of a verified run with a known run
id is shown to close that run in Port as FAILURE with the same message.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import requests
import yaml
from flask import Flask
from werkzeug.test import TestResponse

from port_bridge.intake.app import create_app
from port_bridge.intake.closing import PortRunCloser
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig, load_action_file
from port_bridge.port.client import PortClient
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run, port_json, sign
from port_bridge_sandbox.port.invoker import BodyFormat
from tests.conftest import BRIDGE_NAMESPACE, REPO
from tests.waiting import wait_for

GOOD = {"name": "orders", "env": "dev"}


@pytest.fixture
def webhook(intake_server: WsgiThread) -> str:
    return intake_server.url + "/webhook"


@pytest.fixture
def objects(kube_client: kubernetes.client.ApiClient) -> KubeObjects:
    return KubeObjects(kube_client)


def actionruns(objects: KubeObjects) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = objects.list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"]
    return items


def post(
    url: str, body: bytes, *, secret: str, timestamp: int | None = None, **extra: str
) -> requests.Response:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-port-timestamp": stamp,
        "x-port-signature": sign(body, secret=secret, timestamp=stamp),
        **extra,
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


# -- Accepted runs -----------------------------------------------------------------------------


@pytest.mark.parametrize("body_format", ["v2", "legacy"])
def test_a_signed_call_becomes_one_actionrun_and_202(
    body_format: BodyFormat, port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    invocation = port.invoke(
        "create-postgresql",
        inputs={**GOOD, "namespace": "team-a", "backupEnabled": True},
        url=webhook,
        body_format=body_format,
    )
    assert invocation.response.status_code == 202
    assert invocation.response.json() == {
        "runId": invocation.run_id,
        "actionRun": actionrun_name(invocation.run_id),
        "namespace": BRIDGE_NAMESPACE,
    }
    [run] = actionruns(objects)
    spec = run["spec"]
    assert spec["runId"] == invocation.run_id  # exactly, case and all
    assert (spec["action"], spec["operation"], spec["format"]) == ("create-postgresql", "CREATE", body_format)
    assert spec["requests"] == [
        {
            "id": "main",
            "promise": "postgresql",
            "apiVersion": "marketplace.kratix.io/v1alpha2",
            "kind": "postgresql",
            "plural": "postgresqls",
            "namespace": "team-a",
            "name": "orders",
            "labels": {},
            "spec": {"env": "dev", "backupEnabled": True},
        }
    ]
    assert spec["trigger"]["by"]["email"] == "developer@example.com"
    assert spec["timeoutSeconds"] == 1800


def test_runs_forwarded_by_the_execution_agent_are_accepted(
    port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    invocation = port.invoke(
        "create-redis", inputs={"name": "cache", "size": "large"}, url=webhook, sender="agent"
    )
    assert invocation.response.status_code == 202
    assert b": " in invocation.body  # it really was re-serialised with spaces
    assert [run["spec"]["requests"][0]["spec"] for run in actionruns(objects)] == [{"size": "large"}]


def test_day_2_and_delete_runs_carry_the_selected_entity(
    port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    entity = {
        "identifier": "default.cache",
        "title": "cache",
        "blueprint": "redis",
        "properties": {"namespace": "default", "requestName": "cache", "size": "small"},
    }
    port.add_entity("redis", entity)
    assert (
        port.invoke(
            "update-redis", inputs={"size": "large"}, entity="default.cache", url=webhook
        ).response.status_code
        == 202
    )
    assert port.invoke("delete-redis", entity="default.cache", url=webhook).response.status_code == 202
    by_action = {run["spec"]["action"]: run["spec"] for run in actionruns(objects)}
    assert by_action["update-redis"]["requests"][0]["spec"] == {"size": "large"}
    assert by_action["update-redis"]["requests"][0]["name"] == "cache"
    assert "spec" not in by_action["delete-redis"]["requests"][0]
    assert by_action["delete-redis"]["entity"]["identifier"] == "default.cache"


def test_a_repeat_delivery_answers_200_with_the_same_body(
    port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    first = port.invoke("create-postgresql", inputs=GOOD, url=webhook)
    again = requests.post(webhook, data=first.body, headers=first.headers, timeout=10)
    assert (first.response.status_code, again.status_code) == (202, 200)
    assert again.json() == first.response.json()
    assert len(actionruns(objects)) == 1


def test_ten_deliveries_at_once_make_one_actionrun(
    port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    first = port.invoke("create-postgresql", inputs=GOOD, url=webhook)
    objects.delete(ACTIONRUNS, actionrun_name(first.run_id), namespace=BRIDGE_NAMESPACE)
    answers: list[requests.Response] = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        answers.append(requests.post(webhook, data=first.body, headers=first.headers, timeout=10))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [202]
    assert {json.dumps(answer.json(), sort_keys=True) for answer in answers} == {
        json.dumps(first.response.json(), sort_keys=True)
    }
    assert len(actionruns(objects)) == 1


# -- Calls that are not from Port ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ({"secret": "not-the-client-secret"}, "does not match"),
        ({"timestamp": int(time.time()) - 3600}, "replay window"),
        ({"timestamp": int(time.time()) + 3600}, "replay window"),
    ],
)
def test_unverified_calls_get_401_and_touch_nothing(
    variant: dict[str, Any], reason: str, port: PortEmulator, webhook: str, objects: KubeObjects
) -> None:
    invocation = port.invoke("create-postgresql", inputs=GOOD, url=webhook, **variant)
    assert invocation.response.status_code == 401
    assert reason in invocation.response.json()["message"]
    assert actionruns(objects) == []
    assert port.calls_matching(None, r"/v1/actions/runs/.*") == []  # and the run is not closed for a stranger


def test_missing_signature_headers_get_401(webhook: str, objects: KubeObjects) -> None:
    answer = requests.post(webhook, json={"runId": "r_1", "action": "create-postgresql"}, timeout=10)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "unauthorized",
        "message": "missing x-port-signature and x-port-timestamp header",
    }
    assert actionruns(objects) == []


# -- Rejections --------------------------------------------------------------------------------


def test_malformed_json_is_400(port: PortEmulator, webhook: str, objects: KubeObjects) -> None:
    answer = post(webhook, b'{"runId": "r_1", "action": ', secret=port.client_secret)
    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed_json"
    assert actionruns(objects) == []


def test_a_body_without_run_id_is_400(port: PortEmulator, webhook: str, objects: KubeObjects) -> None:
    answer = post(
        webhook, port_json({"action": "create-postgresql", "inputs": GOOD}), secret=port.client_secret
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "missing_run_id"
    assert actionruns(objects) == []


def test_bodies_over_the_limit_are_413(port: PortEmulator, webhook: str) -> None:
    body = port_json({"runId": "r_1", "action": "create-postgresql", "inputs": {"name": "x" * (1024 * 1024)}})
    answer = post(webhook, body, secret=port.client_secret)
    assert answer.status_code == 413
    assert "1048576 bytes" in answer.json()["message"]


@pytest.fixture
def stranger(port: PortEmulator, project_actions: dict[str, ActionConfig]) -> str:
    """An action Port has but port-bridge does not."""
    action = copy.deepcopy(project_actions["create-redis"].raw_action)
    action.update(identifier="create-mongodb", title="Create MongoDB")
    port.add_action(action)
    return "create-mongodb"


def test_unknown_actions_are_404_and_recorded(
    port: PortEmulator, webhook: str, objects: KubeObjects, stranger: str
) -> None:
    invocation = port.invoke("create-mongodb", inputs={"name": "docs"}, url=webhook)
    assert invocation.response.status_code == 404
    assert "action 'create-mongodb' is not configured in port-bridge" in invocation.response.json()["message"]
    [run] = actionruns(objects)
    assert run["spec"]["rejection"]["code"] == 404


def test_invalid_inputs_are_422_with_each_field(port: PortEmulator, webhook: str) -> None:
    invocation = port.invoke("create-postgresql", inputs={"name": "Orders!", "env": "qa"}, url=webhook)
    assert invocation.response.status_code == 422
    body = invocation.response.json()
    assert body["error"] == "invalid_inputs"
    assert sorted(error["field"] for error in body["errors"]) == ["inputs.env", "inputs.name"]
    assert body["runId"] == invocation.run_id


@pytest.fixture
def loose_action(
    tmp_path: Path, project_actions: dict[str, ActionConfig]
) -> Callable[[dict[str, Any]], ActionConfig]:
    """A variant of create-redis whose form checks nothing, so later checks are reached."""

    def make(kratix: dict[str, Any]) -> ActionConfig:
        document = yaml.safe_load((REPO / "actions" / "create-redis.yaml").read_text())
        document["action"]["trigger"]["userInputs"] = {
            "properties": {
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "size": {"type": "string"},
            },
            "required": [],
        }
        document["kratix"].update(kratix)
        path = tmp_path / "create-redis.yaml"
        path.write_text(yaml.safe_dump(document))
        return load_action_file(path)

    return make


@pytest.mark.parametrize(
    ("kratix", "inputs", "error", "field", "message"),
    [
        ({}, {"name": "My_Cache"}, "invalid_request", "kratix.name", "RFC 1123"),
        ({}, {"name": "c" * 64}, "invalid_request", "kratix.name", "no more than 63"),
        (
            {},
            {"name": "cache", "namespace": "kube-system"},
            "invalid_request",
            "kratix.namespace",
            "not allowed",
        ),
        ({}, {"name": "cache", "size": "huge"}, "invalid_request", "spec.size", "^(small|large)$"),
        (
            {"spec": "{size: .inputs.size, replicas: 3}"},
            {"name": "cache", "size": "small"},
            "invalid_request",
            "spec.replicas",
            "is not a field of redis",
        ),
        ({"name": ".inputs.missing"}, {"name": "cache"}, "mapping_failed", "kratix.name", "non-empty string"),
    ],
)
def test_requests_kubernetes_or_the_promise_would_refuse_are_422(
    kratix: dict[str, Any],
    inputs: dict[str, Any],
    error: str,
    field: str,
    message: str,
    loose_action: Callable[[dict[str, Any]], ActionConfig],
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    port: PortEmulator,
    objects: KubeObjects,
) -> None:
    app = create_app(bridge_settings, api_client=kube_client, actions={"create-redis": loose_action(kratix)})
    with WsgiThread(app) as server:
        invocation = port.invoke("create-redis", inputs=inputs, url=server.url + "/webhook")
    assert invocation.response.status_code == 422
    body = invocation.response.json()
    assert body["error"] == error
    [problem] = [e for e in body["errors"] if e["field"] == field]
    assert message in problem["message"]
    assert [run["spec"]["rejection"]["reason"] for run in actionruns(objects)] == [error]


def test_an_uninstalled_promise_is_a_503_the_platform_team_must_fix(
    port: PortEmulator, webhook: str, kube_client: kubernetes.client.ApiClient
) -> None:
    KubeObjects(kube_client).delete(
        ACTIONRUNS.__class__("platform.kratix.io", "v1alpha1", "promises", False), "redis"
    )
    invocation = port.invoke("create-redis", inputs={"name": "cache"}, url=webhook)
    assert invocation.response.status_code == 503
    assert "Promise 'redis' is not installed" in invocation.response.json()["message"]


def ended(port: PortEmulator, run_id: str) -> Run | None:
    run = port.run(run_id)
    return run if run.status != "IN_PROGRESS" else None


def test_every_rejection_closes_the_port_run_as_failure_with_the_same_message(
    port: PortEmulator, webhook: str, start_controller: Callable[..., Any], stranger: str
) -> None:
    start_controller()
    rejected = [
        port.invoke("create-mongodb", inputs={"name": "docs"}, url=webhook),
        port.invoke("create-postgresql", inputs={"name": "Orders!", "env": "qa"}, url=webhook),
    ]
    run_id = port.create_run("create-postgresql", inputs=GOOD)
    malformed = post(
        webhook,
        port_json({"runId": run_id, "action": "create-postgresql", "inputs": [1]}),
        secret=port.client_secret,
    )
    answers = [(invocation.run_id, invocation.response) for invocation in rejected] + [(run_id, malformed)]
    for closed_run, answer in answers:
        assert answer.status_code in (400, 404, 422)
        run = wait_for(functools.partial(ended, port, closed_run))
        assert run.status == "FAILURE"
        assert run.summary == answer.json()["message"]
        assert [log.message for log in run.logs] == [
            f"port-bridge refused the run: {answer.json()['message']}"
        ]
        assert len(run.terminal_reports) == 1
    assert port.spec_violations == []


def test_an_unreachable_kubernetes_api_is_503_and_the_run_is_closed_directly(
    port: PortEmulator,
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    port_client: PortClient,
) -> None:
    settings = bridge_settings.model_copy(update={"kube_retry_seconds": 0.3, "kube_timeout_seconds": 1.0})
    app = create_app(
        settings, api_client=kube_client, actions=project_actions, closer=PortRunCloser(port_client)
    )
    with WsgiThread(app) as server:
        cluster.stop()
        invocation = port.invoke("create-postgresql", inputs=GOOD, url=server.url + "/webhook")
    assert invocation.response.status_code == 503
    assert invocation.response.headers["Retry-After"] == "10"
    assert "could not record this run" in invocation.response.json()["message"]
    run = port.run(invocation.run_id)
    assert run.status == "FAILURE"
    assert run.summary == invocation.response.json()["message"]


# -- Health, readiness, metrics -----------------------------------------------------------------


def json_of(response: TestResponse) -> dict[str, Any]:
    body = response.json
    assert isinstance(body, dict), response.get_data(as_text=True)
    return body


def test_health_readiness_and_metrics(
    cluster: KubeApiServer,
    port: PortEmulator,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
) -> None:
    now = [time.time()]
    intake_app = create_app(
        bridge_settings, api_client=kube_client, actions=project_actions, clock=lambda: now[0]
    )
    client = intake_app.test_client()
    assert client.get("/healthz").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and json_of(ready)["checks"] == {
        "kubernetes": "reachable",
        "actions": len(project_actions),
    }
    with WsgiThread(intake_app) as intake_server:
        port.invoke("create-postgresql", inputs=GOOD, url=intake_server.url + "/webhook")
        requests.post(intake_server.url + "/webhook", data=b"{}", timeout=5)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'port_bridge_http_requests_total{outcome="accepted",route="/webhook"} 1.0' in metrics
    assert 'port_bridge_http_requests_total{outcome="unauthorized",route="/webhook"} 1.0' in metrics
    assert 'port_bridge_http_request_duration_seconds_count{route="/webhook"} 2.0' in metrics
    cluster.stop()
    assert client.get("/readyz").status_code == 200  # the answer is kept 5 s...
    now[0] += 5.1
    not_ready = client.get("/readyz")  # ...and then asked again
    assert not_ready.status_code == 503 and json_of(not_ready)["checks"]["kubernetes"].startswith(
        "unreachable"
    )


def test_unknown_routes_and_methods_answer_json(intake_app: Flask) -> None:
    client = intake_app.test_client()
    assert client.get("/nowhere").status_code == 404
    wrong = client.get("/webhook")
    assert wrong.status_code == 405 and json_of(wrong)["error"] == "method_not_allowed"


def test_secrets_and_signatures_never_reach_the_logs(
    port: PortEmulator, webhook: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    good = port.invoke("create-postgresql", inputs=GOOD, url=webhook)
    port.invoke("create-postgresql", inputs=GOOD, url=webhook, secret="wrong-secret-value")
    text = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert port.client_secret not in text
    assert good.headers["x-port-signature"].removeprefix("v1,") not in text


def test_the_run_page_shows_what_the_bridge_knows(
    port: PortEmulator, webhook: str, intake_server: WsgiThread
) -> None:
    accepted = port.invoke("create-postgresql", inputs=GOOD, url=webhook)
    rejected = port.invoke("create-postgresql", inputs={"name": "Bad!", "env": "dev"}, url=webhook)
    page = requests.get(f"{intake_server.url}/runs/{accepted.run_id}", timeout=5).json()
    assert page["request"] == {
        "apiVersion": "marketplace.kratix.io/v1alpha2",
        "kind": "postgresql",
        "namespace": "default",
        "name": "orders",
    }
    assert page["phase"] == "Received"
    assert (
        requests.get(f"{intake_server.url}/runs/{rejected.run_id}", timeout=5).json()["rejection"]["code"]
        == 422
    )
    other_case = accepted.run_id.swapcase()
    assert requests.get(f"{intake_server.url}/runs/{other_case}", timeout=5).status_code == 404
