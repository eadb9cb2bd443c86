"""The words a developer reads in the Port run: log lines, summaries and status labels.

Kept in one place so they stay consistent (a summary names the request the same way a log line
does) and so a change of wording never touches the logic that decides when they are said.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from kubernetes.client import ApiException

from port_bridge.actionrun.model import FAILURE, ActionRunSpec, JournalLine, RequestRef, Result
from port_bridge.kratix.status import KratixState, Phase

MAX_LINE = 2000  # characters of one log line or summary: Kratix messages can be long


def line(message: str, label: str | None = None) -> JournalLine:
    return JournalLine(message=bounded(message), label=label)


def bounded(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def refused_by_intake(message: str) -> str:
    return f"port-bridge refused the run: {message}"


def not_configured(action: str) -> str:
    return f"action {action!r} is no longer configured in port-bridge"


def no_request() -> str:
    return "the ActionRun names no Kratix request, so there is nothing to apply"


# A run's first line says it was received and what was done with it (one call to Port, not two).
def requested(request: RequestRef) -> str:
    return (
        f"port-bridge received the run and requested {request.where} from Kratix (Promise {request.promise})"
    )


def changed(request: RequestRef, generation: int) -> str:
    fields = ", ".join(sorted(request.spec or {})) or "nothing"
    return f"port-bridge received the run and changed {fields} on {request.where} (generation {generation})"


def deletion_requested(request: RequestRef) -> str:
    return f"port-bridge received the run and requested deletion of {request.where} from Kratix"


def already_gone(request: RequestRef) -> str:
    return f"port-bridge received the run: {request.where} was already gone"


def taken(request: RequestRef, owner: str | None) -> str:
    by = f" (created by Port run {owner})" if owner else " (not created through port-bridge)"
    return f"a {request.where} already exists{by}; choose another name"


def missing_for_change(request: RequestRef) -> str:
    return f"{request.where} does not exist; the catalog entity may be out of date"


def kubernetes_refused(error: ApiException, request: RequestRef, operation: str) -> str:
    try:
        detail = json.loads(error.body or "{}").get("message") or error.reason
    except (ValueError, AttributeError):
        detail = error.reason
    if error.status == 404 and "namespaces" in str(detail):
        return f"cannot {operation.lower()} {request.where}: {detail}"
    return f"Kubernetes refused to {operation.lower()} {request.where}: {detail}"


def timed_out(
    timeout_seconds: float, unfinished: Sequence[tuple[RequestRef, KratixState]], *, several: bool
) -> str:
    """Where each unfinished request was when the run's timeout passed."""
    where = "; ".join(
        (f"{request.where}: " if several else "") + state.detail.removeprefix("Kratix: ")
        for request, state in unfinished
    )
    return f"Kratix did not finish within {duration(timeout_seconds)}; it was at: {where}"


def kratix_line(request: RequestRef, state: KratixState, *, several: bool) -> str:
    """A Kratix transition for the run's log, naming the request when the run has several."""
    if not several:
        return state.detail
    return f"Kratix ({request.where}): {state.detail.removeprefix('Kratix: ')}"


def failure(request: RequestRef, state: KratixState, *, several: bool) -> str:
    detail = state.detail.removeprefix("Kratix: ")
    return f"{request.where}: {detail}" if several else detail


def success(spec: ActionRunSpec, observed: Mapping[str, KratixState]) -> str:
    """The run's summary once Kratix has finished every request."""
    return "; ".join(_succeeded(spec, request, observed[request.id]) for request in spec.requests)


def _succeeded(spec: ActionRunSpec, request: RequestRef, state: KratixState) -> str:
    if state.phase is Phase.DELETED:
        return f"{request.where} was deleted"
    message = f": {state.message}" if state.message else ""
    if spec.operation == "DAY-2":
        return f"{request.where} was changed and reconciled by Kratix{message}"
    return f"{request.where} is ready{message}"


def unexpected(error: BaseException) -> str:
    return f"port-bridge failed unexpectedly ({type(error).__name__}: {error}); see its logs"


def closed_elsewhere(detail: str) -> str:
    return f"the run was closed outside port-bridge: {detail}"


def final_label(operation: str | None, result: Result, state: KratixState) -> str:
    if result == FAILURE:
        return state.label if state.label not in ("Reconciled", "Deleted") else "Failed"
    return {"CREATE": "Ready", "DAY-2": "Changed", "DELETE": "Deleted"}.get(operation or "", "Done")


def duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min" if minutes and not rest else f"{int(seconds)} s"
