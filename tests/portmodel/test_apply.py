"""``port-bridge apply`` against the Port emulator: create, compare, change, dry-run and stop early.

The emulator refuses what Port refuses (bodies off the spec, a relation to a blueprint it does
not have, an action on a missing blueprint), so a run that succeeds sent a valid order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from port_bridge.portmodel.normalise import normalised
from port_bridge.portmodel.records import RECORDS_BLUEPRINT
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import REPO
from tests.portmodel.conftest import Apply, edit_action, read_json, write_json, write_lines, writes

BLUEPRINTS = sorted(path.stem for path in (REPO / "blueprints").glob("*.json"))
ACTIONS = sorted(path.stem for path in (REPO / "actions").glob("*.yaml"))
SCORECARDS = sorted(f"{path.parent.name}/{path.stem}" for path in (REPO / "scorecards").glob("*/*.json"))


def test_an_empty_organisation_gets_every_object_as_the_files_say(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    result = apply()
    assert result.code == 0, result.err
    assert f"+ blueprint {RECORDS_BLUEPRINT}" in result.lines[1]
    assert sum(line.startswith("+ ") for line in result.lines) == 1 + len(BLUEPRINTS) + len(ACTIONS) + len(
        SCORECARDS
    )
    for name in BLUEPRINTS:
        stored = port_emulator.blueprint(name)
        assert stored is not None
        wanted = read_json(model_dir / "blueprints" / f"{name}.json")
        assert normalised("blueprint", stored) == normalised("blueprint", wanted)
    assert sorted(a["identifier"] for a in port_emulator.state.catalog.actions()) == ACTIONS
    [scorecard] = port_emulator.state.catalog.scorecards("postgresql")
    wanted = read_json(model_dir / "scorecards" / "postgresql" / "production-readiness.json")
    assert normalised("scorecard", scorecard) == normalised("scorecard", wanted)
    recorded = {e["identifier"] for e in port_emulator.state.entities(RECORDS_BLUEPRINT)}
    assert len(recorded) == len(BLUEPRINTS) + len(ACTIONS) + len(SCORECARDS)
    assert "apply:scorecard:postgresql/production-readiness" in recorded
    assert result.lines[-1] == f"Done: {len(writes(port_emulator))} writes."


def test_a_second_run_finds_nothing_to_change_and_writes_nothing(
    apply: Apply, port_emulator: PortEmulator
) -> None:
    assert apply().code == 0
    port_emulator.clear_calls()
    again = apply()
    assert again.code == 0
    assert again.lines[1:] == [
        f"No changes: Port matches the files ({len(BLUEPRINTS) + len(ACTIONS) + len(SCORECARDS)} objects)."
    ]
    assert writes(port_emulator) == []


@pytest.mark.parametrize(
    ("edit", "shown", "expected_write"),
    [
        (
            lambda d: write_json(
                d / "blueprints" / "redis.json",
                {**read_json(d / "blueprints" / "redis.json"), "title": "Redis cache"},
            ),
            ["~ blueprint redis  (", '    ~ title: "Redis" -> "Redis cache"'],
            "PUT /v1/blueprints/redis",
        ),
        (
            lambda d: edit_action(d / "actions" / "create-redis.yaml", description="A Redis for a team"),
            ["~ action create-redis  (", "    ~ description: "],
            "PUT /v1/actions/create-redis",
        ),
        (
            lambda d: write_json(
                d / "scorecards" / "postgresql" / "production-readiness.json",
                _rule_level(read_json(d / "scorecards" / "postgresql" / "production-readiness.json")),
            ),
            [
                "~ scorecard postgresql/production-readiness  (",
                '    ~ rules[backups].level: "Silver" -> "Gold"',
            ],
            "PUT /v1/blueprints/postgresql/scorecards/production-readiness",
        ),
    ],
    ids=["blueprint", "action", "scorecard"],
)
def test_a_changed_file_shows_one_diff_and_makes_exactly_its_write(
    apply: Apply,
    port_emulator: PortEmulator,
    model_dir: Path,
    edit: Any,
    shown: list[str],
    expected_write: str,
) -> None:
    assert apply().code == 0
    edit(model_dir)
    port_emulator.clear_calls()
    result = apply()
    assert result.code == 0, result.err
    changed = [line for line in result.lines if line.startswith(("+", "~", "-", "    "))]
    assert len(changed) == 2
    for line, start in zip(changed, shown, strict=True):
        assert line.startswith(start), result.out
    assert "0 to create, 1 to change, 0 to delete" in result.out
    assert write_lines(port_emulator) == [expected_write]
    port_emulator.clear_calls()
    assert "No changes" in apply().out
    assert writes(port_emulator) == []


def _rule_level(scorecard: dict[str, Any]) -> dict[str, Any]:
    for rule in scorecard["rules"]:
        if rule["identifier"] == "backups":
            rule["level"] = "Gold"
    return scorecard


def test_a_dry_run_prints_the_diff_and_writes_nothing(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    first = apply("--dry-run")
    assert first.code == 0
    assert first.lines[-1] == "Dry run: nothing was written."
    assert writes(port_emulator) == []
    assert port_emulator.state.catalog.blueprints() == []
    assert apply().code == 0
    write_json(
        model_dir / "blueprints" / "redis.json",
        {**read_json(model_dir / "blueprints" / "redis.json"), "icon": "Cache"},
    )
    port_emulator.clear_calls()
    dry = apply("--dry-run")
    assert '    ~ icon: "Redis" -> "Cache"' in dry.lines
    assert writes(port_emulator) == []
    stored = port_emulator.blueprint("redis")
    assert stored is not None and stored["icon"] == "Redis"


def test_what_port_fills_in_itself_is_not_a_change(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    """Defaults spelled out in a file, or left to Port, and Port's bookkeeping: no diff either way."""
    redis = read_json(model_dir / "blueprints" / "redis.json")
    spelled_out = {**redis, "calculationProperties": {}, "mirrorProperties": {}, "aggregationProperties": {}}
    spelled_out["schema"] = {**redis["schema"], "required": redis["schema"].get("required", [])}
    write_json(model_dir / "blueprints" / "redis.json", spelled_out)
    scorecard_path = model_dir / "scorecards" / "postgresql" / "production-readiness.json"
    write_json(scorecard_path, {k: v for k, v in read_json(scorecard_path).items() if k != "levels"})
    edit_action(model_dir / "actions" / "create-redis.yaml", requiredApproval=False, publish=True)
    assert apply().code == 0
    stored = port_emulator.action("create-redis")
    assert stored is not None and {"id", "createdAt", "updatedBy"} <= set(stored)
    port_emulator.clear_calls()
    assert apply().lines[1].startswith("No changes")
    assert writes(port_emulator) == []


def test_an_object_someone_else_made_is_adopted_without_a_record(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    port_emulator.add_blueprint(read_json(model_dir / "blueprints" / "redis.json"))
    port_emulator.add_blueprint({**read_json(model_dir / "blueprints" / "postgresql.json"), "title": "PG"})
    result = apply()
    assert result.code == 0
    assert not any(line.startswith("+ blueprint redis") for line in result.lines)
    assert any(
        line.startswith("~ blueprint postgresql") and "not created by port-bridge" in line
        for line in result.lines
    )
    recorded = {e["identifier"] for e in port_emulator.state.entities(RECORDS_BLUEPRINT)}
    assert "apply:blueprint:redis" not in recorded and "apply:blueprint:postgresql" not in recorded
    assert "apply:blueprint:kratix-namespace" in recorded


def test_a_refused_write_stops_the_run_and_the_next_run_finishes_the_job(
    apply: Apply, port_emulator: PortEmulator
) -> None:
    rule = port_emulator.faults.refuse(
        422, message="no more actions today", method="POST", path="^/v1/actions$"
    )
    rule.after = 2
    stopped = apply()
    assert stopped.code == 1
    assert "stopped after" in stopped.err and "create action" in stopped.err
    assert "no more actions today" in stopped.err
    assert len(port_emulator.state.catalog.actions()) == 2
    port_emulator.faults.clear()
    resumed = apply()
    assert resumed.code == 0, resumed.err
    expected = len(ACTIONS) - 2 + len(SCORECARDS)  # the other actions, the scorecards
    assert f"{expected} to create, 0 to change" in resumed.out
    assert sorted(a["identifier"] for a in port_emulator.state.catalog.actions()) == ACTIONS
    recorded = {e["identifier"] for e in port_emulator.state.entities(RECORDS_BLUEPRINT)}
    assert {f"apply:action:{name}" for name in ACTIONS} <= recorded


def test_a_port_that_does_not_answer_is_named_and_nothing_is_written(
    apply: Apply, port_emulator: PortEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    port_emulator.faults.port_down()
    result = apply()
    assert result.code == 1
    assert result.err.strip() == (
        f"port-bridge: Port at {port_emulator.url} does not answer (answered 503); nothing was written"
    )
    assert writes(port_emulator) == []
