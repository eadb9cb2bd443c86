"""Reading the run from a workflow's inputs: the shapes Port's guides use become the webhook's body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from port_bridge.cli import main
from port_bridge.intake.body import BodyProblem
from port_bridge.invoke.source import RunFlags, Unreadable, read_run
from port_bridge.settings import ConfigurationError

TRIGGER = {
    "by": {"email": "dev@example.com", "userId": "u1", "orgId": "o1"},
    "origin": "UI",
    "at": "2026-01-01",
}
CONTEXT = {
    "runId": "r_abc",
    "action": "create-service",
    "operation": "CREATE",
    "blueprint": "service",
    "inputs": {"name": "orders"},
    "entity": {},
    "trigger": TRIGGER,
}


def context(**fields: Any) -> RunFlags:
    return RunFlags(port_context=json.dumps({**CONTEXT, **fields}))


def test_the_projects_port_context_is_the_webhook_body() -> None:
    read = read_run(context(), {})
    assert read.document == CONTEXT and read.problems == () and read.origin == "--port-context"


def test_run_id_whole_action_and_trigger_objects_as_port_guides_send_them() -> None:
    whole = {
        "run_id": "r_abc",
        "action": {"identifier": "create-service", "blueprint": "service"},
        "trigger": {**TRIGGER, "operation": "CREATE"},
        "inputs": {"name": "orders"},
    }
    document = read_run(RunFlags(port_context=json.dumps(whole)), {}).document
    assert document["runId"] == "r_abc" and "run_id" not in document
    assert document["action"] == "create-service" and document["blueprint"] == "service"
    assert document["operation"] == "CREATE"


def test_run_id_does_not_replace_run_id_when_both_are_given() -> None:
    assert read_run(context(run_id="r_other"), {}).document["runId"] == "r_abc"


def test_the_environment_is_read_when_no_flag_gives_the_run() -> None:
    read = read_run(RunFlags(), {"PORT_CONTEXT": json.dumps(CONTEXT)})
    assert read.document == CONTEXT and read.origin == "PORT_CONTEXT"
    legacy = {"action": "create-service", "context": {"runId": "r_abc"}, "payload": {"properties": {}}}
    read = read_run(RunFlags(), {"PORT_PAYLOAD": json.dumps(legacy), "PORT_CONTEXT": ""})
    assert read.document == legacy and read.origin == "PORT_PAYLOAD"


def test_a_context_encoded_twice_is_read_once_more() -> None:
    twice = json.dumps(json.dumps(CONTEXT))  # toJSON(inputs.port_context) in a workflow
    assert read_run(RunFlags(port_context=twice), {}).document == CONTEXT


def test_flags_replace_the_contexts_fields() -> None:
    flags = RunFlags(
        port_context=json.dumps(CONTEXT), run_id="r_flag", action="create-redis", inputs='{"name": "cache"}'
    )
    document = read_run(flags, {}).document
    assert document["runId"] == "r_flag" and document["action"] == "create-redis"
    assert document["inputs"] == {"name": "cache"} and document["trigger"] == TRIGGER


def test_flags_alone_make_a_v2_body() -> None:
    flags = RunFlags(run_id="r_1", action="create-redis", inputs='{"name": "cache"}', entity="{}")
    read = read_run(flags, {})
    assert read.document == {
        "runId": "r_1",
        "action": "create-redis",
        "inputs": {"name": "cache"},
        "entity": {},
    }
    merged = read_run(flags, {"PORT_CONTEXT": json.dumps(CONTEXT)}).document  # as with --port-context
    assert merged["runId"] == "r_1" and merged["trigger"] == TRIGGER


def test_a_flag_that_is_not_json_is_a_problem_of_its_field() -> None:
    read = read_run(RunFlags(run_id="r_1", action="create-redis", inputs="{name: cache}"), {})
    assert read.document == {"runId": "r_1", "action": "create-redis"}
    assert [problem.path for problem in read.problems] == ["inputs"]
    assert read.problems[0].message.startswith("is not valid JSON: Expecting property name")


def test_values_intake_cannot_process_are_problems_named_by_field() -> None:
    read = read_run(RunFlags(run_id="r_1", action="a", inputs='{"size": NaN}'), {})
    assert read.problems == (
        BodyProblem("inputs.size", "NaN is not a JSON value (JSON has no NaN or Infinity)"),
    )
    replaced = read_run(RunFlags(port_context='{"runId": "r_1", "inputs": {"n": Infinity}}', inputs="{}"), {})
    assert replaced.problems == ()  # the flag replaced the field that held the problem


def test_a_context_that_is_not_an_object_is_a_problem_the_run_id_flag_can_still_report() -> None:
    read = read_run(RunFlags(port_context="[1, 2]", run_id="r_1"), {})
    assert read.document == {"runId": "r_1"}
    assert read.problems == (BodyProblem("port_context", "must be a JSON object, not list"),)


def test_json_that_is_not_json_at_all_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="the body is not valid JSON") as raised:
        read_run(RunFlags(), {"PORT_CONTEXT": "{runId: r_1"})
    assert raised.value.origin == "PORT_CONTEXT"


@pytest.mark.parametrize(
    ("flags", "environ", "message"),
    [
        (RunFlags(), {}, "no run given: pass --port-context JSON (or set PORT_CONTEXT)"),
        (RunFlags(inputs="{}"), {}, "no run given"),
        (RunFlags(port_context="{}", port_payload="{}"), {}, "--port-context and --port-payload: give one"),
        (RunFlags(), {"PORT_CONTEXT": "{}", "PORT_PAYLOAD": "{}"}, "PORT_CONTEXT and PORT_PAYLOAD: set one"),
        (
            RunFlags(port_payload="{}", run_id="r_1"),
            {},
            "--run-id: cannot be combined with the legacy --port-payload",
        ),
    ],
)
def test_what_cannot_name_a_run_is_a_usage_error(
    flags: RunFlags, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        read_run(flags, environ)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke"], "port-bridge: no run given: pass --port-context JSON (or set PORT_CONTEXT)"),
        (["invoke", "--wait", "--timeout", "soon"], "port-bridge: --timeout: must be a positive duration"),
        (
            ["invoke", "--wait", "--poll", "0"],
            "port-bridge: --poll: must be a number of seconds above 0, not 0",
        ),
    ],
)
def test_the_command_line_says_what_to_fix_with_status_2(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PORT_CONTEXT", raising=False)
    monkeypatch.delenv("PORT_PAYLOAD", raising=False)
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(message)
