"""The release workflow (.github/workflows/release.yaml): written and checked here, run on GitHub.

It is checked against GitHub's workflow schema (check-jsonschema's copy, in .venv-helm), its
version guard is run here with bash on this repository, and its jobs are read for what a release
needs: the image from deploy/Dockerfile pushed to ghcr.io, the chart packaged and pushed after it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import port_bridge
from tests.deploy.conftest import drive
from tests.deploy.test_manifests import REPO

WORKFLOW = REPO / ".github" / "workflows" / "release.yaml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return found


def uses(workflow: dict[Any, Any], job: str, action: str) -> dict[str, Any]:
    [step] = [s for s in steps(workflow, job) if str(s.get("uses", "")).startswith(f"{action}@")]
    return step


def test_the_workflow_meets_githubs_schema(helm_python: Path) -> None:
    answer = drive(helm_python, {"command": "workflow", "path": str(WORKFLOW)})
    assert answer["ok"], answer["output"]


def test_it_runs_on_version_tags_with_least_privilege(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert triggers == {"push": {"tags": ["v*.*.*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    writers = {
        name for name, job in workflow["jobs"].items() if (job.get("permissions") or {}).get("packages")
    }
    assert writers == {"image", "chart"}
    assert workflow["jobs"]["image"]["needs"] == "version"
    assert set(workflow["jobs"]["chart"]["needs"]) == {"version", "image"}, "no chart without its image"


def test_the_image_is_built_from_the_dockerfile_and_pushed_to_ghcr(workflow: dict[Any, Any]) -> None:
    login = uses(workflow, "image", "docker/login-action")
    assert login["with"]["registry"] == "${{ env.REGISTRY }}" and workflow["env"]["REGISTRY"] == "ghcr.io"
    build = uses(workflow, "image", "docker/build-push-action")["with"]
    assert (build["context"], build["file"], build["push"]) == (".", "deploy/Dockerfile", True)
    assert (REPO / build["file"]).is_file()
    assert workflow["env"]["IMAGE"].startswith("ghcr.io/") and workflow["env"]["IMAGE"].endswith(
        "/port-bridge"
    )


def test_the_chart_is_linted_packaged_and_pushed(workflow: dict[Any, Any]) -> None:
    commands = "\n".join(str(step.get("run", "")) for step in steps(workflow, "chart"))
    assert "helm lint deploy/helm/port-bridge" in commands
    assert "helm package deploy/helm/port-bridge" in commands
    assert 'helm push "dist/port-bridge-${VERSION}.tgz" "$CHARTS"' in commands
    assert workflow["env"]["CHARTS"].startswith("oci://ghcr.io/")
    assert (REPO / "deploy" / "helm" / "port-bridge" / "Chart.yaml").is_file()
    assert "secrets.GITHUB_TOKEN" not in commands, "secrets reach the shell through env, not the script"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(("tag", "accepted"), [(f"v{port_bridge.__version__}", True), ("v9.9.9", False)])
def test_the_version_guard_accepts_only_the_version_the_code_carries(
    workflow: dict[Any, Any], tag: str, accepted: bool, tmp_path: Path
) -> None:
    [guard] = [step for step in steps(workflow, "version") if step.get("id") == "version"]
    output = tmp_path / "output"
    output.touch()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", guard["run"]],  # noqa: S607 - bash from PATH, as on a runner
        cwd=REPO,
        env={**os.environ, "GITHUB_REF_NAME": tag, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode == 0) is accepted, done.stdout + done.stderr
    assert output.read_text() == (f"version={port_bridge.__version__}\n" if accepted else "")
