"""``port-bridge serve``: gunicorn with two workers, metrics that add up across them, a clean stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from port_bridge.sandbox.port import PortEmulator
from tests.waiting import wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(bridge_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    address = f"127.0.0.1:{free_port()}"
    env = {
        **bridge_env,
        "PORT_BRIDGE_BIND": address,
        "PORT_BRIDGE_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "port_bridge", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{address}"

    def healthy() -> bool:
        try:
            return requests.get(url + "/healthz", timeout=1).ok
        except requests.ConnectionError:
            return False

    wait_for(healthy, timeout=30, what="gunicorn to serve")
    yield url, process
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_two_workers_serve_webhooks_and_count_them_together(
    served: tuple[str, subprocess.Popen[bytes]], port: PortEmulator
) -> None:
    url, process = served
    answers = [
        port.invoke("create-redis", inputs={"name": f"cache-{n}"}, url=url + "/webhook").response
        for n in range(24)
    ]
    assert [answer.status_code for answer in answers] == [202] * 24
    assert requests.get(url + "/readyz", timeout=5).json()["ready"] is True
    pattern = re.compile(r'port_bridge_http_requests_total\{outcome="accepted",route="/webhook"\} (\d+)')
    for _ in range(6):  # whichever worker answers, the count is the sum over both
        metrics = requests.get(url + "/metrics", timeout=5).text
        match = pattern.search(metrics)
        assert match is not None and float(match.group(1)) == 24
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    output = process.stdout.read().decode() if process.stdout else ""
    logged = [line for line in output.splitlines() if line.startswith("{")]
    assert logged, output  # JSON lines
    assert port.client_secret not in output
    assert "Control server error" not in output
