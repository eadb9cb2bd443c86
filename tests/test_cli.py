import subprocess
import sys

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
