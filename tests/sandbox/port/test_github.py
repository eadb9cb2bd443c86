"""The emulator acting as Port for a GITHUB action: the workflow dispatch's inputs, and GitHub's checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from port_bridge_sandbox.port import PortEmulator
from port_bridge_sandbox.port.github import DispatchRefused

BLUEPRINT = {
    "identifier": "service",
    "title": "Service",
    "schema": {"properties": {"tier": {"type": "string"}}},
}


def action(workflow_inputs: dict[str, Any], **method: Any) -> dict[str, Any]:
    return {
        "identifier": "create-service-gh",
        "title": "Create service",
        "trigger": {
            "type": "self-service",
            "operation": "CREATE",
            "blueprintIdentifier": "service",
            "userInputs": {"properties": {"name": {"type": "string"}, "replicas": {"type": "number"}}},
        },
        "invocationMethod": {
            "type": "GITHUB",
            "org": "acme",
            "repo": "platform",
            "workflow": "port-bridge.yml",
            "workflowInputs": workflow_inputs,
            **method,
        },
    }


@pytest.fixture
def emulator(port_emulator: PortEmulator) -> PortEmulator:
    port_emulator.add_blueprint(BLUEPRINT)
    return port_emulator


def test_inputs_are_rendered_and_non_strings_sent_as_json(emulator: PortEmulator) -> None:
    emulator.add_action(
        action(
            {
                "port_context": {"runId": "{{ .run.id }}", "inputs": "{{ .inputs }}"},
                "name": "{{ .inputs.name }}",
                "replicas": "{{ .inputs.replicas }}",
                "ref": "release",
            },
            reportWorkflowStatus=False,
        )
    )
    dispatched = emulator.workflows.dispatch("create-service-gh", inputs={"name": "orders", "replicas": 2})
    assert (dispatched.org, dispatched.repo, dispatched.workflow) == ("acme", "platform", "port-bridge.yml")
    assert dispatched.ref == "release" and "ref" not in dispatched.inputs  # ref names the branch to run
    assert dispatched.inputs["name"] == "orders" and dispatched.inputs["replicas"] == "2"
    context = json.loads(dispatched.inputs["port_context"])
    assert context == {"runId": dispatched.run_id, "inputs": {"name": "orders", "replicas": 2}}
    run = emulator.run(dispatched.run_id)
    assert run.status == "IN_PROGRESS" and run.properties == {"name": "orders", "replicas": 2}
    assert run.payload is not None and run.payload["type"] == "GITHUB"


def test_github_refuses_more_than_ten_inputs(emulator: PortEmulator) -> None:
    emulator.add_action(action({f"input_{n}": "{{ .run.id }}" for n in range(11)}))
    with pytest.raises(DispatchRefused, match="up to 10 `inputs`"):
        emulator.workflows.dispatch("create-service-gh")
    (run,) = emulator.runs()
    assert run.status == "FAILURE" and run.summary is not None and "GitHub refused" in run.summary


def test_github_refuses_inputs_the_workflow_does_not_declare(emulator: PortEmulator) -> None:
    emulator.add_action(action({"port_context": "{{ .run.id }}", "extra": "x"}))
    with pytest.raises(DispatchRefused, match=r"Unexpected inputs provided: \['extra'\]"):
        emulator.workflows.dispatch("create-service-gh", declared={"port_context": {"required": True}})
    with pytest.raises(DispatchRefused, match="Required input 'needed' not provided"):
        emulator.workflows.dispatch(
            "create-service-gh",
            declared={"port_context": {}, "extra": {}, "needed": {"required": True}},
        )


@pytest.mark.parametrize(("report", "closed"), [(True, "SUCCESS"), (False, "IN_PROGRESS")])
def test_port_closes_the_run_from_the_workflow_only_when_asked(
    emulator: PortEmulator, report: bool, closed: str
) -> None:
    emulator.add_action(action({"port_context": "{{ .run.id }}"}, reportWorkflowStatus=report))
    dispatched = emulator.workflows.dispatch("create-service-gh")
    emulator.workflows.conclude(dispatched, success=True)
    assert emulator.run(dispatched.run_id).status == closed


def test_a_webhook_action_is_not_dispatched(emulator: PortEmulator) -> None:
    webhook = action({})
    webhook["invocationMethod"] = {"type": "WEBHOOK", "url": "https://bridge.example.com/webhook"}
    emulator.add_action(webhook)
    with pytest.raises(ValueError, match="not a GITHUB action"):
        emulator.workflows.dispatch("create-service-gh")
