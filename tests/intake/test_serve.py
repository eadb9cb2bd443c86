"""``port-bridge serve``: gunicorn with two workers, metrics that add up across them, a clean stop.

The processes run with their own temporary directory (``TMPDIR``), so a test can check that
nothing is left in it once they stopped.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from port_bridge_sandbox.port import PortEmulator
from tests.waiting import wait_for

ACCEPTED = re.compile(r'port_bridge_http_requests_total\{outcome="accepted",route="/webhook"\} (\d+)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    tmpdir: Path

    def stop(self) -> str:
        """SIGTERM, as Kubernetes stops a pod; the exit status must be 0. Returns the output."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0
        return self.process.stdout.read().decode() if self.process.stdout else ""

    def readiness(self) -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(self.url + "/readyz", timeout=5).json()
        return answer


StartServe = Callable[..., Served]


@pytest.fixture
def start_serve(bridge_env: dict[str, str], tmp_path: Path) -> Iterator[StartServe]:
    """Start ``port-bridge <command>`` (``serve`` by default) and wait until intake answers."""
    started: list[subprocess.Popen[bytes]] = []

    def start(command: str = "serve", **variables: str) -> Served:
        tmpdir = tmp_path / f"tmp-{len(started)}"
        tmpdir.mkdir()
        address = f"127.0.0.1:{free_port()}"
        env = {**bridge_env, "TMPDIR": str(tmpdir), "PORT_BRIDGE_BIND": address, "PORT_BRIDGE_WORKERS": "2"}
        process = subprocess.Popen(
            [sys.executable, "-m", "port_bridge", command],
            env={**env, **variables},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        url = f"http://{address}"

        def healthy() -> bool:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                return requests.get(url + "/healthz", timeout=1).ok
            except requests.RequestException:  # not listening yet, or no worker booted yet
                return False

        wait_for(healthy, timeout=30, what="gunicorn to serve")
        return Served(url, process, tmpdir)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def accepted_count(url: str) -> float | None:
    match = ACCEPTED.search(requests.get(url + "/metrics", timeout=5).text)
    return float(match.group(1)) if match else None


def test_two_workers_serve_webhooks_and_count_them_together(
    start_serve: StartServe, port: PortEmulator
) -> None:
    served = start_serve()  # PROMETHEUS_MULTIPROC_DIR not set: serve sets it up itself
    answers = [
        port.invoke("create-redis", inputs={"name": f"cache-{n}"}, url=served.url + "/webhook").response
        for n in range(24)
    ]
    assert [answer.status_code for answer in answers] == [202] * 24
    assert served.readiness()["ready"] is True
    for _ in range(6):  # whichever worker answers, the count is the sum over both
        assert accepted_count(served.url) == 24
    output = served.stop()
    logged = [line for line in output.splitlines() if line.startswith("{")]
    assert logged, output  # JSON lines
    assert port.client_secret not in output
    assert "Control server error" not in output
    assert list(served.tmpdir.iterdir()) == []  # the metrics directory went with the process


def test_a_metrics_directory_the_user_named_is_never_emptied(
    start_serve: StartServe, port: PortEmulator, tmp_path: Path
) -> None:
    named = tmp_path / "metrics"
    named.mkdir()
    (named / "keep.txt").write_text("someone else's file")
    served = start_serve(PROMETHEUS_MULTIPROC_DIR=str(named))
    for n in range(4):
        port.invoke("create-redis", inputs={"name": f"cache-{n}"}, url=served.url + "/webhook")
    assert accepted_count(served.url) == 4
    [own] = [path for path in named.iterdir() if path.is_dir()]
    assert own.name.startswith("port-bridge-") and any(own.iterdir())  # the workers' files
    served.stop()
    assert [path.name for path in named.iterdir()] == ["keep.txt"]
    assert (named / "keep.txt").read_text() == "someone else's file"


def test_prometheus_client_is_not_imported_before_serve_prepares_its_directory() -> None:
    # prometheus-client reads PROMETHEUS_MULTIPROC_DIR once, when first imported.
    script = (
        "import sys\n"
        "import port_bridge.cli, port_bridge.runners, port_bridge.startup, port_bridge.intake.server\n"
        "print(sorted(name for name in sys.modules if name.startswith('prometheus_client')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_port_not_answering_at_start_is_shown_by_readyz_until_it_does(
    start_serve: StartServe, port: PortEmulator
) -> None:
    port.faults.port_down()
    served = start_serve(PORT_BRIDGE_WORKERS="1")
    readiness = served.readiness()
    assert readiness["ready"] is True  # runs are stored now and reported once Port is back
    assert readiness["checks"]["port"] == "unreachable: answered 503"
    port.faults.port_up()
    wait_for(
        lambda: served.readiness()["checks"]["port"] == "accepted", timeout=20, what="the worker's retry"
    )
    output = served.stop()
    assert f"cannot get a token from Port at {port.url} (answered 503)" in output
    assert "Traceback" not in output


def test_run_stops_cleanly_and_leaves_nothing_in_the_temporary_directory(start_serve: StartServe) -> None:
    served = start_serve("run", PORT_BRIDGE_CONTROLLER_BIND=f"127.0.0.1:{free_port()}")
    assert served.readiness()["ready"] is True
    output = served.stop()
    assert "Traceback" not in output
    assert list(served.tmpdir.iterdir()) == []
