"""Running ``port-bridge invoke`` as a GitHub workflow step would: a subprocess with the runner's env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from tests.conftest import REPO

WORKFLOW = REPO / "deploy" / "github" / "workflows" / "port-bridge.yml"
WORKFLOW_URL = "https://github.com/acme/platform/actions/runs/4242"


def workflow_inputs() -> dict[str, dict[str, Any]]:
    """The example workflow's ``on.workflow_dispatch.inputs`` (YAML 1.1 reads the key ``on`` as true)."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))
    inputs: dict[str, dict[str, Any]] = triggers["workflow_dispatch"]["inputs"]
    return inputs


@pytest.fixture
def step_files(tmp_path: Path) -> tuple[Path, Path]:
    """The step's summary and output files, as the runner names them."""
    return tmp_path / "step_summary.md", tmp_path / "step_output"


@pytest.fixture
def workflow_env(bridge_env: dict[str, str], step_files: tuple[Path, Path]) -> dict[str, str]:
    """The environment of the workflow's step: port-bridge's settings and the runner's variables."""
    summary, output = step_files
    return {
        **bridge_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/platform",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }


class Invoke(Protocol):
    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = ...
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def invoke(workflow_env: dict[str, str]) -> Invoke:
    """``port-bridge invoke ARGS`` in a subprocess, with the step's environment (plus ``env``)."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "port_bridge", "invoke", *args],
            env={**workflow_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
