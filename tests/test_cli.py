import subprocess
import sys
from pathlib import Path

import pytest

from port_bridge import __version__
from port_bridge.cli import main


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


def test_invalid_settings_are_named() -> None:
    result = run_cli("serve", env={"PORT_BRIDGE_WORKERS": "many"})
    assert result.returncode == 2
    assert "workers" in result.stderr
