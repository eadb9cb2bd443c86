"""The sandbox is a distribution of its own: found by its entry point, absent from the runtime wheel,
and named in one line when it is not installed."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from port_bridge import cli
from port_bridge.cli import main
from tests.conftest import REPO


def test_the_sandbox_command_is_found_by_its_entry_point() -> None:
    [found] = entry_points(group=cli.SANDBOX_ENTRY_POINTS, name="run")
    assert found.value == "port_bridge_sandbox.demo:run_sandbox"
    assert found.dist is not None and found.dist.name == "port-bridge-sandbox"


def test_without_the_sandbox_the_command_says_in_one_line_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "entry_points", lambda **_: ())
    assert main(["sandbox"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the sandbox is not installed" in err and "make sandbox" in err and "pip install ./sandbox" in err


def test_the_runtime_wheel_holds_no_sandbox(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("port_bridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("port_bridge/controller/") for name in names)
    assert not [name for name in names if "sandbox" in name.split("/")[0] or "kmock" in name]
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [line for line in requires if "kmock" in line or "sandbox" in line]
    assert "License-Expression: Apache-2.0" in text.splitlines()
