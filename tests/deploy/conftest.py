"""Fixtures of the deploy tests: the Python 3.12 venv holding Helm's library and the schemas.

helm-sdkpy (Helm's Go library) needs Python 3.12+, so the chart's and the release workflow's
checks run tests/deploy/helm/driver.py in .venv-helm (``make helm-venv``) and read its answer.
Without that venv they skip with one line, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).parent / "helm" / "driver.py"
HELM_VENV = Path(os.environ.get("PORT_BRIDGE_HELM_VENV") or REPO / ".venv-helm")


@pytest.fixture(scope="session")
def helm_python() -> Path:
    python = HELM_VENV / "bin" / "python"
    if not python.exists():
        message = f"no {HELM_VENV}: run `make helm-venv` (needs Python 3.12+) for the Helm chart's tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return python


def drive(python: Path, request: dict[str, Any]) -> dict[str, Any]:
    """One request to the driver (``command`` and its fields); its JSON answer."""
    with tempfile.TemporaryDirectory() as home:  # Helm's caches and settings, kept out of $HOME
        env = {
            **os.environ,
            "HELM_DRIVER": "memory",
            "HELM_CACHE_HOME": f"{home}/cache",
            "HELM_CONFIG_HOME": f"{home}/config",
            "HELM_DATA_HOME": f"{home}/data",
        }
        done = subprocess.run(
            [str(python), str(DRIVER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, f"the Helm driver failed:\n{done.stderr}"
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
