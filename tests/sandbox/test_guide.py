"""``port-bridge sandbox --keep-running``: the printed commands work when pasted into a shell."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from port_bridge_sandbox.demo import run_sandbox
from tests.waiting import wait_for

BASH = shutil.which("bash") or "/bin/bash"


class _Story(io.StringIO):
    """What the demo prints, with an event set once it says it keeps running."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "keeps running until interrupted" in self.getvalue():
            self.serving.set()
        return written


@pytest.fixture(scope="module")
def kept_running() -> Iterator[str]:
    story, stop = _Story(), threading.Event()
    demo = threading.Thread(
        target=run_sandbox,
        kwargs={"keep_running": True, "speed": 20, "out": story, "stop": stop},
        daemon=True,
    )
    demo.start()
    assert story.serving.wait(120), story.getvalue()
    yield story.getvalue()
    stop.set()
    demo.join(30)
    assert not demo.is_alive()


def _command(story: str, starts: str) -> str:
    return next(line.strip() for line in story.splitlines() if line.strip().startswith(starts))


def test_the_guide_names_the_credentials_and_the_kubeconfig(kept_running: str) -> None:
    assert re.search(r"client id \S+, client secret \S+", kept_running)
    assert re.search(r"kubeconfig +/\S+/kubeconfig", kept_running)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_commands_start_a_run_that_port_bridge_finishes(kept_running: str) -> None:
    token = _command(kept_running, "TOKEN=$(curl")
    start = _command(kept_running, "curl -s -X POST")
    follow = _command(kept_running, "curl -s http")
    started = subprocess.run(
        [BASH, "-c", f"set -e; {token}; {start}"], capture_output=True, text=True, timeout=30, check=True
    )
    run_id = json.loads(started.stdout)["run"]["id"]

    def status() -> str | None:
        shown = subprocess.run(
            [BASH, "-c", f"set -e; {token}; {follow.replace('RUN_ID', run_id)}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        found: str = json.loads(shown.stdout)["run"]["status"]
        return found if found != "IN_PROGRESS" else None

    assert wait_for(status, timeout=60, interval=0.2, what="the run to end") == "SUCCESS"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_printed_kubectl_command_shows_the_actionruns_columns(kept_running: str) -> None:
    command = _command(kept_running, "kubectl --kubeconfig")
    shown = subprocess.run([BASH, "-c", command], capture_output=True, text=True, timeout=60, check=True)
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["NAME", "RUN", "ACTION", "REQUEST", "PHASE", "AGE"]
    assert any("create-postgresql" in row and "Succeeded" in row for row in rows), shown.stdout
