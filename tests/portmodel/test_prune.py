"""``--prune`` deletes what apply created and the files no longer have, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from port_bridge.portmodel.records import RECORDS_BLUEPRINT
from port_bridge_sandbox.port import PortEmulator
from tests.portmodel.conftest import Apply, write_lines, writes

SOMEONE_ELSES_ACTION = {
    "identifier": "restart-redis",
    "title": "Restart Redis",
    "trigger": {
        "type": "self-service",
        "operation": "DAY-2",
        "blueprintIdentifier": "redis",
        "userInputs": {"properties": {}},
    },
    "invocationMethod": {"type": "WEBHOOK", "url": "https://ops.example.com/restart"},
}
SOMEONE_ELSES_BLUEPRINT = {"identifier": "team", "title": "Team", "schema": {"properties": {}}}


def recorded(port: PortEmulator) -> set[str]:
    return {entity["identifier"] for entity in port.state.entities(RECORDS_BLUEPRINT)}


def test_without_prune_what_the_files_dropped_is_kept_and_shown(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    assert apply().code == 0
    (model_dir / "actions" / "update-redis.yaml").unlink()
    port_emulator.clear_calls()
    result = apply()
    assert result.code == 0
    kept = "= action update-redis  (port-bridge created it; the files no longer have it; "
    assert kept + "apply --prune deletes it)" in result.lines
    left = sum(
        1
        for pattern in ("blueprints/*.json", "actions/*.yaml", "scorecards/*/*.json")
        for _ in model_dir.glob(pattern)
    )
    assert result.lines[-1].startswith(f"No changes: Port matches the files ({left} objects); 1 kept")
    assert writes(port_emulator) == []
    assert port_emulator.action("update-redis") is not None


def test_prune_deletes_only_what_apply_created(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    port_emulator.add_blueprint(SOMEONE_ELSES_BLUEPRINT)
    assert apply().code == 0
    port_emulator.add_action(SOMEONE_ELSES_ACTION)
    (model_dir / "actions" / "update-redis.yaml").unlink()
    (model_dir / "scorecards" / "postgresql" / "production-readiness.json").unlink()
    port_emulator.clear_calls()
    result = apply("--prune")
    assert result.code == 0, result.err
    assert "- action update-redis  (port-bridge created it; the files no longer have it)" in result.lines
    assert any(line.startswith("- scorecard postgresql/production-readiness") for line in result.lines)
    assert "0 to create, 0 to change, 2 to delete" in result.out
    records = f"/v1/blueprints/{RECORDS_BLUEPRINT}/entities"
    assert write_lines(port_emulator) == [
        "DELETE /v1/blueprints/postgresql/scorecards/production-readiness",
        f"DELETE {records}/apply%3Ascorecard%3Apostgresql%2Fproduction-readiness",
        "DELETE /v1/actions/update-redis",
        f"DELETE {records}/apply%3Aaction%3Aupdate-redis",
    ]
    assert port_emulator.action("update-redis") is None
    assert port_emulator.action("restart-redis") is not None
    assert port_emulator.blueprint("team") is not None
    assert "apply:action:update-redis" not in recorded(port_emulator)
    port_emulator.clear_calls()
    assert "No changes" in apply("--prune").out
    assert writes(port_emulator) == []


def test_a_dropped_blueprint_goes_after_its_actions_unless_someone_else_still_uses_it(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    assert apply().code == 0
    port_emulator.add_action(SOMEONE_ELSES_ACTION)
    for name in ("create-redis", "update-redis", "delete-redis"):
        (model_dir / "actions" / f"{name}.yaml").unlink()
    (model_dir / "blueprints" / "redis.json").unlink()
    service = json.loads((model_dir / "blueprints" / "service.json").read_text())
    del service["relations"]["cache"]  # no file names redis any more
    (model_dir / "blueprints" / "service.json").write_text(json.dumps(service))
    blocked = apply("--prune")
    assert blocked.code == 1
    assert (
        "! blueprint redis  (port-bridge created it; the files no longer have it) is not deleted: "
        "action restart-redis (not created by port-bridge) names it"
    ) in blocked.lines
    assert "could not delete 1 object(s)" in blocked.err
    assert port_emulator.action("create-redis") is None and port_emulator.blueprint("redis") is not None
    assert "apply:blueprint:redis" in recorded(port_emulator)
    port_emulator.state.catalog.delete_action("restart-redis")
    port_emulator.clear_calls()
    done = apply("--prune")
    assert done.code == 0, done.err
    assert write_lines(port_emulator) == [
        "DELETE /v1/blueprints/redis",
        f"DELETE /v1/blueprints/{RECORDS_BLUEPRINT}/entities/apply%3Ablueprint%3Aredis",
    ]
    assert port_emulator.blueprint("redis") is None


def test_a_dropped_blueprint_with_entities_is_kept(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    assert apply().code == 0
    port_emulator.add_entity(
        "kratix-namespace",
        {"identifier": "default.team-a", "properties": {"namespace": "default", "requestName": "team-a"}},
    )
    for name in ("create-namespace", "move-namespace", "delete-namespace"):
        (model_dir / "actions" / f"{name}.yaml").unlink()
    (model_dir / "blueprints" / "kratix-namespace.json").unlink()
    port_emulator.clear_calls()
    result = apply("--prune")
    assert result.code == 1
    assert any("kratix-namespace" in line and "still has 1 entities" in line for line in result.lines)
    assert port_emulator.blueprint("kratix-namespace") is not None
    assert port_emulator.entity("kratix-namespace", "default.team-a") is not None
    assert not any("DELETE /v1/blueprints/kratix-namespace" in line for line in write_lines(port_emulator))


def test_a_blueprint_the_files_still_name_is_kept(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    assert apply().code == 0
    (model_dir / "blueprints" / "redis.json").unlink()
    port_emulator.clear_calls()
    result = apply("--prune")
    assert result.code == 1
    [line] = [line for line in result.lines if line.startswith("! blueprint redis")]
    assert "create-redis.yaml names it" in line and "update-redis.yaml names it" in line
    assert writes(port_emulator) == []
    assert port_emulator.blueprint("redis") is not None


def test_an_object_deleted_by_hand_is_created_again_or_forgotten(
    apply: Apply, port_emulator: PortEmulator, model_dir: Path
) -> None:
    assert apply().code == 0
    port_emulator.state.catalog.delete_action("update-redis")
    port_emulator.state.catalog.delete_action("create-redis")
    (model_dir / "actions" / "update-redis.yaml").unlink()
    port_emulator.clear_calls()
    result = apply()
    assert result.code == 0, result.err
    assert "+ action create-redis  (" in result.out
    assert "- the record of action update-redis  (Port no longer has it)" in result.lines
    assert write_lines(port_emulator) == [
        "POST /v1/actions",  # create-redis again; its record is still there
        f"DELETE /v1/blueprints/{RECORDS_BLUEPRINT}/entities/apply%3Aaction%3Aupdate-redis",
    ]
    assert "apply:action:create-redis" in recorded(port_emulator)
