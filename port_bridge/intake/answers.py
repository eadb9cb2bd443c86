"""What intake answers, and the refusals it builds: one place for every status and message.

An :class:`Answer` is framework-free (the Flask app turns it into a response). A
:class:`Rejection` is why a run cannot go ahead; it is stored on the run's ActionRun, and the
controller closes the Port run as FAILURE with its message, so each refusal here is written for
the developer who clicked the button, or for the platform team when it is theirs to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes.client import ApiException

from port_bridge.actionrun.model import RecordedProblem, RecordedRejection
from port_bridge.intake.validation import FieldProblem
from port_bridge.kube.client import is_unavailable

RETRY_AFTER_SECONDS = 10


class RunCloser(Protocol):
    """Closes a Port run as FAILURE when intake could not record it anywhere else."""

    def close_failed(self, run_id: str, message: str) -> None: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    outcome: str
    headers: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    action: str | None = None
    closes_run: bool = False  # port-bridge has the run in hand: recorded, or closed in Port already


@dataclass(frozen=True)
class Rejection(Exception):
    """Why a run cannot go ahead: HTTP status, a machine-readable reason, a message for people."""

    status: int
    reason: str
    message: str
    errors: tuple[FieldProblem, ...] = ()

    def body(self, run_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.reason, "message": self.message}
        if run_id is not None:
            body["runId"] = run_id
        if self.errors:
            body["errors"] = [problem.as_json() for problem in self.errors]
        return body

    def record(self) -> RecordedRejection:
        """The rejection as the ActionRun keeps it."""
        return RecordedRejection(
            code=self.status,
            reason=self.reason,
            message=self.message,
            errors=tuple(RecordedProblem(field=p.field, message=p.message) for p in self.errors),
        )

    @classmethod
    def recorded(cls, record: RecordedRejection) -> Rejection:
        """The rejection an ActionRun kept, to answer a repeat delivery as the first one was."""
        return cls(
            record.code,
            record.reason,
            record.message,
            tuple(FieldProblem(problem.field, problem.message) for problem in record.errors),
        )


UNEXPECTED = Rejection(
    500,
    "internal_error",
    "port-bridge failed unexpectedly while checking this run (its logs say why); "
    "nothing was requested from Kratix",
)
MAX_LISTED_PROBLEMS = 20


def malformed_json(error: Exception) -> Answer:
    """A body that is not JSON at all: nothing can be recorded, Port did not send it."""
    return Answer(400, {"error": "malformed_json", "message": str(error)}, "malformed")


def summary(what: str, problems: list[FieldProblem]) -> str:
    return f"{what}: " + "; ".join(f"{problem.field} {problem.message}" for problem in problems)


def problems_rejection(status: int, reason: str, what: str, problems: list[FieldProblem]) -> Rejection:
    """A refusal listing at most :data:`MAX_LISTED_PROBLEMS`, so it fits in an ActionRun and a log."""
    listed = problems[:MAX_LISTED_PROBLEMS]
    message = summary(what, listed)
    if len(problems) > len(listed):
        message += f" (and {len(problems) - len(listed)} more)"
    return Rejection(status, reason, message, tuple(listed))


def promise_refusal(name: str, error: ApiException) -> Rejection:
    """The Kubernetes API refused to show port-bridge the Promise: a problem of the platform's setup."""
    cause = kube_message(error)
    if error.status == 401:
        message = (
            f"the Kubernetes API did not accept port-bridge's credentials when reading Promise {name!r} "
            f"({cause}); the platform team needs to check its ServiceAccount token or kubeconfig"
        )
        return Rejection(503, "kubernetes_unauthorized", message)
    if error.status == 403:
        message = (
            f"port-bridge may not read Promise {name!r} ({cause}): its ServiceAccount needs get on "
            "promises.platform.kratix.io; the platform team needs to fix port-bridge's RBAC"
        )
        return Rejection(503, "promise_forbidden", message)
    message = f"port-bridge could not read Promise {name!r} ({cause}); the platform team needs to look"
    return Rejection(503, "promise_unreadable", message)


def kube_message(error: Exception) -> str:
    if isinstance(error, ApiException):
        return f"the Kubernetes API answered {error.status}: {_api_detail(error)}"
    if is_unavailable(error):
        return f"the Kubernetes API is unreachable: {type(error).__name__}"
    return f"port-bridge failed unexpectedly: {type(error).__name__}"


def _api_detail(error: ApiException) -> str:
    """The API server's own message (a Status object's ``message``), else the HTTP reason."""
    try:
        status = json.loads(error.body or "{}")
    except ValueError:
        status = None
    detail = status.get("message") if isinstance(status, dict) else None
    return detail[:300] if isinstance(detail, str) and detail else str(error.reason)
