"""The controller's state machine, one row per transition: what a run needs next, from its ActionRun alone."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from typing import Any

import pytest

from port_bridge.actionrun.model import ActionRun, JournalLine
from port_bridge.controller.steps import (
    Apply,
    Collect,
    Decide,
    Follow,
    Observe,
    Report,
    Step,
    next_step,
    rfc3339,
    seconds_since,
)
from port_bridge.kratix.status import KratixState, Phase

NOW = 1_800_000_000.0
RETENTION = 3600.0
REQUEST = {
    "promise": "postgresql",
    "apiVersion": "marketplace.kratix.io/v1alpha2",
    "kind": "postgresql",
    "plural": "postgresqls",
    "namespace": "default",
    "name": "orders",
    "spec": {"env": "dev"},
}
RUNNING = KratixState(Phase.IN_PROGRESS, "Pipeline running", "Kratix: configure pipeline running (1 of 1)")
READY = KratixState(Phase.SUCCEEDED, "Reconciled", "Kratix: reconciled", "db ready")
FAILED = KratixState(Phase.FAILED, "Pipeline failed", "Kratix: A Configure Pipeline has failed: configure")
DELETED = KratixState(Phase.DELETED, "Deleted", "Kratix: the request and its resources are gone")
GONE = KratixState(Phase.MISSING, "Request gone", "Kratix: the request no longer exists; it was deleted")


def run(spec: Mapping[str, object] | None = None, /, **status: object) -> ActionRun:
    return ActionRun.from_object(
        {
            "metadata": {"name": "r-abc", "namespace": "port-bridge", "resourceVersion": "7"},
            "spec": {
                "runId": "r_abc",
                "action": "create-postgresql",
                "operation": "CREATE",
                "request": REQUEST,
                "timeoutSeconds": 600,
                **(spec or {}),
            },
            "status": status,
        }
    )


APPLIED = {"submittedGeneration": 1, "appliedAt": rfc3339(NOW - 10)}
SEEN_RUNNING = {"kratix": {"key": RUNNING.key, "phase": "in_progress", "label": RUNNING.label, "detail": "x"}}
OUTCOME = {"outcome": {"result": "SUCCESS", "summary": "ready", "label": "Ready"}}


def said(*messages: str) -> tuple[JournalLine, ...]:
    """Expected journal lines; only their messages are compared."""
    return tuple(JournalLine(message=message) for message in messages)


@pytest.mark.parametrize(
    ("the_run", "configured", "observed", "expected"),
    [
        pytest.param(
            run(reported={"terminal": True}, finishedAt=rfc3339(NOW - 600)),
            True,
            None,
            Collect(RETENTION - 600),
            id="finished: collected after the retention",
        ),
        pytest.param(
            run(reported={"terminal": True}, finishedAt=rfc3339(NOW - 2 * RETENTION)),
            True,
            None,
            Collect(-RETENTION),
            id="finished long ago: collected now",
        ),
        pytest.param(run(**APPLIED, **OUTCOME), True, None, Report(), id="outcome recorded: report it"),
        pytest.param(
            run(**APPLIED, **OUTCOME),
            False,
            None,
            Report(),
            id="outcome recorded, action gone: still reported",
        ),
        pytest.param(
            run({"rejection": {"code": 422, "reason": "invalid_inputs", "message": "name is required"}}),
            True,
            None,
            Decide("FAILURE", "name is required", "Rejected"),
            id="rejected by intake",
        ),
        pytest.param(
            run(),
            False,
            None,
            Decide(
                "FAILURE",
                "action 'create-postgresql' is no longer configured in port-bridge",
                "Not configured",
            ),
            id="action no longer configured",
        ),
        pytest.param(run(), True, None, Apply(), id="new: apply"),
        pytest.param(run(**APPLIED), True, None, Observe(), id="applied: observe Kratix"),
        pytest.param(
            run(**APPLIED),
            True,
            RUNNING,
            Follow(590, said("Kratix: configure pipeline running (1 of 1)")),
            id="Kratix moved: follow and log it",
        ),
        pytest.param(
            run(**APPLIED, **SEEN_RUNNING), True, RUNNING, Follow(590), id="nothing new: follow quietly"
        ),
        pytest.param(
            run(**APPLIED, **SEEN_RUNNING),
            True,
            READY,
            Decide(
                "SUCCESS", "postgresql default/orders is ready: db ready", "Ready", said("Kratix: reconciled")
            ),
            id="reconciled: SUCCESS",
        ),
        pytest.param(
            run(**APPLIED),
            True,
            FAILED,
            Decide("FAILURE", "A Configure Pipeline has failed: configure", "Pipeline failed"),
            id="pipeline failed: FAILURE with Kratix's words",
        ),
        pytest.param(
            run({"operation": "DELETE"}, **APPLIED),
            True,
            DELETED,
            Decide("SUCCESS", "postgresql default/orders was deleted", "Deleted"),
            id="deleted: SUCCESS",
        ),
        pytest.param(
            run(**APPLIED),
            True,
            GONE,
            Decide("FAILURE", "the request no longer exists; it was deleted", "Request gone"),
            id="request gone: FAILURE",
        ),
        pytest.param(
            run({"timeoutSeconds": 5}, **APPLIED, **SEEN_RUNNING),
            True,
            RUNNING,
            Decide(
                "FAILURE",
                "Kratix did not finish within 5 s; it was at: configure pipeline running (1 of 1)",
                "Timed out",
            ),
            id="timeout passed: FAILURE naming where Kratix was",
        ),
        pytest.param(
            run({"timeoutSeconds": 5}, **APPLIED),
            True,
            READY,
            Decide("SUCCESS", "postgresql default/orders is ready: db ready", "Ready"),
            id="finished after the timeout but before we looked: Kratix's answer wins",
        ),
    ],
)
def test_next_step(
    the_run: ActionRun, configured: bool, observed: KratixState | None, expected: Step
) -> None:
    seen = {"main": observed} if observed is not None else None
    step = next_step(the_run, configured=configured, observed=seen, now=NOW, retention_seconds=RETENTION)
    assert type(step) is type(expected)
    if isinstance(expected, Collect):
        assert isinstance(step, Collect) and step.wait == pytest.approx(expected.wait, abs=0.01)
    if isinstance(expected, Decide):
        assert isinstance(step, Decide)
        assert (step.result, step.summary, step.label) == (expected.result, expected.summary, expected.label)
        for line in expected.lines:
            assert line.message in [entry.message for entry in step.lines]
    if isinstance(expected, Follow):
        assert isinstance(step, Follow)
        assert step.recheck_in == pytest.approx(expected.recheck_in, abs=0.01)
        assert [entry.message for entry in step.lines] == [line.message for line in expected.lines]
        assert bool(step.kratix) == bool(expected.lines)


def test_a_decision_records_the_new_kratix_state_and_a_timeout_line() -> None:
    step = next_step(
        run({"timeoutSeconds": 5}, **APPLIED),
        configured=True,
        observed={"main": RUNNING},
        now=NOW,
        retention_seconds=1,
    )
    assert isinstance(step, Decide)
    assert step.kratix["main"].key == RUNNING.key
    assert [line.message for line in step.lines] == [
        RUNNING.detail,
        "Timed out: Kratix did not finish within 5 s; it was at: configure pipeline running (1 of 1)",
    ]
    assert step.lines[0].label == RUNNING.label


def test_a_rejected_run_is_decided_before_anything_about_its_action() -> None:
    rejected = run(
        {"action": "unknown", "request": None, "rejection": {"code": 404, "reason": "x", "message": "no"}}
    )
    step = next_step(rejected, configured=False, observed=None, now=NOW, retention_seconds=1)
    assert isinstance(step, Decide) and step.label == "Rejected"
    assert [line.message for line in step.lines] == ["port-bridge refused the run: no"]


def test_times_round_trip_to_the_millisecond() -> None:
    assert seconds_since(rfc3339(NOW - 1.25), NOW) == pytest.approx(1.25, abs=0.001)
    assert seconds_since(None, NOW) == 0.0
    naive = "2027-01-15T08:00:00"  # no zone: read as UTC, as Kubernetes writes times
    assert seconds_since(naive, calendar.timegm((2027, 1, 15, 8, 0, 5)) * 1.0) == pytest.approx(5.0)


DATABASE = {**REQUEST, "id": "database", "name": "orders-db"}
SERVICE = {
    **REQUEST,
    "promise": "service",
    "apiVersion": "platform.port-bridge.io/v1alpha1",
    "kind": "service",
    "plural": "services",
}


def two_requests(**status: Any) -> ActionRun:
    applied = {"submittedGeneration": 1, "appliedAt": rfc3339(NOW - 10)}
    progress = {"main": applied, "database": applied} if status.pop("applied", True) else {"main": applied}
    return run({"requests": [SERVICE, DATABASE], "timeoutSeconds": 600}, requests=progress, **status)


@pytest.mark.parametrize(
    ("the_run", "observed", "expected", "summary", "lines"),
    [
        pytest.param(two_requests(applied=False), None, Apply, None, [], id="one not applied yet: apply"),
        pytest.param(
            two_requests(),
            {"main": READY, "database": RUNNING},
            Follow,
            None,
            [
                "Kratix (service default/orders): reconciled",
                "Kratix (postgresql default/orders-db): configure pipeline running (1 of 1)",
            ],
            id="one done, one running: follow, naming each",
        ),
        pytest.param(
            two_requests(),
            {"main": READY, "database": READY},
            Decide,
            "service default/orders is ready: db ready; postgresql default/orders-db is ready: db ready",
            None,
            id="both reconciled: SUCCESS",
        ),
        pytest.param(
            two_requests(),
            {"main": RUNNING, "database": FAILED},
            Decide,
            "postgresql default/orders-db: A Configure Pipeline has failed: configure",
            None,
            id="one failed: FAILURE naming it, without waiting for the other",
        ),
    ],
)
def test_a_run_of_several_requests(
    the_run: ActionRun,
    observed: dict[str, KratixState] | None,
    expected: type[Step],
    summary: str | None,
    lines: list[str] | None,
) -> None:
    step = next_step(the_run, configured=True, observed=observed, now=NOW, retention_seconds=RETENTION)
    assert type(step) is expected
    if summary is not None:
        assert isinstance(step, Decide) and step.summary == summary
    if lines is not None and isinstance(step, Follow | Decide):
        assert [line.message for line in step.lines] == lines


def test_several_requests_time_out_naming_where_each_unfinished_one_was() -> None:
    late = two_requests()
    late = run(
        {"requests": [SERVICE, DATABASE], "timeoutSeconds": 5}, requests=late.status.to_json()["requests"]
    )
    step = next_step(
        late, configured=True, observed={"main": READY, "database": RUNNING}, now=NOW, retention_seconds=1
    )
    assert isinstance(step, Decide) and step.label == "Timed out"
    assert step.summary == (
        "Kratix did not finish within 5 s; it was at: "
        "postgresql default/orders-db: configure pipeline running (1 of 1)"
    )


def test_an_actionrun_of_one_request_written_before_several_were_possible_still_reads() -> None:
    old = run({"request": REQUEST}, submittedGeneration=3, requestUid="u", appliedAt=rfc3339(NOW))
    assert [request.id for request in old.spec.requests] == ["main"]
    assert old.status.progress("main").submitted_generation == 3
    assert old.status.progress("main").request_uid == "u"
