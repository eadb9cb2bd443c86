"""What Kratix writes into a request's and a Promise's status, in each era of its releases.

Kratix's status format changed twice in ways a client must handle (research/kratix.md §2.4):

* ``legacy`` (tags up to v0.125.0, 2024): one condition, ``PipelineCompleted``, True after each
  pipeline and False while one runs; a failed pipeline leaves it False forever with no reason.
* ``2024`` (#258, SKE v0.7): ``ConfigureWorkflowCompleted``, True only after the last pipeline,
  with ``ConfigureWorkflowFailed`` for failures; ``lastSuccessfulConfigureWorkflowTime``;
  ``DeleteWorkflowCompleted`` for a failed delete pipeline.
* ``current`` (2025-06 onwards): also ``WorksSucceeded`` and ``Reconciled``, the workflow
  counters, ``status.kratix.workflows`` with per-pipeline phases, pause, suspend and
  ``PromiseAvailable``.

Each function takes the current status and returns the next one; the simulator only decides
when to call them. The texts are Kratix's own.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping, Sequence
from typing import Any

Status = dict[str, Any]


class Era(enum.StrEnum):
    LEGACY = "legacy"
    Y2024 = "2024"
    CURRENT = "current"


def set_condition(status: Status, kind: str, state: str, reason: str, message: str, *, now: str) -> None:
    """Insert or update one condition in place; the transition time moves only when ``state`` does."""
    conditions = status.setdefault("conditions", [])
    for index, condition in enumerate(conditions):
        if condition.get("type") == kind:
            moved = condition.get("status") != state
            transition = now if moved else condition.get("lastTransitionTime", now)
            conditions[index] = _condition(kind, state, reason, message, transition)
            return
    conditions.append(_condition(kind, state, reason, message, now))


def condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in status.get("conditions") or () if c.get("type") == kind), None)


def _condition(kind: str, state: str, reason: str, message: str, transition: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": state,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }


def _pipelines(status: Status) -> list[dict[str, Any]]:
    pipelines: list[dict[str, Any]] = (
        status.setdefault("kratix", {}).setdefault("workflows", {}).setdefault("pipelines", [])
    )
    return pipelines


def _set_phase(status: Status, index: int, phase: str, *, now: str, **extra: Any) -> None:
    entry = _pipelines(status)[index]
    entry.update(phase=phase, lastTransitionTime=now, **extra)
    if phase != "Suspended":
        for key in ("message", "nextRetryAt"):
            entry.pop(key, None)


def first_reconcile(era: Era, status: Mapping[str, Any], pipelines: Sequence[str], *, now: str) -> Status:
    """The controller's first pass: counters and every pipeline Pending (current era only)."""
    new = copy.deepcopy(dict(status))
    if era is Era.CURRENT and pipelines:
        new.update(workflows=len(pipelines), workflowsSucceeded=0, workflowsFailed=0)
        new.setdefault("kratix", {}).setdefault("workflows", {})["pipelines"] = [
            {"name": name, "phase": "Pending", "lastTransitionTime": now} for name in pipelines
        ]
    return new


def pipeline_started(
    era: Era, status: Mapping[str, Any], pipelines: Sequence[str], index: int, *, now: str
) -> Status:
    new = copy.deepcopy(dict(status))
    new["message"] = "Pending"
    if era is Era.LEGACY:
        set_condition(
            new, "PipelineCompleted", "False", "PipelineNotCompleted", "Pipeline has not completed", now=now
        )
        return new
    set_condition(
        new,
        "ConfigureWorkflowCompleted",
        "False",
        "PipelinesInProgress",
        "Pipelines are still in progress",
        now=now,
    )
    if era is Era.CURRENT:
        set_condition(new, "Reconciled", "Unknown", "WorkflowPending", "Pending", now=now)
        if index == 0:
            new.update(workflows=len(pipelines), workflowsSucceeded=0, workflowsFailed=0)
            new.setdefault("kratix", {}).setdefault("workflows", {})["pipelines"] = [
                {"name": name, "phase": "Pending", "lastTransitionTime": now} for name in pipelines
            ]
        _set_phase(new, index, "Running", now=now)
    return new


def pipeline_succeeded(
    era: Era,
    status: Mapping[str, Any],
    pipelines: Sequence[str],
    index: int,
    *,
    written: Mapping[str, Any],
    now: str,
) -> Status:
    """The status-writer container merges the pipeline's status.yaml (its keys win, but ``kratix``,
    which is refused; ``conditions`` merge by type); the last pipeline closes the workflow."""
    new = merge_written(status, written)
    last = index == len(pipelines) - 1
    if last and new.get("message") == "Pending":
        new["message"] = "Resource requested"
    if era is Era.LEGACY:
        set_condition(
            new, "PipelineCompleted", "True", "PipelineExecutedSuccessfully", "Pipeline completed", now=now
        )
        return new
    if last:
        set_condition(
            new,
            "ConfigureWorkflowCompleted",
            "True",
            "PipelinesExecutedSuccessfully",
            "Pipelines completed",
            now=now,
        )
    if era is Era.CURRENT:
        new["workflowsSucceeded"] = index + 1
        _set_phase(new, index, "Succeeded", now=now)
    return new


def merge_written(status: Mapping[str, Any], written: Mapping[str, Any]) -> Status:
    """What Kratix's status-writer makes of a pipeline's status.yaml over the request's status."""
    new = copy.deepcopy(dict(status))
    for key, value in written.items():
        if key == "conditions" and isinstance(value, list):
            conditions = new.setdefault("conditions", [])
            for condition in value:
                kinds = [c.get("type") for c in conditions]
                if condition.get("type") in kinds:
                    conditions[kinds.index(condition.get("type"))] = copy.deepcopy(condition)
                else:
                    conditions.append(copy.deepcopy(condition))
        elif key != "kratix":
            new[key] = copy.deepcopy(value)
    return new


def workflow_completed(
    era: Era, status: Mapping[str, Any], *, generation: int, promise_version: str | None
) -> Status:
    """The controller's bookkeeping once every pipeline is done."""
    new = copy.deepcopy(dict(status))
    new["observedGeneration"] = generation
    if era is Era.LEGACY:
        return new
    completed = condition(new, "ConfigureWorkflowCompleted")
    finished_at = completed["lastTransitionTime"] if completed else None
    new["lastSuccessfulConfigureWorkflowTime"] = finished_at
    if era is Era.CURRENT:
        new.setdefault("kratix", {}).setdefault("workflows", {})["lastSuccessfulConfigureWorkflowTime"] = (
            finished_at
        )
        if promise_version:
            new["promiseVersion"] = promise_version
    return new


def pipeline_failed(
    era: Era, status: Mapping[str, Any], pipelines: Sequence[str], index: int, *, now: str
) -> Status:
    """A pipeline Job failed after its retries. The legacy era records nothing at all."""
    new = copy.deepcopy(dict(status))
    if era is Era.LEGACY:
        return new
    message = f"A Configure Pipeline has failed: {pipelines[index]}"
    set_condition(new, "ConfigureWorkflowCompleted", "False", "ConfigureWorkflowFailed", message, now=now)
    if era is Era.CURRENT:
        set_condition(new, "Reconciled", "False", "ConfigureWorkflowFailed", "Failing", now=now)
        new["workflowsFailed"] = 1
        _set_phase(new, index, "Failed", now=now)
    return new


WORKS_OUTCOMES = {
    "succeed": ("True", "WorksSucceeded", "All works associated with this resource are ready"),
    "pending": (
        "Unknown",
        "WorksPending",
        "Some works associated with this resource are not ready: [{work}]",
    ),
    "failing": ("False", "WorksFailing", "Some works associated with this resource failed: [{work}]"),
    "misplaced": (
        "False",
        "WorksMisplaced",
        "Some works associated with this resource are misplaced: [{work}]",
    ),
}
_RECONCILED_FOR_WORKS = {
    "succeed": ("True", "Reconciled", "Reconciled"),
    "pending": ("Unknown", "WorksPending", "Pending"),
    "failing": ("False", "WorksFailing", "Failing"),
}


def works_result(status: Mapping[str, Any], outcome: str, *, work: str, now: str) -> Status:
    """Scheduling and state-store writes of the request's Works (current era only)."""
    new = copy.deepcopy(dict(status))
    state, reason, message = WORKS_OUTCOMES[outcome]
    set_condition(new, "WorksSucceeded", state, reason, message.format(work=work), now=now)
    if outcome in _RECONCILED_FOR_WORKS:
        set_condition(new, "Reconciled", *_RECONCILED_FOR_WORKS[outcome], now=now)
    return new


def suspended(
    status: Mapping[str, Any], index: int, *, message: str, next_retry_at: str | None, attempts: int, now: str
) -> Status:
    """A pipeline asked to suspend (workflow-control.yaml; current era)."""
    new = copy.deepcopy(dict(status))
    extra: dict[str, Any] = {"message": message, "attempts": attempts}
    if next_retry_at:
        extra["nextRetryAt"] = next_retry_at
    _set_phase(new, index, "Suspended", now=now, **extra)
    set_condition(new, "Reconciled", "Unknown", "WorkflowSuspended", "Suspended", now=now)
    return new


def paused(status: Mapping[str, Any], *, now: str) -> Status:
    new = copy.deepcopy(dict(status))
    set_condition(new, "Reconciled", "Unknown", "PausedReconciliation", "Paused", now=now)
    return new


def promise_availability(era: Era, status: Mapping[str, Any], *, available: bool, now: str) -> Status:
    """A request's view of its Promise being (un)available."""
    new = copy.deepcopy(dict(status))
    if not available:
        new["message"] = "Pending"
    if era is Era.CURRENT:
        if available and condition(new, "PromiseAvailable") is None:
            return new  # only a request that saw its Promise unavailable carries the condition
        if available:
            set_condition(
                new, "PromiseAvailable", "True", "PromiseAvailable", "Promise is available", now=now
            )
        else:
            message = "Promise Requirements are not installed"
            set_condition(
                new, "PromiseAvailable", "False", "PromiseRequirementsNotInstalled", message, now=now
            )
    return new


def delete_failed(era: Era, status: Mapping[str, Any], *, now: str) -> Status:
    new = copy.deepcopy(dict(status))
    if era is not Era.LEGACY:
        message = "The Delete Pipeline has failed"
        set_condition(new, "DeleteWorkflowCompleted", "False", "DeleteWorkflowFailed", message, now=now)
    return new


def promise_status(
    era: Era, status: Mapping[str, Any], *, kind: str, api_version: str, available: bool, now: str
) -> Status:
    """What the Promise controller writes on the Promise itself."""
    new = copy.deepcopy(dict(status))
    new.update(status="Available" if available else "Unavailable", kind=kind, apiVersion=api_version)
    if era is Era.CURRENT:
        new["kratix"] = {"kind": kind, "apiVersion": api_version, "status": new["status"]}
        if available:
            set_condition(
                new, "Available", "True", "PromiseAvailable", "Ready to fulfil resource requests", now=now
            )
        else:
            set_condition(
                new, "Available", "False", "PromiseUnavailable", "Requirements not fulfilled", now=now
            )
    return new


def job_labels(era: Era, *, promise: str, request: str, pipeline: str, action: str) -> dict[str, str]:
    """Labels Kratix puts on pipeline Jobs; the type/action keys were renamed in 2025-02."""
    prefix = "workflow" if era is Era.CURRENT else "work"
    return {
        "kratix.io/promise-name": promise,
        "kratix.io/resource-name": request,
        "kratix.io/pipeline-name": pipeline,
        f"kratix.io/{prefix}-type": "resource",
        f"kratix.io/{prefix}-action": action,
        "app.kubernetes.io/managed-by": "Kratix",
    }
