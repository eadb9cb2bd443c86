"""Fixtures for ``port-bridge apply``: a copy of the project's model to edit, and the command on the emulator.

``apply(...)`` runs the real command (``main(["apply", ...])``) in this process against the Port
emulator over HTTP, with the settings in the environment as a user would give them, and returns
its exit status and output; ``writes(port)`` lists the writes Port received (token requests
aside). Every test ends by checking that every request was one Port's spec allows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from port_bridge.cli import main
from port_bridge.portmodel.records import RECORDS_BLUEPRINT
from port_bridge_sandbox.port import PortEmulator, PortSpec, RecordedCall
from tests.conftest import REPO
from tests.portmodel.oracle import load_port_spec

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
AUTH_ROUTE = "/v1/auth/access_token"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Apply(Protocol):
    def __call__(self, *args: str) -> Result: ...


def writes(port: PortEmulator) -> list[RecordedCall]:
    return [call for call in port.calls if call.method in WRITE_METHODS and call.path != AUTH_ROUTE]


def write_lines(port: PortEmulator, *, records: bool = True) -> list[str]:
    """``"PUT /v1/blueprints/postgresql"`` for each write, in order; ``records=False``: the model's only."""
    return [f"{call.method} {call.path}" for call in writes(port) if records or not _is_record(call)]


def _is_record(call: RecordedCall) -> bool:
    creates_blueprint = isinstance(call.json, dict) and call.json.get("identifier") == RECORDS_BLUEPRINT
    return RECORDS_BLUEPRINT in call.path or (call.path == "/v1/blueprints" and creates_blueprint)


@pytest.fixture(scope="session")
def port_spec() -> PortSpec:
    """Port's spec as the oracle of apply's checks; the tests that need it are skipped without it."""
    return load_port_spec()


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A copy of the project's blueprints/, actions/ and scorecards/ that a test may edit."""
    directory = tmp_path / "model"
    for name in ("blueprints", "actions", "scorecards"):
        shutil.copytree(REPO / name, directory / name)
    return directory


@pytest.fixture
def apply(
    port_emulator: PortEmulator,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Apply]:
    monkeypatch.setenv("PORT_CLIENT_ID", port_emulator.client_id)
    monkeypatch.setenv("PORT_CLIENT_SECRET", port_emulator.client_secret)
    monkeypatch.setenv("PORT_API_URL", port_emulator.url)
    monkeypatch.setenv("PORT_BRIDGE_CONFIG_DIR", str(model_dir))
    monkeypatch.setenv("PORT_BRIDGE_LOG_LEVEL", "ERROR")

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["apply", *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run
    assert port_emulator.spec_violations == []


def read_json(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def write_json(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2))


def edit_action(path: Path, **changes: Any) -> None:
    """Change top-level fields of an action file's ``action`` part."""
    document = yaml.safe_load(path.read_text())
    document["action"].update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
