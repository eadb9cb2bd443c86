"""``port-bridge invoke`` end to end: Port (the emulator) dispatches the GITHUB action's workflow,
whose step runs ``port-bridge invoke`` as a subprocess against the Kubernetes emulator, with the
controller and simulated Kratix in the cluster.

A run that goes through ends SUCCESS in Port with its entity, the workflow run's link and a step
summary; a failing one (bad inputs, a failed Kratix pipeline) exits non-zero with the reason and
Port shows FAILURE once, with the webhook's own message for bad inputs; a run handed over without
``--wait`` is finished by the controller.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge.serving import WsgiThread
from port_bridge_sandbox.kratix import Behaviour
from port_bridge_sandbox.port import PortEmulator, legacy_envelope, trigger_context
from port_bridge_sandbox.port.github import WorkflowDispatch
from tests.conftest import BRIDGE_NAMESPACE, StartController, StartKratix
from tests.invoke.conftest import WORKFLOW_URL, Invoke, workflow_inputs
from tests.waiting import wait_for

ACTION = "create-service-github"
SERVICE = {"name": "orders", "language": "Go", "tier": "critical", "includeDatabase": True}


def dispatch(port: PortEmulator, inputs: dict[str, Any]) -> WorkflowDispatch:
    """Port runs the GITHUB action; GitHub would refuse inputs the example workflow does not declare."""
    return port.workflows.dispatch(ACTION, inputs=inputs, declared=workflow_inputs())


def actionrun(kube_client: kubernetes.client.ApiClient, run_id: str) -> dict[str, Any]:
    obj: dict[str, Any] = KubeObjects(kube_client).get(
        ACTIONRUNS, actionrun_name(run_id), namespace=BRIDGE_NAMESPACE
    )
    return obj


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_a_dispatched_run_ends_success_with_its_entity_link_and_summary(
    port: PortEmulator,
    start_kratix: StartKratix,
    start_controller: StartController,
    invoke: Invoke,
    step_files: tuple[Path, Path],
) -> None:
    start_kratix()
    start_controller()
    dispatched = dispatch(port, SERVICE)
    done = invoke("--wait", "--poll", "0.1", env={"PORT_CONTEXT": dispatched.inputs["port_context"]})

    assert done.returncode == 0, done.stderr
    run = port.run(dispatched.run_id)
    assert run.status == "SUCCESS" and len(run.terminal_reports) == 1, run.summary
    assert run.link == WORKFLOW_URL
    assert run.external_run_id == "default/service/orders"
    service = port.entity("service", "default.orders")
    assert service is not None and service["relations"]["database"] == "default.orders-db"
    assert port.entity("postgresql", "default.orders-db") is not None
    logged = [log.message for log in run.logs]
    assert logged[0] == f"GitHub workflow run {WORKFLOW_URL} handed the run to port-bridge"
    shown = done.stdout.splitlines()
    assert shown[0] == f"::group::port-bridge: {ACTION}, Port run {dispatched.run_id}"
    for line in logged[1:]:  # the workflow's log shows the lines port-bridge gave the Port run
        assert any(shown_line.endswith(line) for shown_line in shown), (line, shown)
    assert "::endgroup::" in shown
    assert shown[-1] == f"::notice title=port-bridge::SUCCESS: {run.summary}"
    summary_file, output_file = step_files
    summary = summary_file.read_text()
    assert summary.startswith(f"### ✅ port-bridge: <code>{ACTION}</code> succeeded")
    assert f"<code>{dispatched.run_id}</code>" in summary and "<code>default.orders</code>" in summary
    assert outputs(output_file) == {
        "run-id": dispatched.run_id,
        "action-run": f"{BRIDGE_NAMESPACE}/{actionrun_name(dispatched.run_id)}",
        "state": "succeeded",
        "result": "SUCCESS",
    }


def test_bad_inputs_fail_with_the_webhooks_message_and_port_shows_failure_once(
    port: PortEmulator,
    intake_server: WsgiThread,
    start_controller: StartController,
    invoke: Invoke,
    step_files: tuple[Path, Path],
) -> None:
    start_controller()
    bad = {"name": "Orders_DB", "language": "Cobol", "tier": "standard"}
    webhook = port.invoke("create-service", inputs=bad, url=intake_server.url + "/webhook").response
    assert webhook.status_code == 422
    message = webhook.json()["message"]
    dispatched = dispatch(port, bad)

    done = invoke("--wait", "--poll", "0.1", env={"PORT_CONTEXT": dispatched.inputs["port_context"]})

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"::error title=port-bridge invoke::refused: {message}"
    for error in webhook.json()["errors"]:
        assert f"| {error['field']}: {error['message']}" in done.stdout
    summary_file, output_file = step_files
    assert summary_file.read_text().startswith(f"### ❌ port-bridge: <code>{ACTION}</code> refused")
    assert outputs(output_file)["state"] == "refused"
    run = wait_for(
        lambda: (found := port.run(dispatched.run_id)).finished and found, what="Port to show the end"
    )
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert run.summary == message
    assert run.link == WORKFLOW_URL  # a refused run still links to the workflow run that took it


def test_a_failed_pipeline_fails_the_step_with_kratixs_reason(
    port: PortEmulator, start_kratix: StartKratix, start_controller: StartController, invoke: Invoke
) -> None:
    start_kratix().behave(Behaviour(configure="fail"), promise="service")
    start_controller()
    dispatched = dispatch(port, {"name": "billing", "language": "Java", "tier": "standard"})

    done = invoke("--wait", "--poll", "0.1", env={"PORT_CONTEXT": dispatched.inputs["port_context"]})

    assert done.returncode == 1
    run = port.run(dispatched.run_id)
    assert run.status == "FAILURE" and len(run.terminal_reports) == 1
    assert run.summary is not None and "A Configure Pipeline has failed" in run.summary
    assert done.stderr.splitlines()[-1] == f"::error title=port-bridge invoke::failed: {run.summary}"
    assert port.entity("service", "default.billing") is None


def test_without_wait_the_run_is_handed_to_the_controller_which_finishes_it(
    port: PortEmulator,
    kube_client: kubernetes.client.ApiClient,
    start_kratix: StartKratix,
    start_controller: StartController,
    invoke: Invoke,
) -> None:
    dispatched = dispatch(port, {"name": "lab", "language": "Python", "tier": "experimental"})

    done = invoke(env={"PORT_CONTEXT": dispatched.inputs["port_context"]})

    assert done.returncode == 0, done.stderr
    stored = actionrun(kube_client, dispatched.run_id)
    assert stored["spec"]["links"] == [WORKFLOW_URL] and stored["spec"]["action"] == ACTION
    assert port.run(dispatched.run_id).status == "IN_PROGRESS"  # nobody has followed it yet
    assert f"ActionRun {BRIDGE_NAMESPACE}/{actionrun_name(dispatched.run_id)}" in done.stdout
    start_kratix()
    start_controller(link_template="https://bridge.example.com/runs/{run_id}")
    run = wait_for(
        lambda: (found := port.run(dispatched.run_id)).finished and found, timeout=20, what="the run to end"
    )
    assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
    assert run.link == [f"https://bridge.example.com/runs/{dispatched.run_id}", WORKFLOW_URL]
    assert port.entity("service", "default.lab") is not None


def test_waiting_stops_at_the_timeout_and_leaves_the_run_to_the_controller(
    port: PortEmulator, kube_client: kubernetes.client.ApiClient, invoke: Invoke
) -> None:
    dispatched = dispatch(port, {"name": "slow", "language": "Go", "tier": "standard"})

    done = invoke(
        "--wait", "--timeout", "1s", "--poll", "0.2", env={"PORT_CONTEXT": dispatched.inputs["port_context"]}
    )

    assert done.returncode == 3
    assert "still running: stopped waiting after 1 s" in done.stderr
    assert port.run(dispatched.run_id).status == "IN_PROGRESS"  # the controller, not invoke, ends it
    assert actionrun(kube_client, dispatched.run_id)["spec"]["runId"] == dispatched.run_id


def test_the_legacy_payload_and_explicit_flags_are_read_too(
    port: PortEmulator, kube_client: kubernetes.client.ApiClient, invoke: Invoke
) -> None:
    action = port.state.catalog.action(ACTION)
    legacy_run = port.state.create_run(ACTION, properties={}, entity=None, user_email="dev@example.com")
    context = trigger_context(
        run_id=legacy_run.id,
        action=action,
        inputs={"name": "old", "language": "Go", "tier": "standard"},
        entity={},
        user_email="dev@example.com",
        operation="CREATE",
        org_id=port.org_id,
    )
    payload = invoke(env={"PORT_PAYLOAD": json.dumps(legacy_envelope(context, action))})
    assert payload.returncode == 0, payload.stderr
    assert actionrun(kube_client, legacy_run.id)["spec"]["format"] == "legacy"

    # Flags carry no trigger: an action whose mapping needs none (create-service reads the user's email).
    flagged_run = port.state.create_run(
        "create-redis", properties={}, entity=None, user_email="dev@example.com"
    )
    flags = invoke(
        "--run-id",
        flagged_run.id,
        "--action",
        "create-redis",
        "--inputs",
        '{"name": "cache", "namespace": "team-a"}',
    )
    assert flags.returncode == 0, flags.stderr
    stored = actionrun(kube_client, flagged_run.id)["spec"]
    assert stored["requests"][0]["name"] == "cache" and stored["format"] == "v2"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            '{"action": "create-service-github"}',
            "the body carries no run id (runId, or context.runId in the legacy format)",
        ),
        ("{not json", "the body is not valid JSON: Expecting property name enclosed in double quotes"),
    ],
)
def test_a_context_that_names_no_run_stores_nothing_and_fails(
    port: PortEmulator, kube_client: kubernetes.client.ApiClient, invoke: Invoke, context: str, message: str
) -> None:
    done = invoke(env={"PORT_CONTEXT": context})

    assert done.returncode == 1
    assert message in done.stderr
    assert KubeObjects(kube_client).list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"] == []


def test_refused_credentials_stop_before_anything_is_stored(
    port: PortEmulator, kube_client: kubernetes.client.ApiClient, invoke: Invoke
) -> None:
    dispatched = dispatch(port, {"name": "x", "language": "Go", "tier": "standard"})

    done = invoke(env={"PORT_CONTEXT": dispatched.inputs["port_context"], "PORT_CLIENT_SECRET": "wrong"})

    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(
        "port-bridge: PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at"
    )
    assert KubeObjects(kube_client).list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"] == []
