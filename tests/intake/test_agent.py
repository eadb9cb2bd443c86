"""Behind Port's execution agent: a rejected run is closed once, with port-bridge's message.

The agent reports FAILURE itself (twice) for any answer that is not 2xx, so intake answers it 200
with the rejection whenever port-bridge has the run in hand; the emulator's agent (sender="agent")
reports as the real one does, so these tests count what actually reached the Port run.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from flask import Flask

from port_bridge.intake.app import create_app
from port_bridge.intake.closing import PortRunCloser
from port_bridge.mapping.actions import ActionConfig, load_action_file
from port_bridge.port.client import PortClient
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator, Run, sign
from tests.conftest import REPO, Bridge

AGENT_LOGS = {
    "An action message has been received",
    "Preparing the payload for the request",
    "Sending the request",
    "Action invocation has completed successfully with status code: 200",
    "Action invocation has completed successfully with status code: 202",
    "Port agent finished processing the action run",
}


def agent_reports(run: Run) -> list[dict[str, Any]]:
    """What the agent changed on the run's status (port-bridge's are the other PATCHes)."""
    return [
        patch for patch in run.patches if "Failed to invoke" in str(patch) or "Agent failed" in str(patch)
    ]


def deeply_nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def stranger(port: PortEmulator, project_actions: dict[str, ActionConfig]) -> str:
    """An action Port routes through the agent but port-bridge does not know."""
    action = copy.deepcopy(project_actions["create-redis"].raw_action)
    action.update(identifier="create-mongodb", title="Create MongoDB")
    port.add_action(action)
    return "create-mongodb"


@pytest.mark.parametrize(
    ("action", "inputs", "reason"),
    [
        ("create-mongodb", {"name": "docs"}, "unknown_action"),
        ("create-redis", {"name": "Cache!"}, "invalid_inputs"),
        ("create-redis", {"name": "cache", "size": deeply_nested(100)}, "unsupported_json"),
    ],
)
def test_a_rejected_agent_run_gets_one_terminal_report_with_port_bridges_message(
    action: str, inputs: dict[str, Any], reason: str, stranger: str, bridge: Bridge
) -> None:
    invocation = bridge.port.invoke(action, inputs=inputs, url=bridge.webhook, sender="agent")
    assert invocation.response.status_code == 200, invocation.response.text
    answer = invocation.response.json()
    assert (answer["accepted"], answer["error"], answer["runId"]) == (False, reason, invocation.run_id)
    run = bridge.finished(invocation.run_id)
    assert (run.status, run.summary) == ("FAILURE", answer["message"])
    assert len(run.terminal_reports) == 1
    assert agent_reports(run) == [] and run.refusals == []
    messages = [log.message for log in run.logs]
    assert f"port-bridge refused the run: {answer['message']}" in messages
    assert set(messages) - AGENT_LOGS == {f"port-bridge refused the run: {answer['message']}"}


def test_an_accepted_agent_run_ends_success_once(bridge: Bridge) -> None:
    invocation = bridge.port.invoke(
        "create-redis", inputs={"name": "cache", "size": "large"}, url=bridge.webhook, sender="agent"
    )
    assert invocation.response.status_code == 202
    run = bridge.finished(invocation.run_id)
    assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
    assert agent_reports(run) == []
    assert [log.message for log in run.logs][:3] == [
        "An action message has been received",
        "Preparing the payload for the request",
        "Sending the request",
    ]


# -- How an agent-forwarded run is recognised ------------------------------------------------------


def post(app: Flask, secret: str, body: dict[str, Any], *, spaced: bool = False) -> Any:
    """``body`` signed over its compact form; sent compact (as Port does) or spaced (as the agent does)."""
    compact = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    sent = json.dumps(body).encode() if spaced else compact
    headers = {"x-port-timestamp": stamp, "x-port-signature": sign(compact, secret=secret, timestamp=stamp)}
    return app.test_client().post("/webhook", data=sent, headers=headers)


REJECTED = {"runId": "r_Agent1", "action": "create-redis", "inputs": {"name": "Bad!"}}
AGENT_ADDITIONS = {
    "headers": {},
    "payload": {
        "action": {"invocationMethod": {"type": "WEBHOOK", "url": "http://x", "synchronized": False}}
    },
    "context": {"runId": "r_Agent1"},
}


@pytest.fixture
def agent_action(tmp_path: Path) -> ActionConfig:
    """create-redis, declared in its action file as routed through the agent."""
    document = yaml.safe_load((REPO / "actions" / "create-redis.yaml").read_text())
    document["action"]["invocationMethod"]["agent"] = True
    path = tmp_path / "create-redis.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_action_file(path)


def test_the_agents_body_shape_marks_a_run_as_forwarded(intake_app: Flask, port: PortEmulator) -> None:
    answer = post(intake_app, port.client_secret, {**REJECTED, **AGENT_ADDITIONS})
    assert answer.status_code == 200 and answer.json["accepted"] is False
    assert answer.json["error"] == "invalid_inputs"


def test_a_body_re_serialised_after_signing_marks_a_run_as_forwarded(
    intake_app: Flask, port: PortEmulator
) -> None:
    answer = post(intake_app, port.client_secret, REJECTED, spaced=True)
    assert answer.status_code == 200 and answer.json["error"] == "invalid_inputs"


def test_agent_true_in_the_action_file_marks_its_runs_as_forwarded(
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    port: PortEmulator,
    agent_action: ActionConfig,
) -> None:
    app = create_app(bridge_settings, api_client=kube_client, actions={"create-redis": agent_action})
    answer = post(app, port.client_secret, REJECTED)
    assert answer.status_code == 200 and answer.json["error"] == "invalid_inputs"


def test_a_run_straight_from_port_keeps_its_4xx(intake_app: Flask, port: PortEmulator) -> None:
    assert post(intake_app, port.client_secret, REJECTED).status_code == 422


@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        ({**REJECTED, **AGENT_ADDITIONS}, "not-the-secret", 401),  # nothing proves Port sent it
        ({**REJECTED, **AGENT_ADDITIONS, "runId": "r 1", "context": {"runId": "r 1"}}, None, 400),  # no run
    ],
)
def test_answers_that_leave_the_run_to_the_agent_keep_their_status(
    body: dict[str, Any], secret: str | None, status: int, intake_app: Flask, port: PortEmulator
) -> None:
    assert post(intake_app, secret or port.client_secret, body, spaced=True).status_code == status


# -- When nothing can be recorded -----------------------------------------------------------------


@pytest.mark.parametrize("closes", [True, False])
def test_a_run_that_cannot_be_recorded_is_closed_once_by_intake_or_else_by_the_agent(
    closes: bool,
    port: PortEmulator,
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
    port_client: PortClient,
) -> None:
    settings = bridge_settings.model_copy(update={"kube_retry_seconds": 0.3, "kube_timeout_seconds": 1.0})
    closer = PortRunCloser(port_client) if closes else None
    app = create_app(settings, api_client=kube_client, actions=project_actions, closer=closer)
    with WsgiThread(app) as server:
        cluster.stop()
        invocation = port.invoke(
            "create-redis", inputs={"name": "cache"}, url=server.url + "/webhook", sender="agent"
        )
    run = port.run(invocation.run_id)
    assert len(run.terminal_reports) == 1 and run.status == "FAILURE"
    if closes:
        assert invocation.response.status_code == 200
        assert invocation.response.json()["error"] == "kubernetes_unavailable"
        assert run.summary == invocation.response.json()["message"]
        assert agent_reports(run) == []
    else:  # nobody in port-bridge could close it: the 503 lets the agent do it
        assert invocation.response.status_code == 503
        assert run.summary is not None and run.summary.startswith(
            "Failed to invoke the webhook with status code: 503"
        )
