"""``GET /runs`` and ``GET /runs/<run id>``: what the bridge knows of its runs, for the Port run's link.

Read from the runs' ActionRuns (typed), so the pages show exactly what the controller recorded:
the request, where Kratix stands, the journal of lines reported to Port, the outcome, or the
rejection. The answers are data; :mod:`~port_bridge.intake.runviews` shows them as JSON or HTML.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRun, KratixSeen, MalformedActionRun, RequestRef, run_id_of
from port_bridge.intake.answers import RETRY_AFTER_SECONDS, Answer, kube_message
from port_bridge.intake.payload import run_id_problem
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects

LISTED_RUNS = 200


def describe(run_id: str, *, objects: KubeObjects, namespace: str) -> Answer:
    if problem := run_id_problem(run_id):
        return Answer(400, {"error": "invalid_run_id", "message": problem}, "malformed")
    not_found = Answer(
        404, {"error": "not_found", "message": f"port-bridge has no run {run_id!r}"}, "not_found"
    )
    try:
        run = ActionRun.from_object(objects.get(ACTIONRUNS, actionrun_name(run_id), namespace=namespace))
    except MalformedActionRun as malformed:
        unreadable = {"error": "malformed_actionrun", "message": f"its ActionRun cannot be read: {malformed}"}
        return Answer(500, unreadable, "malformed")
    except Exception as error:
        if isinstance(error, ApiException) and error.status == 404:
            return not_found
        if not isinstance(error, ApiException) and not is_unavailable(error):
            raise
        unavailable = {"error": "kubernetes_unavailable", "message": kube_message(error)}
        return Answer(503, unavailable, "unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)})
    spec, status = run.spec, run.status
    if spec.run_id != run_id:
        return not_found
    main = spec.main
    body: dict[str, Any] = {
        "runId": run_id,
        "action": spec.action,
        "operation": spec.operation,
        "request": _shown(main) if main is not None else None,
        "receivedAt": spec.received_at,
        "phase": status.phase or "Received",
        "kratix": _seen(status.progress(main.id).kratix) if main is not None else None,
        "requests": [
            {"id": request.id, **_shown(request), "kratix": _seen(status.progress(request.id).kratix)}
            for request in spec.requests
        ]
        if len(spec.requests) > 1
        else None,
        "outcome": status.outcome.to_json() if status.outcome is not None else None,
        "rejection": spec.rejection.to_json() if spec.rejection is not None else None,
        "finishedAt": status.finished_at,
        "journal": [line.to_json() for line in status.journal],
    }
    return Answer(200, {key: value for key, value in body.items() if value}, "ok")


def list_runs(*, objects: KubeObjects, namespace: str, limit: int = LISTED_RUNS) -> Answer:
    """The newest ``limit`` runs, newest first: id, action, phase, request and how each ended."""
    try:
        items = objects.list(ACTIONRUNS, namespace=namespace).get("items") or []
    except Exception as error:
        if not isinstance(error, ApiException) and not is_unavailable(error):
            raise
        unavailable = {"error": "kubernetes_unavailable", "message": kube_message(error)}
        return Answer(503, unavailable, "unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)})
    runs = [_summary(item) for item in items]
    runs.sort(key=lambda run: str(run.get("receivedAt") or ""), reverse=True)
    return Answer(200, {"runs": runs[:limit], "total": len(runs)}, "ok")


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    try:
        run = ActionRun.from_object(item)
    except MalformedActionRun as malformed:
        return {"runId": run_id_of(item) or "", "phase": "Malformed", "message": str(malformed)}
    spec, status = run.spec, run.status
    summary = {
        "runId": spec.run_id,
        "action": spec.action,
        "operation": spec.operation,
        "request": _shown(spec.main) if spec.main is not None else None,
        "receivedAt": spec.received_at,
        "phase": status.phase or "Received",
        "result": status.outcome.result if status.outcome is not None else None,
        "summary": status.outcome.summary if status.outcome is not None else None,
        "finishedAt": status.finished_at,
    }
    return {key: value for key, value in summary.items() if value}


def _shown(request: RequestRef) -> dict[str, Any]:
    return {
        "apiVersion": request.api_version,
        "kind": request.kind,
        "namespace": request.namespace,
        "name": request.name,
    }


def _seen(kratix: KratixSeen | None) -> dict[str, Any] | None:
    if kratix is None:
        return None
    return kratix.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"key"})
