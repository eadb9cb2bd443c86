"""Both webhook body formats become the same run context."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.intake.payload import PayloadRejected, find_run_id, parse_run
from port_bridge_sandbox.port import legacy_envelope, trigger_context

ACTION = {
    "identifier": "update-redis",
    "trigger": {"type": "self-service", "operation": "DAY-2", "blueprintIdentifier": "redis"},
    "invocationMethod": {"type": "WEBHOOK", "url": "https://bridge.example.com/webhook"},
}
ENTITY = {"identifier": "default.cache", "blueprint": "redis", "properties": {"namespace": "default"}}


def context() -> dict[str, Any]:
    return trigger_context(
        run_id="r_Legacy0000000001",
        action=ACTION,
        inputs={"size": "large"},
        entity=ENTITY,
        user_email="dev@example.com",
        operation="DAY-2",
        org_id="org_1",
    )


def test_v2_body() -> None:
    run = parse_run(
        {
            "runId": "r_AAAAAAAAAAAAAAAA",
            "action": "update-redis",
            "operation": "DAY-2",
            "blueprint": "redis",
            "inputs": {"size": "large"},
            "entity": ENTITY,
            "trigger": {
                "by": {"email": "dev@example.com", "userId": "u1", "orgId": "o1"},
                "origin": "UI",
                "at": "now",
            },
        }
    )
    assert (run.format, run.run_id, run.action, run.operation) == (
        "v2",
        "r_AAAAAAAAAAAAAAAA",
        "update-redis",
        "DAY-2",
    )
    assert run.document()["entity"]["identifier"] == "default.cache"
    assert run.document()["trigger"]["by"] == {"email": "dev@example.com", "userId": "u1", "orgId": "o1"}


def test_legacy_envelope_as_port_built_it() -> None:
    run = parse_run(legacy_envelope(context(), ACTION))
    assert (run.format, run.run_id, run.action, run.operation) == (
        "legacy",
        "r_Legacy0000000001",
        "update-redis",
        "DAY-2",
    )
    assert run.inputs == {"size": "large"}
    assert run.entity is not None and run.entity["identifier"] == "default.cache"
    assert run.trigger["by"]["email"] == "dev@example.com"


def test_legacy_trigger_as_a_plain_string() -> None:
    body = {
        "action": "create-redis",
        "context": {"runId": "r_1"},
        "payload": {"action": {"trigger": "CREATE"}, "properties": {}},
    }
    assert parse_run(body).operation == "CREATE"


def test_create_runs_have_no_entity() -> None:
    assert parse_run({"runId": "r_1", "action": "create-redis", "entity": {}}).entity is None


@pytest.mark.parametrize(
    "body", [None, [], "text", {}, {"runId": ""}, {"runId": 7}, {"context": {"runId": None}}]
)
def test_no_run_id(body: Any) -> None:
    assert find_run_id(body) is None
    with pytest.raises(PayloadRejected) as rejected:
        parse_run(body)
    assert rejected.value.run_id is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"runId": "r_1"}, "action must be a non-empty string"),
        ({"runId": "r_1", "action": "a", "inputs": [1]}, "inputs must be an object"),
        ({"runId": "r_1", "action": "a", "operation": "UPSERT"}, "operation must be one of"),
        ({"runId": "r_1", "action": "a", "entity": "default.cache"}, "entity must be an object"),
        ({"action": "a", "context": {"runId": "r_1"}, "payload": "x"}, "payload must be an object"),
    ],
)
def test_malformed_bodies_keep_the_run_id_for_closing_the_run(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadRejected, match=reason) as rejected:
        parse_run(body)
    assert rejected.value.run_id == "r_1"
