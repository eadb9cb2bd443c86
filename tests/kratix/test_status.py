"""One row per case of research/kratix.md §2.6, across the three eras of Kratix's status format."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.kratix.status import Phase, classify


def cond(
    kind: str, status: str, reason: str = "", message: str = "", at: str = "2026-11-21T10:00:00Z"
) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": at}


def req(
    *conditions: dict[str, str],
    generation: int = 1,
    deleting: bool = False,
    labels: dict[str, str] | None = None,
    finalizers: tuple[str, ...] = (),
    **status: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": "db",
        "namespace": "default",
        "generation": generation,
        "labels": labels or {},
        "finalizers": list(finalizers),
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-21T10:05:00Z"
    if conditions:
        status["conditions"] = list(conditions)
    return {"metadata": metadata, "spec": {}, "status": status}


CWC_RUNNING = cond(
    "ConfigureWorkflowCompleted", "False", "PipelinesInProgress", "Pipelines are still in progress"
)
CWC_DONE = cond("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully", "Pipelines completed")
CWC_FAILED = cond(
    "ConfigureWorkflowCompleted",
    "False",
    "ConfigureWorkflowFailed",
    "A Configure Pipeline has failed: configure",
)
WORKS_OK = cond(
    "WorksSucceeded", "True", "WorksSucceeded", "All works associated with this resource are ready"
)
WORKS_PENDING = cond(
    "WorksSucceeded", "Unknown", "WorksPending", "Some works associated with this resource are not ready: [w]"
)
WORKS_FAILING = cond(
    "WorksSucceeded", "False", "WorksFailing", "Some works associated with this resource failed: [w]"
)
WORKS_MISPLACED = cond("WorksSucceeded", "False", "WorksMisplaced", "misplaced: [w]")
RECONCILED = cond("Reconciled", "True", "Reconciled", "Reconciled")
RECONCILED_PENDING = cond("Reconciled", "Unknown", "WorkflowPending", "Pending")
PIPELINES_TWO = {
    "workflows": {
        "pipelines": [{"name": "configure", "phase": "Succeeded"}, {"name": "wait", "phase": "Running"}]
    }
}
LEGACY_DONE = cond(
    "PipelineCompleted",
    "True",
    "PipelineExecutedSuccessfully",
    "Pipeline completed",
    at="2026-11-21T10:01:00Z",
)
LEGACY_RUNNING = cond("PipelineCompleted", "False", "PipelineNotCompleted", "Pipeline has not completed")


def job(
    phase: str, *, action: str = "configure", started: str = "2026-11-21T10:00:30Z", legacy: bool = True
) -> dict[str, Any]:
    prefix = "work" if legacy else "workflow"
    conditions = [{"type": phase, "status": "True"}] if phase in ("Failed", "Complete") else []
    return {
        "metadata": {
            "name": "kratix-postgresql-db-configure-abcde",
            "labels": {f"kratix.io/{prefix}-action": action, "kratix.io/pipeline-name": "configure"},
        },
        "status": {"startTime": started, "conditions": conditions},
    }


ROWS: list[tuple[str, dict[str, Any] | None, dict[str, Any], Phase, str]] = [
    # -- gone ---------------------------------------------------------------------------------
    ("deleted by this run", None, {"operation": "DELETE"}, Phase.DELETED, "gone"),
    ("deleted under a create", None, {"operation": "CREATE"}, Phase.MISSING, "deleted outside"),
    # -- deletion -----------------------------------------------------------------------------
    (
        "deleting",
        req(deleting=True, finalizers=("kratix.io/work-cleanup",)),
        {"operation": "DELETE"},
        Phase.DELETING,
        "kratix.io/work-cleanup",
    ),
    (
        "delete pipeline failed",
        req(
            cond(
                "DeleteWorkflowCompleted", "False", "DeleteWorkflowFailed", "The Delete Pipeline has failed"
            ),
            deleting=True,
        ),
        {"operation": "DELETE"},
        Phase.FAILED,
        "The Delete Pipeline has failed",
    ),
    (
        "delete pipeline suspended",
        req(cond("DeleteWorkflowCompleted", "False", "DeleteWorkflowSuspended"), deleting=True),
        {"operation": "DELETE"},
        Phase.DELETING,
        "suspended",
    ),
    (
        "deletion not visible yet",
        req(CWC_DONE, observedGeneration=1),
        {"operation": "DELETE"},
        Phase.DELETING,
        "waiting for it to take effect",
    ),
    # -- not moving ---------------------------------------------------------------------------
    (
        "promise unavailable",
        req(cond("PromiseAvailable", "False", "PromiseRequirementsNotInstalled"), message="Pending"),
        {},
        Phase.WAITING,
        "Promise is unavailable",
    ),
    (
        "paused",
        req(cond("Reconciled", "Unknown", "PausedReconciliation", "Paused")),
        {},
        Phase.WAITING,
        "paused",
    ),
    (
        "suspended with a reason",
        req(
            cond("Reconciled", "Unknown", "WorkflowSuspended", "Suspended"),
            kratix={
                "workflows": {
                    "pipelines": [
                        {
                            "name": "configure",
                            "phase": "Suspended",
                            "message": "waiting for approval",
                            "nextRetryAt": "2026-11-21T11:00:00Z",
                        }
                    ]
                }
            },
        ),
        {},
        Phase.WAITING,
        "waiting for approval; next retry at 2026-11-21T11:00:00Z",
    ),
    (
        "suspended by label only",
        req(labels={"kratix.io/workflow-suspended": "true"}),
        {},
        Phase.WAITING,
        "suspended",
    ),
    # -- not picked up ------------------------------------------------------------------------
    ("no status yet", req(), {}, Phase.PENDING, "workflow to start"),
    (
        "no configure workflow, not observed",
        req(),
        {"has_configure_workflow": False},
        Phase.PENDING,
        "to start",
    ),
    (
        "no configure workflow, observed (Kratix #869)",
        req(observedGeneration=1),
        {"has_configure_workflow": False},
        Phase.SUCCEEDED,
        "no configure workflow",
    ),
    # -- 2024 era: ConfigureWorkflowCompleted only --------------------------------------------
    ("2024 running", req(CWC_RUNNING, message="Pending"), {}, Phase.IN_PROGRESS, "pipelines running"),
    ("2024 failed", req(CWC_FAILED), {}, Phase.FAILED, "A Configure Pipeline has failed: configure"),
    (
        "2024 done",
        req(CWC_DONE, observedGeneration=1, message="Resource requested"),
        {},
        Phase.SUCCEEDED,
        "Resource requested",
    ),
    (
        "2024 done before observedGeneration existed",
        req(CWC_DONE, message="Resource requested"),
        {},
        Phase.SUCCEEDED,
        "",
    ),
    (
        "2024 stale success of an older generation",
        req(CWC_DONE, generation=2, observedGeneration=1),
        {"submitted_generation": 2},
        Phase.IN_PROGRESS,
        "generation 2",
    ),
    (
        "2024 newer generation also satisfies an older run",
        req(CWC_DONE, generation=3, observedGeneration=3),
        {"submitted_generation": 2},
        Phase.SUCCEEDED,
        "",
    ),
    # -- current era --------------------------------------------------------------------------
    (
        "current pipeline 2 of 2 running",
        req(CWC_RUNNING, RECONCILED_PENDING, workflows=2, workflowsSucceeded=1, kratix=PIPELINES_TWO),
        {},
        Phase.IN_PROGRESS,
        "wait running (2 of 2)",
    ),
    (
        "current pipeline 2 of 2 about to start",
        req(
            CWC_RUNNING,
            workflows=2,
            workflowsSucceeded=1,
            kratix={
                "workflows": {
                    "pipelines": [
                        {"name": "configure", "phase": "Succeeded"},
                        {"name": "wait", "phase": "Pending"},
                    ]
                }
            },
        ),
        {},
        Phase.IN_PROGRESS,
        "wait starting (2 of 2)",
    ),
    (
        "current counters only",
        req(CWC_RUNNING, workflows=3, workflowsSucceeded=1),
        {},
        Phase.IN_PROGRESS,
        "2 of 3",
    ),
    (
        "current configured, works not yet known",
        req(CWC_DONE, RECONCILED_PENDING, observedGeneration=1, workflows=1, workflowsSucceeded=1),
        {},
        Phase.IN_PROGRESS,
        "scheduling works",
    ),
    (
        "current works pending",
        req(CWC_DONE, WORKS_PENDING, cond("Reconciled", "Unknown", "WorksPending"), observedGeneration=1),
        {},
        Phase.IN_PROGRESS,
        "not ready: [w]",
    ),
    (
        "current works failing",
        req(CWC_DONE, WORKS_FAILING, observedGeneration=1),
        {},
        Phase.FAILED,
        "failed: [w]",
    ),
    (
        "current works misplaced",
        req(CWC_DONE, WORKS_MISPLACED, observedGeneration=1),
        {},
        Phase.FAILED,
        "misplaced",
    ),
    (
        "current reconciled",
        req(CWC_DONE, WORKS_OK, RECONCILED, observedGeneration=1, message="1Gi instance deployed"),
        {},
        Phase.SUCCEEDED,
        "1Gi instance deployed",
    ),
    (
        "current reconciled though the reason lags (#903)",
        req(CWC_DONE, WORKS_OK, RECONCILED_PENDING, observedGeneration=1),
        {},
        Phase.SUCCEEDED,
        "",
    ),
    (
        "current failed pipeline",
        req(CWC_FAILED, cond("Reconciled", "False", "ConfigureWorkflowFailed", "Failing"), workflowsFailed=1),
        {},
        Phase.FAILED,
        "has failed: configure",
    ),
    (
        "current periodic re-run of an earlier generation",
        req(CWC_RUNNING, RECONCILED_PENDING, generation=1, observedGeneration=1, message="Pending"),
        {},
        Phase.IN_PROGRESS,
        "running",
    ),
    (
        "current update not yet applied",
        req(CWC_DONE, WORKS_OK, RECONCILED, generation=2, observedGeneration=1),
        {"submitted_generation": 2},
        Phase.IN_PROGRESS,
        "generation 2",
    ),
    # -- legacy era: PipelineCompleted --------------------------------------------------------
    ("legacy running", req(LEGACY_RUNNING), {}, Phase.IN_PROGRESS, "running"),
    (
        "legacy done",
        req(LEGACY_DONE, observedGeneration=1, message="Resource requested"),
        {},
        Phase.SUCCEEDED,
        "Resource",
    ),
    (
        "legacy build without observedGeneration",
        req(LEGACY_DONE),
        {"applied_at": "2026-11-21T10:00:00Z"},
        Phase.SUCCEEDED,
        "",
    ),
    (
        "legacy stale True from before the change",
        req(LEGACY_DONE, generation=2),
        {"submitted_generation": 2, "applied_at": "2026-11-21T10:02:00Z"},
        Phase.IN_PROGRESS,
        "running",
    ),
    (
        "legacy True while observedGeneration lags",
        req(LEGACY_DONE, generation=2, observedGeneration=1),
        {"submitted_generation": 2},
        Phase.IN_PROGRESS,
        "running",
    ),
    (
        "legacy failed job",
        req(LEGACY_RUNNING),
        {"jobs": [job("Failed")], "applied_at": "2026-11-21T10:00:00Z"},
        Phase.FAILED,
        "configure failed",
    ),
    (
        "legacy failed job from before the change",
        req(LEGACY_RUNNING),
        {"jobs": [job("Failed", started="2026-11-21T09:00:00Z")], "applied_at": "2026-11-21T10:00:00Z"},
        Phase.IN_PROGRESS,
        "running",
    ),
    (
        "legacy failed delete job is not a configure failure",
        req(LEGACY_RUNNING),
        {"jobs": [job("Failed", action="delete")]},
        Phase.IN_PROGRESS,
        "running",
    ),
]


@pytest.mark.parametrize(
    ("request_obj", "options", "phase", "detail"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_classify(
    request_obj: dict[str, Any] | None, options: dict[str, Any], phase: Phase, detail: str
) -> None:
    arguments = {"submitted_generation": 1, "operation": "CREATE", **options}
    state = classify(request_obj, **arguments)
    assert state.phase is phase
    assert detail in state.detail


def test_terminal_states_and_transition_keys() -> None:
    running = classify(req(CWC_RUNNING, kratix=PIPELINES_TWO), submitted_generation=1, operation="CREATE")
    done = classify(req(CWC_DONE, WORKS_OK, observedGeneration=1), submitted_generation=1, operation="CREATE")
    assert not running.terminal and done.terminal
    assert running.key != done.key
    assert done.label == "Reconciled"


def test_the_bridges_millisecond_times_compare_with_kratixs_whole_seconds() -> None:
    done_at_second = cond(
        "PipelineCompleted", "True", "PipelineExecutedSuccessfully", at="2026-11-21T10:01:00Z"
    )
    same_second = classify(
        req(done_at_second, generation=2),
        submitted_generation=2,
        operation="DAY-2",
        applied_at="2026-11-21T10:01:00.730Z",
    )
    second_before = classify(
        req(done_at_second, generation=2),
        submitted_generation=2,
        operation="DAY-2",
        applied_at="2026-11-21T10:01:01.010Z",
    )
    assert (same_second.phase, second_before.phase) == (Phase.SUCCEEDED, Phase.IN_PROGRESS)
