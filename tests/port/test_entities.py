"""Entities: upsert and merge tied to runs, bulk batches with 207 errors, reads and deletes."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.port import BULK_LIMIT, NotFound, PortApiError, PortClient, RunAlreadyFinished
from port_bridge_sandbox.port import PortEmulator

BULK = "/v1/blueprints/database/entities/bulk"


def _database(identifier: str, **properties: Any) -> dict[str, Any]:
    return {"identifier": identifier, "title": identifier, "properties": {"engine": "postgres", **properties}}


def test_upsert_merges_by_default_and_ties_the_write_to_the_run(
    port: PortEmulator, client: PortClient
) -> None:
    run_id = port.create_run("create_database")
    client.upsert_entity("database", _database("orders", size=2))
    stored = client.upsert_entity(
        "database", {"identifier": "orders", "properties": {"size": 4}}, run_id=run_id
    )
    assert stored["properties"] == {"engine": "postgres", "size": 4}
    [call] = port.calls_matching("POST", "/v1/blueprints/database/entities")[1:]
    assert call.query == {"upsert": "true", "merge": "true", "run_id": run_id}
    assert [(a.identifier, a.change) for a in port.run(run_id).affected_entities] == [("orders", "upsert")]


def test_upsert_without_merge_replaces_the_entity(port: PortEmulator, client: PortClient) -> None:
    client.upsert_entity("database", _database("orders", size=2))
    client.upsert_entity("database", {"identifier": "orders", "properties": {"size": 4}}, merge=False)
    stored = port.entity("database", "orders")
    assert stored is not None and stored["properties"] == {"size": 4}


def test_bulk_upsert_sends_batches_of_20_and_reports_per_entity_errors(
    port: PortEmulator, client: PortClient
) -> None:
    entities = [_database(f"db-{i}", size=i + 1) for i in range(45)]
    entities[3]["properties"]["engine"] = "oracle"
    entities[41]["properties"]["size"] = 0
    result = client.bulk_upsert("database", entities)
    calls = port.calls_matching("POST", BULK)
    assert [len(call.json["entities"]) for call in calls] == [BULK_LIMIT, BULK_LIMIT, 5]
    assert [call.status for call in calls] == [207, 200, 207]
    assert result.batches == 3 and not result.ok
    assert [(e.identifier, e.index, e.status_code) for e in result.errors] == [
        ("db-3", 3, 422),
        ("db-41", 41, 422),
    ]
    assert all("properties." in e.message for e in result.errors)
    assert len(result.written) == 43
    assert {item["index"] for item in result.written} == set(range(45)) - {3, 41}
    assert port.entity("database", "db-44") is not None and port.entity("database", "db-41") is None


def test_bulk_upsert_of_nothing_sends_nothing(port: PortEmulator, client: PortClient) -> None:
    result = client.bulk_upsert("database", [])
    assert (result.ok, result.batches, result.written) == (True, 0, ())
    assert port.calls == []


def test_bulk_upsert_on_a_finished_run_raises(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    client.patch_run(run_id, status="SUCCESS")
    with pytest.raises(RunAlreadyFinished):
        client.bulk_upsert("database", [_database("late")], run_id=run_id)
    assert port.calls_matching("POST", BULK)[0].query["run_id"] == run_id
    assert port.entity("database", "late") is None


def test_get_entity_is_none_when_missing(port: PortEmulator, client: PortClient) -> None:
    assert client.get_entity("database", "nope") is None
    client.upsert_entity("database", _database("orders"))
    found = client.get_entity("database", "orders")
    assert found is not None and found["properties"]["engine"] == "postgres"


def test_identifiers_are_encoded_in_paths(port: PortEmulator, client: PortClient) -> None:
    identifier = "team/orders@eu=1+ünïcode"
    client.upsert_entity("database", _database(identifier))
    found = client.get_entity("database", identifier)
    assert found is not None and found["identifier"] == identifier
    assert client.delete_entity("database", identifier) is True
    [get] = port.calls_matching("GET", "/v1/blueprints/database/entities/.*")
    assert get.path.startswith("/v1/blueprints/database/entities/team%2Forders%40eu%3D1%2B")


def test_delete_reports_whether_the_entity_was_there(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    client.upsert_entity("database", _database("orders"))
    assert client.delete_entity("database", "orders", run_id=run_id) is True
    assert port.entity("database", "orders") is None
    assert client.delete_entity("database", "orders") is False
    deletes = port.calls_matching("DELETE", "/v1/blueprints/database/entities/orders")
    assert [call.status for call in deletes] == [200, 404]
    assert deletes[0].query == {"delete_dependents": "false", "run_id": run_id}
    assert [(a.identifier, a.change) for a in port.run(run_id).affected_entities] == [("orders", "delete")]


def test_list_entities_reads_every_entity_of_the_blueprint(port: PortEmulator, client: PortClient) -> None:
    assert client.list_entities("database") == []
    client.bulk_upsert("database", [_database(f"db-{i}", size=i + 1) for i in range(3)])
    listed = client.list_entities("database")
    assert sorted((e["identifier"], e["properties"]["size"]) for e in listed) == [
        ("db-0", 1),
        ("db-1", 2),
        ("db-2", 3),
    ]
    with pytest.raises(NotFound):
        client.list_entities("no-such-blueprint")


NOTES = {
    "identifier": "note",
    "title": "Note",
    "schema": {"properties": {"text": {"type": "string"}}, "required": []},
    "relations": {"about": {"title": "About", "target": "note", "required": False, "many": False}},
}


def _note(identifier: str, size: int) -> dict[str, Any]:
    return {"identifier": identifier, "properties": {"text": "x" * size}}


def test_a_batch_port_finds_too_large_is_split_until_it_fits(port_spec_path: Any) -> None:
    with PortEmulator(spec_path=port_spec_path, max_body_bytes=8192) as port:
        port.add_blueprint(NOTES)
        with PortClient(port.url, client_id=port.client_id, client_secret=port.client_secret) as client:
            notes = [_note(f"n-{i}", 700) for i in range(12)]
            notes[5] = _note("huge", 9000)  # too large even alone
            result = client.bulk_upsert("note", notes)
        sizes = [
            (len(call.json["entities"]) if call.json else None, call.status)
            for call in port.calls_matching("POST", "/v1/blueprints/note/entities/bulk")
        ]
        assert sizes[0] == (None, 413)  # refused before it was read
        assert [size for size, status in sizes if status == 200] == [3, 1, 1, 6]  # halves, first half first
        assert [(e.identifier, e.index, e.status_code) for e in result.errors] == [("huge", 5, 413)]
        assert sorted(item["index"] for item in result.written) == [i for i in range(12) if i != 5]
        assert port.entity("note", "n-11") is not None and port.entity("note", "huge") is None
        assert port.spec_violations == []


def test_batches_stay_under_a_mebibyte_without_asking_port(
    port_emulator: PortEmulator, client: PortClient
) -> None:
    port_emulator.add_blueprint(NOTES)
    result = client.bulk_upsert("note", [_note(f"n-{i}", 300_000) for i in range(7)])
    calls = port_emulator.calls_matching("POST", "/v1/blueprints/note/entities/bulk")
    assert [(len(call.json["entities"]), call.status) for call in calls] == [(3, 200), (3, 200), (1, 200)]
    assert result.ok and result.batches == 3


def test_bulk_delete_sends_100_at_a_time_and_says_what_went(
    port_emulator: PortEmulator, client: PortClient
) -> None:
    port_emulator.add_blueprint(NOTES)
    client.bulk_upsert("note", [_note(f"n-{i}", 1) for i in range(150)])
    deleted = client.bulk_delete("note", [f"n-{i}" for i in range(150)] + ["never-there"])
    calls = port_emulator.calls_matching("POST", "/v1/blueprints/note/bulk/entities/delete")
    assert [len(call.json["entities"]) for call in calls] == [100, 51]
    assert calls[0].query == {"delete_dependents": "false"}
    assert sorted(deleted) == sorted(f"n-{i}" for i in range(150))
    assert client.list_entities("note") == []


def test_bulk_delete_deletes_nothing_of_a_call_when_one_has_dependents(
    port_emulator: PortEmulator, client: PortClient
) -> None:
    port_emulator.add_blueprint(NOTES)
    client.bulk_upsert("note", [_note("target", 1), _note("other", 1)])
    client.upsert_entity("note", {"identifier": "fan", "properties": {}, "relations": {"about": "target"}})
    with pytest.raises(PortApiError) as refused:
        client.bulk_delete("note", ["target", "other"])
    assert refused.value.status == 422
    assert {e["identifier"] for e in client.list_entities("note")} == {"target", "other", "fan"}
    assert sorted(client.bulk_delete("note", ["target", "fan"])) == ["fan", "target"]  # together they may go
