"""A file Port would refuse stops ``apply`` before any write, with one line naming the file and the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from port_bridge_sandbox.port import PortEmulator
from tests.portmodel.conftest import Apply, Result, read_json, write_json, writes


def one_line(result: Result) -> str:
    assert result.code == 2, result
    assert "Traceback" not in result.err
    [line] = result.err.splitlines()
    assert line.startswith("port-bridge: PORT_BRIDGE_CONFIG_DIR: nothing was written: ")
    return line


def test_a_blueprint_off_ports_schema_is_named_before_port_is_even_asked(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    path = model_dir / "blueprints" / "redis.json"
    body = read_json(path)
    body["schema"]["properties"]["size"]["type"] = "text"
    write_json(path, body)
    line = one_line(apply())
    assert f"{path}: schema.properties.size.type: 'text' is not one of ['string', 'number'," in line
    assert port_emulator.calls == []


def test_every_broken_file_is_named_at_once(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    scorecard = model_dir / "scorecards" / "postgresql" / "production-readiness.json"
    write_json(scorecard, {**read_json(scorecard), "levels": [{"title": "Basic", "color": "mauve"}]})
    action = model_dir / "actions" / "create-redis.yaml"
    document = yaml.safe_load(action.read_text())
    document["action"]["invocationMethod"].pop("url")
    action.write_text(yaml.safe_dump(document))
    (model_dir / "blueprints" / "broken.json").write_text("{not json")
    mapping = model_dir / "actions" / "delete-redis.yaml"
    document = yaml.safe_load(mapping.read_text())
    document["kratix"]["name"] = ".entity.properties.requestName |"
    mapping.write_text(yaml.safe_dump(document))
    line = one_line(apply())
    assert f"{mapping}: kratix.name: jq does not compile" in line
    assert f"{model_dir / 'blueprints' / 'broken.json'}: cannot be read as JSON" in line
    assert f"{action}: action.invocationMethod: 'url' is a required property" in line
    assert f"{scorecard}: levels[0].color: 'mauve' is not one of" in line
    assert port_emulator.calls == []


def test_a_reference_to_a_blueprint_nobody_has_fails_after_reading_and_before_writing(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    path = model_dir / "blueprints" / "redis.json"
    relation = {"title": "Team", "target": "team", "required": False, "many": False}
    write_json(path, {**read_json(path), "relations": {"team": relation}})
    scorecard = read_json(model_dir / "scorecards" / "postgresql" / "production-readiness.json")
    write_json(model_dir / "scorecards" / "mysql" / "basics.json", scorecard)
    line = one_line(apply())
    named = "relations.team.target: names blueprint 'team', which neither blueprints/ nor Port has"
    assert f"{path}: {named}" in line
    assert "basics.json: its directory scorecards/mysql/: names blueprint 'mysql'" in line
    assert port_emulator.calls != [] and writes(port_emulator) == []
    port_emulator.add_blueprint({"identifier": "team", "title": "Team", "schema": {"properties": {}}})
    (model_dir / "scorecards" / "mysql" / "basics.json").unlink()
    assert apply().code == 0  # a blueprint Port has (someone else's) is a valid target


def test_a_scorecard_rule_on_a_level_it_does_not_have_is_named(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    path = model_dir / "scorecards" / "postgresql" / "production-readiness.json"
    body = read_json(path)
    body["rules"][0]["level"] = "Platinum"
    body["rules"][1]["level"] = "Basic"
    write_json(path, body)
    line = one_line(apply())
    assert f"{path}: rules[0].level: 'Platinum' is not one of the scorecard's levels" in line
    assert f"{path}: rules[1].level: 'Basic' is the base level, which owns no rules" in line
    assert writes(port_emulator) == []


def test_port_bridges_own_blueprint_cannot_be_defined_by_a_file(apply: Apply, model_dir: Path) -> None:
    body = {"identifier": "port-bridge-managed", "title": "Mine", "schema": {"properties": {}}}
    write_json(model_dir / "blueprints" / "mine.json", body)
    assert "port-bridge-managed is port-bridge's own blueprint" in one_line(apply())


def test_a_directory_without_a_model_is_named(
    apply: Apply, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT_BRIDGE_CONFIG_DIR", str(tmp_path / "empty"))
    line = one_line(apply())
    assert "holds none of blueprints/, actions/ and scorecards/" in line


def test_the_command_line_says_which_setting_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "port_bridge", "apply", "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PORT_BRIDGE_CONFIG_DIR": str(tmp_path)},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "port-bridge: PORT_CLIENT_ID and PORT_CLIENT_SECRET must be set (Port app → Credentials)"
    )


def test_port_refusing_the_credentials_is_named(
    apply: Apply, port_emulator: PortEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT_CLIENT_SECRET", "wrong-secret")
    result = apply()
    assert result.code == 2
    refusal = f"port-bridge: PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at {port_emulator.url} refused"
    assert result.err.startswith(refusal)
    assert "wrong-secret" not in result.err
    assert writes(port_emulator) == []
