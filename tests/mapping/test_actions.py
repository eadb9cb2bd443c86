"""Action files are checked at start; every problem names the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from port_bridge.mapping.actions import ActionConfigError, load_actions, parse_duration
from tests.conftest import REPO


def write(directory: Path, name: str, document: Any) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


@pytest.fixture
def valid() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO / "actions" / "create-redis.yaml").read_text())
    return document


def test_the_shipped_actions_load(project_actions: dict[str, Any]) -> None:
    assert {config.operation for config in project_actions.values()} == {"CREATE", "DAY-2", "DELETE"}
    assert project_actions["create-postgresql"].kratix.timeout_seconds == 1800
    assert project_actions["create-postgresql"].kratix.allowed_namespaces == ("default", "team-a", "team-b")


def test_every_problem_is_reported_with_file_and_field(tmp_path: Path, valid: dict[str, Any]) -> None:
    broken = {**valid, "kratix": {**valid["kratix"], "name": ".inputs.name |", "timeout": "soon"}}
    write(tmp_path, "create-redis.yaml", broken)
    write(tmp_path, "other.yaml", {**valid, "action": {**valid["action"], "identifier": "elsewhere"}})
    write(tmp_path, "not-yaml.yaml", "action: [unclosed")
    write(tmp_path, "README.txt", "ignored")
    with pytest.raises(ActionConfigError) as error:
        load_actions(tmp_path)
    problems = error.value.problems
    assert any("create-redis.yaml: kratix.name: jq does not compile: syntax error" in p for p in problems)
    assert any("create-redis.yaml: kratix.timeout: must be a positive duration" in p for p in problems)
    assert any(
        "other.yaml: action.identifier (elsewhere) must match the file name (other)" in p for p in problems
    )
    assert any("not-yaml.yaml: cannot be read as YAML" in p for p in problems)
    assert len(problems) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["kratix"].pop("spec"), "kratix.spec is required for a CREATE action"),
        (lambda d: d.pop("entity"), "entity is required for a CREATE action"),
        (lambda d: d["entity"].update(blueprint="other"), "differs from action.trigger.blueprintIdentifier"),
        (lambda d: d["kratix"].update(surprise=1), "kratix.surprise: Extra inputs are not permitted"),
        (lambda d: d["action"]["trigger"].update(operation="UPSERT"), "action.trigger.operation"),
        (lambda d: d["kratix"].update(namespace=42), "kratix.namespace: must be a jq expression"),
        (
            lambda d: d["action"]["invocationMethod"].update(synchronized=True),
            "action.invocationMethod: synchronized must be false (or left out): port-bridge's runs are "
            "asynchronous, it reports each run's result when Kratix has finished",
        ),
        (
            lambda d: d["action"]["invocationMethod"].update(synchronized="{{ true }}"),
            "action.invocationMethod: synchronized must be false",
        ),
    ],
)
def test_invalid_files(tmp_path: Path, valid: dict[str, Any], change: Any, message: str) -> None:
    change(valid)
    write(tmp_path, "create-redis.yaml", valid)
    with pytest.raises(ActionConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_actions(tmp_path)


def test_asynchronous_actions_load_with_or_without_the_agent(tmp_path: Path, valid: dict[str, Any]) -> None:
    valid["action"]["invocationMethod"].update(synchronized=False, agent=True)
    write(tmp_path, "create-redis.yaml", valid)
    assert load_actions(tmp_path)["create-redis"].action.invocation_method["agent"] is True


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ActionConfigError, match="does not exist"):
        load_actions(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), ("90", 90.0), ("90s", 90.0), ("30m", 1800.0), ("1h30m", 5400.0), ("7d", 604800.0)],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [0, -5, "", "soon", "5x", True, "0s"])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        parse_duration(value)
