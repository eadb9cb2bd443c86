"""Each Kratix era's status writes, as pure functions of the status before them."""

from collections.abc import Mapping
from typing import Any

from port_bridge_sandbox.kratix import eras
from port_bridge_sandbox.kratix.eras import Era

PIPELINES = ("configure", "wait")


def condition_status(status: Mapping[str, Any], kind: str) -> object:
    found = eras.condition(status, kind)
    assert found is not None, f"no {kind} condition in {status}"
    return found["status"]


def test_transition_time_moves_only_when_the_state_does() -> None:
    status: dict[str, object] = {}
    eras.set_condition(status, "Reconciled", "Unknown", "WorkflowPending", "Pending", now="t1")
    eras.set_condition(status, "Reconciled", "Unknown", "WorksPending", "Pending", now="t2")
    assert eras.condition(status, "Reconciled") == {
        "type": "Reconciled",
        "status": "Unknown",
        "reason": "WorksPending",
        "message": "Pending",
        "lastTransitionTime": "t1",
    }
    eras.set_condition(status, "Reconciled", "True", "Reconciled", "Reconciled", now="t3")
    assert (eras.condition(status, "Reconciled") or {})["lastTransitionTime"] == "t3"


def test_the_input_status_is_never_mutated() -> None:
    before = {"message": "Resource requested", "conditions": []}
    eras.pipeline_started(Era.CURRENT, before, PIPELINES, 0, now="t")
    assert before == {"message": "Resource requested", "conditions": []}


def test_only_the_last_pipeline_completes_the_workflow_after_2024() -> None:
    started = eras.pipeline_started(Era.Y2024, {}, PIPELINES, 0, now="t1")
    first = eras.pipeline_succeeded(Era.Y2024, started, PIPELINES, 0, written={}, now="t2")
    assert condition_status(first, "ConfigureWorkflowCompleted") == "False"
    assert first["message"] == "Pending"
    last = eras.pipeline_succeeded(Era.Y2024, first, PIPELINES, 1, written={"endpoint": "db:5432"}, now="t3")
    assert condition_status(last, "ConfigureWorkflowCompleted") == "True"
    assert (last["message"], last["endpoint"]) == ("Resource requested", "db:5432")


def test_legacy_completes_after_every_pipeline_and_records_no_failure() -> None:
    started = eras.pipeline_started(Era.LEGACY, {}, PIPELINES, 0, now="t1")
    first = eras.pipeline_succeeded(Era.LEGACY, started, PIPELINES, 0, written={}, now="t2")
    assert condition_status(first, "PipelineCompleted") == "True"
    second = eras.pipeline_started(Era.LEGACY, first, PIPELINES, 1, now="t3")
    assert eras.pipeline_failed(Era.LEGACY, second, PIPELINES, 1, now="t4") == second


def test_pipelines_cannot_write_the_kratix_block() -> None:
    status = eras.pipeline_succeeded(
        Era.CURRENT,
        eras.pipeline_started(Era.CURRENT, {}, ("p",), 0, now="t"),
        ("p",),
        0,
        written={"kratix": {"forged": True}, "url": "u"},
        now="t",
    )
    assert "forged" not in status["kratix"] and status["url"] == "u"


def test_completion_copies_the_configure_transition_time() -> None:
    started = eras.pipeline_started(Era.CURRENT, {}, ("p",), 0, now="t1")
    done = eras.pipeline_succeeded(Era.CURRENT, started, ("p",), 0, written={}, now="t2")
    completed = eras.workflow_completed(Era.CURRENT, done, generation=3, promise_version="v1")
    assert completed["observedGeneration"] == 3
    assert completed["lastSuccessfulConfigureWorkflowTime"] == "t2"
    assert completed["kratix"]["workflows"]["lastSuccessfulConfigureWorkflowTime"] == "t2"
    assert completed["promiseVersion"] == "v1"


def test_job_labels_were_renamed_in_2025() -> None:
    legacy = eras.job_labels(Era.Y2024, promise="p", request="r", pipeline="c", action="configure")
    current = eras.job_labels(Era.CURRENT, promise="p", request="r", pipeline="c", action="configure")
    assert legacy["kratix.io/work-action"] == current["kratix.io/workflow-action"] == "configure"
    assert "kratix.io/workflow-action" not in legacy
