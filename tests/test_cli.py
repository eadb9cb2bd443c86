"""The ``port-bridge`` command: its options, and how each process refuses a bad configuration.

A bad setting ends ``serve``, ``controller`` and ``run`` with exit status 2 and one line on
stderr naming the environment variable, never a traceback; what may heal by itself (an API
server or Port that does not answer yet) is logged with its address and the process goes on.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from port_bridge import __version__
from port_bridge.cli import main
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import REPO
from tests.waiting import wait_for

COMMANDS = ["serve", "controller", "run"]


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"port-bridge {__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: port-bridge" in capsys.readouterr().out


def test_console_script_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "port_bridge", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "Kratix" in result.stdout


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "port_bridge", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
    )


@pytest.mark.parametrize("command", ["serve", "controller", "run"])
def test_missing_credentials_stop_every_process_at_start(command: str) -> None:
    result = run_cli(command, env={"PORT_BRIDGE_CONFIG_DIR": "."})
    assert result.returncode == 2
    assert "PORT_CLIENT_ID and PORT_CLIENT_SECRET must be set" in result.stderr


def test_a_broken_action_file_is_named_at_start(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "create-x.yaml").write_text(
        "action: {identifier: create-x}\nkratix: {promise: p}\n"
    )
    result = run_cli(
        "controller",
        env={"PORT_BRIDGE_CONFIG_DIR": str(tmp_path), "PORT_CLIENT_ID": "id", "PORT_CLIENT_SECRET": "secret"},
    )
    assert result.returncode == 2
    assert "create-x.yaml: action.trigger: Field required" in result.stderr
    assert "secret" not in result.stderr.replace("PORT_CLIENT_SECRET", "")


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The line a refused start printed, after checking it was refused cleanly."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    refusals = [line for line in result.stderr.splitlines() if line.startswith("port-bridge: ")]
    assert len(refusals) == 1, result.stderr
    assert result.stderr.splitlines()[-1] == refusals[0]
    return refusals[0].removeprefix("port-bridge: ")


# The defaults (8080, 8081) may be taken on this machine; these processes stop before listening.
ANY_PORT = {"PORT_BRIDGE_BIND": "127.0.0.1:0", "PORT_BRIDGE_CONTROLLER_BIND": "127.0.0.1:0"}
CONFIGURED = {
    "PORT_BRIDGE_CONFIG_DIR": str(REPO),
    "PORT_CLIENT_ID": "id",
    "PORT_CLIENT_SECRET": "secret",
    **ANY_PORT,
}


@pytest.mark.parametrize(
    ("command", "variable", "value", "expected"),
    [
        ("serve", "PORT_BRIDGE_WORKERS", "many", "Input should be a valid integer"),
        (
            "serve",
            "PORT_API_URL",
            "api.port.io",
            "must be a URL with scheme and host such as https://api.port.io",
        ),
        (
            "controller",
            "PORT_BRIDGE_LOG_LEVEL",
            "verbose",
            "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("run", "PORT_BRIDGE_LINK_TEMPLATE", "https://x.example.com/{runId}", "unknown field {runId}"),
        ("serve", "PORT_BRIDGE_LINK_TEMPLATE", "https://x.example.com/{run_id", "is not a valid template"),
        ("controller", "PORT_BRIDGE_LEASE_SECONDS", "5", "must be longer than"),
        ("run", "PORT_BRIDGE_RETENTION", "a week", "must be a positive duration"),
        ("controller", "PORT_BRIDGE_CONTROLLER_BIND", "8081", "must be HOST:PORT"),
        ("controller", "PORT_BRIDGE_PIPELINE_LOG_MAX_BYTES", "0", "must be 1 to 524288 bytes per run"),
        (
            "controller",
            "PORT_BRIDGE_CATALOG_DELETE_THRESHOLD",
            "2",
            "must be a share of the mirrored entities",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    command: str, variable: str, value: str, expected: str
) -> None:
    result = run_cli(command, env={**CONFIGURED, variable: value})
    assert one_line_refusal(result).startswith(f"{variable}: {expected}")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreadable_kubeconfig_stops_every_process_before_it_forks(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "kubeconfig"
    result = run_cli(command, env={**CONFIGURED, "KUBECONFIG": str(missing), "HOME": str(tmp_path)})
    assert one_line_refusal(result) == f"KUBECONFIG: {missing} does not exist"
    assert "gunicorn" not in result.stderr


def test_an_invalid_kubeconfig_is_named(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text("clusters: [\n")
    result = run_cli("serve", env={**CONFIGURED, "KUBECONFIG": str(tmp_path / "kubeconfig")})
    assert one_line_refusal(result).startswith(f"KUBECONFIG: {tmp_path / 'kubeconfig'} is not valid YAML (")


def test_an_empty_actions_directory_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    result = run_cli("serve", env={**CONFIGURED, "PORT_BRIDGE_CONFIG_DIR": str(tmp_path)})
    assert one_line_refusal(result).startswith(
        f"PORT_BRIDGE_CONFIG_DIR: {tmp_path / 'actions'} holds no action"
    )


def test_an_address_in_use_is_named(bridge_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = run_cli("serve", env={**bridge_env, "PORT_BRIDGE_BIND": address})
    assert one_line_refusal(result) == f"PORT_BRIDGE_BIND: cannot listen on {address}: Address already in use"


@pytest.mark.parametrize("command", COMMANDS)
def test_credentials_port_refuses_stop_every_process_with_ports_message(
    command: str, bridge_env: dict[str, str], port: PortEmulator
) -> None:
    wrong = "not-the-client-secret"
    result = run_cli(command, env={**bridge_env, **ANY_PORT, "PORT_CLIENT_SECRET": wrong})
    assert one_line_refusal(result).startswith(
        f"PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at {port.url} refused the credentials: "
        "401 unauthorized: the client id or client secret is wrong (trace id "
    )
    assert wrong not in result.stderr
    assert "gunicorn" not in result.stderr
    assert port.token_requests == 1


class Lines:
    """A process's stderr, read line by line as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.lines.append(line.rstrip("\n"))

    def saying(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]

    def finish(self) -> str:
        self._thread.join(10)
        return "\n".join(self.lines)


def test_what_may_heal_is_logged_with_its_address_and_the_controller_goes_on(
    bridge_env: dict[str, str], port: PortEmulator, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nothing_listens = f"http://127.0.0.1:{probe.getsockname()[1]}"
    kubeconfig = tmp_path / "unreachable-kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{nothing_listens}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    port.faults.port_down()
    env = {**bridge_env, "KUBECONFIG": str(kubeconfig), "PORT_BRIDGE_CONTROLLER_BIND": "127.0.0.1:0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "port_bridge", "controller"], env=env, stderr=subprocess.PIPE, text=True
    )
    stderr = Lines(process)
    try:
        wait_for(lambda: stderr.saying("controller"), timeout=30, what="the controller to start")
        assert stderr.saying(f"the Kubernetes API server at {nothing_listens} does not answer")
        assert stderr.saying(f"cannot get a token from Port at {port.url} (answered 503)")
        port.faults.port_up()
        wait_for(
            lambda: stderr.saying(f"Port at {port.url} accepted the credentials"),
            timeout=30,
            what="the background retry to get a token",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    output = stderr.finish()
    assert code == 0, output
    assert "Traceback" not in output


def test_credentials_refused_once_port_answers_stop_the_controller(
    bridge_env: dict[str, str], port: PortEmulator
) -> None:
    port.faults.port_down()
    env = {**bridge_env, "PORT_CLIENT_SECRET": "not-the-client-secret", "PORT_BRIDGE_CONTROLLER_BIND": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "port_bridge", "controller"], env=env, stderr=subprocess.PIPE, text=True
    )
    stderr = Lines(process)
    try:
        wait_for(lambda: stderr.saying("controller"), timeout=30, what="the controller to start")
        port.faults.port_up()
        code = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    result = subprocess.CompletedProcess(process.args, code, "", stderr.finish() + "\n")
    assert one_line_refusal(result).startswith(
        f"PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at {port.url} refused the credentials: 401 unauthorized"
    )
