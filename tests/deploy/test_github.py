"""deploy/github/: the workflow, the composite action and the GITHUB Port actions agree, and hold up.

No GitHub runner here, so what can be checked without one is: both files against GitHub's own
schemas (SchemaStore's, as check-jsonschema ships them), zizmor's security audits (offline), the
Port actions' ``invocationMethod`` against the workflow (its file name, its inputs, GitHub's
10-input limit), the composite action's steps run by bash as the runner would run them, and the
script that closes a run the workflow could not hand over, against the Port emulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import BRIDGE_NAMESPACE, REPO

GITHUB = REPO / "deploy" / "github"
ACTION_YML = GITHUB / "action.yml"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
MAX_INPUTS = 10  # GitHub's workflow_dispatch limit, as Port's docs state it
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def dispatch_inputs(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads `on` as true
    inputs: dict[str, dict[str, Any]] = triggers["workflow_dispatch"]["inputs"]
    return inputs


def github_actions() -> dict[str, dict[str, Any]]:
    """The project's Port actions whose invocation method is GITHUB, by file name."""
    found = {}
    for path in sorted((REPO / "actions").glob("*.yaml")):
        action = load(path)["action"]
        if action["invocationMethod"]["type"] == "GITHUB":
            found[path.name] = action
    return found


def test_there_is_a_github_action_and_a_workflow() -> None:
    assert "create-service-github.yaml" in github_actions()
    assert [path.name for path in WORKFLOWS] == ["port-bridge.yml"]


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-actions", ACTION_YML)] + [("vendor.github-workflows", path) for path in WORKFLOWS],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_github_accepts_the_files(schema: str, path: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = Path(sys.executable).parent / "zizmor"
    audited = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", str(ACTION_YML), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout + audited.stderr


@pytest.mark.parametrize("name", sorted(github_actions()))
def test_each_github_action_dispatches_the_workflow_with_what_it_declares(name: str) -> None:
    method = github_actions()[name]["invocationMethod"]
    assert method["reportWorkflowStatus"] is False  # port-bridge reports the run's end itself
    workflow_path = GITHUB / "workflows" / method["workflow"]
    assert workflow_path.is_file(), f"{name} dispatches {method['workflow']}, which deploy/github lacks"
    declared = dispatch_inputs(load(workflow_path))
    sent = set(method["workflowInputs"]) - {"ref"}
    assert len(declared) <= MAX_INPUTS and len(sent) <= MAX_INPUTS
    assert sent <= set(declared)
    assert {input_ for input_, spec in declared.items() if spec.get("required")} <= sent
    context = method["workflowInputs"]["port_context"]
    assert context["runId"] == "{{ .run.id }}" and context["action"] == "{{ .action.identifier }}"


def test_the_github_variant_of_create_service_maps_runs_as_the_webhook_one() -> None:
    webhook, github = (
        load(REPO / "actions" / "create-service.yaml"),
        load(REPO / "actions" / "create-service-github.yaml"),
    )
    assert github["action"]["trigger"] == webhook["action"]["trigger"]
    assert {key: value for key, value in github.items() if key != "action"} == {
        key: value for key, value in webhook.items() if key != "action"
    }
    port_context = github["action"]["invocationMethod"]["workflowInputs"]["port_context"]
    assert port_context == webhook["action"]["invocationMethod"]["body"]  # the webhook's body, as one input


def test_the_composite_action_uses_only_its_inputs_and_never_expands_them_in_a_script() -> None:
    action = load(ACTION_YML)
    inputs = set(action["inputs"])
    for step in action["runs"]["steps"]:
        for expression in EXPRESSION.findall(yaml.safe_dump(step)):
            if expression.startswith("inputs."):
                assert expression.removeprefix("inputs.") in inputs, expression
        assert "${{" not in step.get("run", ""), step["name"]  # values reach scripts through env only
    for workflow in WORKFLOWS:
        for job in load(workflow)["jobs"].values():
            for step in job["steps"]:
                if "deploy/github" in step.get("uses", ""):
                    given = set(step["with"])
                    assert given <= inputs
                    assert {name for name, spec in action["inputs"].items() if spec.get("required")} <= given


def test_the_composite_action_installs_this_repository() -> None:
    root = (GITHUB / ".." / "..").resolve()  # "$ACTION_PATH/../.." in action.yml
    assert 'name = "port-bridge"' in (root / "pyproject.toml").read_text()


def composite_step(name: str) -> str:
    (step,) = [step for step in load(ACTION_YML)["runs"]["steps"] if step["name"] == name]
    script: str = step["run"]
    return script


def test_the_composite_invoke_step_hands_the_run_over(
    port: PortEmulator,
    kube_client: kubernetes.client.ApiClient,
    bridge_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The step's script, run by bash as the runner runs it, with the env its YAML gives it."""
    runner_temp = tmp_path / "runner"
    (runner_temp / "port-bridge" / "bin").mkdir(parents=True)
    (runner_temp / "port-bridge" / "bin" / "port-bridge").symlink_to(
        Path(sys.executable).parent / "port-bridge"
    )
    dispatched = port.workflows.dispatch(
        "create-service-github", inputs={"name": "web", "language": "Go", "tier": "standard"}
    )
    kubeconfig = Path(bridge_env["KUBECONFIG"]).read_text()
    env = {key: value for key, value in bridge_env.items() if key != "KUBECONFIG"}
    env |= {
        "RUNNER_TEMP": str(runner_temp),
        "PORT_CONTEXT": dispatched.inputs["port_context"],
        "PORT_PAYLOAD": "",
        "KUBECONFIG_CONTENT": kubeconfig,
        "WAIT": "false",
        "TIMEOUT": "",
    }
    script = composite_step("Hand the run to port-bridge")
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run([bash, "-e", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    stored = KubeObjects(kube_client).get(
        ACTIONRUNS, actionrun_name(dispatched.run_id), namespace=BRIDGE_NAMESPACE
    )
    assert stored["spec"]["action"] == "create-service-github"
    written = runner_temp / "port-bridge-kubeconfig"
    assert written.read_text().strip() == kubeconfig.strip() and (written.stat().st_mode & 0o077) == 0


def close_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GITHUB / "close_run.py")],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_run_the_workflow_could_not_hand_over_is_closed_once(port: PortEmulator) -> None:
    dispatched = port.workflows.dispatch(
        "create-service-github", inputs={"name": "web", "language": "Go", "tier": "standard"}
    )
    env = {
        "PORT_CONTEXT": dispatched.inputs["port_context"],
        "PORT_CLIENT_ID": port.client_id,
        "PORT_CLIENT_SECRET": port.client_secret,
        "PORT_API_URL": port.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/platform",
        "GITHUB_RUN_ID": "7",
    }
    first = close_run(env)
    assert first.returncode == 0, first.stderr
    run = port.run(dispatched.run_id)
    assert run.status == "FAILURE" and run.link == "https://github.com/acme/platform/actions/runs/7"
    assert run.summary is not None and run.summary.startswith("the GitHub workflow failed before port-bridge")
    again = close_run(env)
    assert again.returncode == 0 and "finished already" in again.stdout
    assert len(port.run(dispatched.run_id).terminal_reports) == 1
    assert port.spec_violations == []
    nameless = close_run({**env, "PORT_CONTEXT": json.dumps({"action": "x"})})
    assert nameless.returncode == 1 and "no run id" in nameless.stderr


def test_the_workflows_identity_gets_intakes_permissions_and_no_more() -> None:
    intake = {
        (document["kind"], document["metadata"]["name"])
        for document in yaml.safe_load_all(
            (REPO / "deploy" / "kustomize" / "base" / "rbac" / "intake.yaml").read_text()
        )
    }
    documents = list(yaml.safe_load_all((GITHUB / "rbac.yaml").read_text()))
    bindings = [document for document in documents if document["kind"].endswith("Binding")]
    assert {(binding["roleRef"]["kind"], binding["roleRef"]["name"]) for binding in bindings} == intake
    assert not [document for document in documents if document["kind"] in ("Role", "ClusterRole")]
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "port-bridge-github", "namespace": BRIDGE_NAMESPACE}
        ]
