"""Reading a Kratix resource request's status: has Kratix really finished, and how did it end?

One pure function, :func:`classify`, follows research/kratix.md §2.6 across every era of
Kratix's status format (§2.4): ``PipelineCompleted`` only (legacy), ``ConfigureWorkflowCompleted``
(2024), and ``WorksSucceeded``/``Reconciled`` with counters and ``status.kratix.workflows``
(current). It is bound to the generation the bridge submitted, so a stale success from an
earlier generation is never taken for this run's, and a later periodic re-run cannot reopen a
finished run (the caller stops asking once a run is closed).

Kratix never fails some things (a pipeline image that never pulls, Works no Destination
matches); those stay in progress here and the caller's timeout ends them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class Phase(enum.StrEnum):
    PENDING = "pending"  # Kratix has not picked the request up yet
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # paused, suspended or the Promise unavailable: not failing, not moving
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DELETING = "deleting"
    DELETED = "deleted"
    MISSING = "missing"  # the request is gone though the run did not delete it


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.DELETED, Phase.MISSING})


@dataclass(frozen=True)
class KratixState:
    phase: Phase
    label: str  # short, for Port's statusLabel
    detail: str  # one line for the run log
    message: str | None = None  # Kratix's own status.message

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL

    @property
    def key(self) -> str:
        """Identifies the transition, so each one is logged once."""
        return f"{self.phase}:{self.label}"


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {c.get("type", ""): c for c in status.get("conditions") or () if isinstance(c, Mapping)}


def _is(condition: Mapping[str, Any] | None, state: str, reason: str | None = None) -> bool:
    return (
        condition is not None
        and condition.get("status") == state
        and (reason is None or condition.get("reason") == reason)
    )


def _pipelines(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pipelines = ((status.get("kratix") or {}).get("workflows") or {}).get("pipelines") or []
    return [p for p in pipelines if isinstance(p, Mapping)]


def _progress(status: Mapping[str, Any]) -> tuple[str, str]:
    """``(label, detail)`` for a running configure workflow, as precise as the era allows."""
    pipelines = _pipelines(status)
    for phase, verb in (("Running", "running"), ("Pending", "starting")):
        for index, pipeline in enumerate(pipelines):
            if pipeline.get("phase") == phase:
                position = f"{index + 1} of {len(pipelines)}"
                return (
                    f"Pipeline {position} {verb}",
                    f"Kratix: configure pipeline {pipeline.get('name')} {verb} ({position})",
                )
    total, done = status.get("workflows"), status.get("workflowsSucceeded")
    if isinstance(total, int) and isinstance(done, int) and total:
        position = f"{min(done + 1, total)} of {total}"
        return f"Pipeline {position} running", f"Kratix: configure pipeline {position} running"
    return "Pipelines running", "Kratix: configure pipelines running"


def _current_era(status: Mapping[str, Any], conditions: Mapping[str, Any]) -> bool:
    """Signals only Kratix builds that also write WorksSucceeded have (2025-06 onwards)."""
    return "kratix" in status or "workflows" in status or "Reconciled" in conditions


def _observed(status: Mapping[str, Any]) -> int | None:
    value = status.get("observedGeneration")
    return value if isinstance(value, int) else None


def classify(
    request: Mapping[str, Any] | None,
    *,
    submitted_generation: int,
    operation: str,
    has_configure_workflow: bool = True,
    applied_at: str | None = None,
    jobs: Sequence[Mapping[str, Any]] = (),
) -> KratixState:
    """Where a request stands for the run that submitted ``submitted_generation``.

    ``applied_at`` (RFC 3339) is when the run applied its change; it tells a fresh legacy
    ``PipelineCompleted`` from one left over from before. ``jobs`` are the request's pipeline Jobs,
    the only place a legacy Kratix shows a failed pipeline.
    """
    if request is None:
        if operation == "DELETE":
            return KratixState(Phase.DELETED, "Deleted", "Kratix: the request and its resources are gone")
        return KratixState(
            Phase.MISSING,
            "Request gone",
            "Kratix: the request no longer exists; it was deleted outside this run",
        )
    metadata, status = request.get("metadata") or {}, request.get("status") or {}
    conditions = _conditions(status)
    message = status.get("message") if isinstance(status.get("message"), str) else None
    if metadata.get("deletionTimestamp"):
        return _deleting(conditions, metadata, message)
    if operation == "DELETE":  # our delete has not shown on the object yet
        return KratixState(
            Phase.DELETING, "Deleting", "Kratix: deletion requested; waiting for it to take effect", message
        )
    if _is(conditions.get("PromiseAvailable"), "False"):
        return KratixState(
            Phase.WAITING,
            "Promise unavailable",
            "Kratix: the Promise is unavailable (its requirements are not installed); waiting",
            message,
        )
    reconciled = conditions.get("Reconciled")
    if _is(reconciled, "Unknown", "PausedReconciliation"):
        return KratixState(
            Phase.WAITING, "Paused", "Kratix: reconciliation is paused (kratix.io/paused)", message
        )
    if (
        _is(reconciled, "Unknown", "WorkflowSuspended")
        or (metadata.get("labels") or {}).get("kratix.io/workflow-suspended") == "true"
    ):
        return _suspended(status, message)
    observed = _observed(status)
    configure = conditions.get("ConfigureWorkflowCompleted")
    if configure is not None:
        return _configured(status, conditions, configure, observed, submitted_generation, message)
    legacy = conditions.get("PipelineCompleted")
    if legacy is not None:
        return _legacy(legacy, observed, submitted_generation, applied_at, jobs, message)
    if not has_configure_workflow and observed is not None and observed >= submitted_generation:
        return KratixState(
            Phase.SUCCEEDED,
            "Reconciled",
            "Kratix: the request is reconciled (no configure workflow)",
            message,
        )
    return KratixState(
        Phase.PENDING, "Waiting for Kratix", "Kratix: waiting for the request's workflow to start", message
    )


def _deleting(conditions: Mapping[str, Any], metadata: Mapping[str, Any], message: str | None) -> KratixState:
    delete = conditions.get("DeleteWorkflowCompleted")
    if _is(delete, "False", "DeleteWorkflowFailed"):
        text = delete.get("message") if delete else None
        return KratixState(
            Phase.FAILED,
            "Delete failed",
            f"Kratix: {text or 'the delete pipeline has failed'}; the request stays until the cause is "
            "fixed and kratix.io/manual-reconciliation=true is set",
            message,
        )
    if _is(delete, "False", "DeleteWorkflowSuspended"):
        return KratixState(
            Phase.DELETING, "Delete suspended", "Kratix: the delete pipeline is suspended; waiting", message
        )
    remaining = ", ".join(metadata.get("finalizers") or ()) or "none"
    return KratixState(
        Phase.DELETING, "Deleting", f"Kratix: deleting the request (finalizers left: {remaining})", message
    )


def _suspended(status: Mapping[str, Any], message: str | None) -> KratixState:
    for pipeline in _pipelines(status):
        if pipeline.get("phase") == "Suspended":
            why = pipeline.get("message") or "no reason given"
            retry = f"; next retry at {pipeline['nextRetryAt']}" if pipeline.get("nextRetryAt") else ""
            return KratixState(
                Phase.WAITING,
                "Suspended",
                f"Kratix: pipeline {pipeline.get('name')} suspended: {why}{retry}",
                message,
            )
    return KratixState(Phase.WAITING, "Suspended", "Kratix: the workflow is suspended", message)


def _configured(
    status: Mapping[str, Any],
    conditions: Mapping[str, Mapping[str, Any]],
    configure: Mapping[str, Any],
    observed: int | None,
    generation: int,
    message: str | None,
) -> KratixState:
    """Kratix from 2024-10: ConfigureWorkflowCompleted, then (2025-06) WorksSucceeded/Reconciled."""
    if _is(configure, "False", "ConfigureWorkflowFailed"):
        return KratixState(
            Phase.FAILED,
            "Pipeline failed",
            f"Kratix: {configure.get('message') or 'a configure pipeline failed'}",
            message,
        )
    if not _is(configure, "True"):
        label, detail = _progress(status)
        return KratixState(Phase.IN_PROGRESS, label, detail, message)
    if observed is not None and observed < generation:
        return KratixState(
            Phase.IN_PROGRESS,
            "Applying change",
            f"Kratix: waiting for the workflow of generation {generation} (last completed: {observed})",
            message,
        )
    works = conditions.get("WorksSucceeded")
    if works is None:
        if _current_era(status, conditions):
            return KratixState(
                Phase.IN_PROGRESS,
                "Scheduling works",
                "Kratix: pipelines completed; scheduling works",
                message,
            )
        return _succeeded(message)
    if _is(works, "True") or _is(conditions.get("Reconciled"), "True"):
        return _succeeded(message)
    works_message = works.get("message") or works.get("reason")
    if _is(works, "False", "WorksFailing"):
        return KratixState(
            Phase.FAILED,
            "Works failing",
            f"Kratix: writing to the state store failed: {works_message}",
            message,
        )
    if _is(works, "False", "WorksMisplaced"):
        return KratixState(
            Phase.FAILED,
            "Works misplaced",
            f"Kratix: the request's works are on Destinations that no longer match: {works_message}",
            message,
        )
    return KratixState(
        Phase.IN_PROGRESS, "Works pending", f"Kratix: works are not scheduled yet: {works_message}", message
    )


def _legacy(
    completed: Mapping[str, Any],
    observed: int | None,
    generation: int,
    applied_at: str | None,
    jobs: Sequence[Mapping[str, Any]],
    message: str | None,
) -> KratixState:
    """Kratix up to v0.125: PipelineCompleted is True after *each* pipeline and never says it failed."""
    failed = _failed_job(jobs, applied_at)
    if failed is not None:
        return KratixState(
            Phase.FAILED,
            "Pipeline failed",
            f"Kratix: configure pipeline {failed} failed (its Job failed)",
            message,
        )
    fresh = (
        observed >= generation
        if observed is not None
        else (applied_at is None or _second(completed.get("lastTransitionTime")) >= _second(applied_at))
    )
    if _is(completed, "True") and fresh:
        return _succeeded(message)
    return KratixState(Phase.IN_PROGRESS, "Pipelines running", "Kratix: configure pipelines running", message)


def _failed_job(jobs: Sequence[Mapping[str, Any]], applied_at: str | None) -> str | None:
    for job in jobs:
        labels = (job.get("metadata") or {}).get("labels") or {}
        action = labels.get("kratix.io/workflow-action") or labels.get("kratix.io/work-action")
        started = str(
            (job.get("status") or {}).get("startTime")
            or (job.get("metadata") or {}).get("creationTimestamp")
            or ""
        )
        if action != "configure" or (applied_at and _second(started) < _second(applied_at)):
            continue
        if any(
            c.get("type") == "Failed" and c.get("status") == "True"
            for c in (job.get("status") or {}).get("conditions") or ()
        ):
            return str(labels.get("kratix.io/pipeline-name") or (job.get("metadata") or {}).get("name"))
    return None


def _second(timestamp: Any) -> str:
    """An RFC 3339 time to the second: Kratix writes whole seconds, the bridge milliseconds."""
    return str(timestamp or "")[:19]


def _succeeded(message: str | None) -> KratixState:
    return KratixState(
        Phase.SUCCEEDED, "Reconciled", f"Kratix: reconciled{': ' + message if message else ''}", message
    )
