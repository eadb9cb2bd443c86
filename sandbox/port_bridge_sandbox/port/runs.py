"""Action runs and the one rule that matters most to a backend: a finished run cannot change.

Port refuses every change to a run that reached ``SUCCESS`` or ``FAILURE`` (a PATCH, a log, an
entity write tied to it) with 422 ``run_exhausted``. The emulator keeps each run's full history
(every status change, every PATCH body, every log, every refusal) so tests can check what a client
did, e.g. that it sent exactly one terminal status and nothing after it.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from port_bridge_sandbox.port.clock import now_iso
from port_bridge_sandbox.port.errors import PortError

TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE"})
_ALPHANUMERIC = string.ascii_letters + string.digits
_PATCHABLE = {
    "status": "status",
    "statusLabel": "status_label",
    "link": "link",
    "summary": "summary",
    "externalRunId": "external_run_id",
    "message": "message",
}


def new_run_id() -> str:
    """A Port-style run id: ``r_`` and 16 case-sensitive alphanumerics."""
    return "r_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(16))


@dataclass(frozen=True)
class StatusChange:
    """A change of a run's status or status label, and what caused it (create, PATCH or log)."""

    status: str
    label: str | None
    at: str
    via: str


@dataclass(frozen=True)
class RunLog:
    id: str
    run_id: str
    message: str
    created_by: str
    created_at: str
    termination_status: str | None = None
    status_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "runId": self.run_id,
            "message": self.message,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
        }


@dataclass(frozen=True)
class Refusal:
    """A change to the run that Port refused, with Port's error code (e.g. ``run_exhausted``)."""

    request: str
    reason: str
    at: str


@dataclass(frozen=True)
class AffectedEntity:
    blueprint: str
    identifier: str
    change: str


@dataclass
class Run:
    """One action run as the emulator stores it; :meth:`to_json` gives Port's run object."""

    id: str
    action: str
    blueprint: str | None
    entity: str | None
    properties: dict[str, Any]
    operation: str
    source: str
    created_by: str
    created_at: str = field(default_factory=now_iso)
    action_title: str | None = None
    status: str = "IN_PROGRESS"
    status_label: str | None = None
    link: str | list[str] | None = None
    summary: str | None = None
    external_run_id: str | None = None
    message: dict[str, Any] | None = None
    updated_at: str | None = None
    ended_at: str | None = None
    payload: dict[str, Any] | None = None
    response: Any = None
    history: list[StatusChange] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    logs: list[RunLog] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    affected_entities: list[AffectedEntity] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(StatusChange(self.status, None, self.created_at, "created"))

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def terminal_reports(self) -> list[StatusChange]:
        """The status changes that finished the run: a well-behaved client causes exactly one."""
        return [change for change in self.history if change.status in TERMINAL_STATUSES]

    def ensure_open(self, request: str) -> None:
        """Refuse (and remember) ``request`` if the run has finished, as Port does."""
        if self.finished:
            message = f"run {self.id} already finished with status {self.status} and cannot be modified"
            self._refuse(request, PortError(422, "run_exhausted", message))

    def ensure_reportable(self, request: str) -> None:
        """Refuse a result reported for a synchronized run: Port takes it from the webhook's answer.

        Runs routed through the execution agent are the exception: the agent itself reports the
        result of a synchronized run with a PATCH, so Port must take one for those.
        """
        self.ensure_open(request)
        if self.payload is not None and self.payload.get("synchronized") and not self.payload.get("agent"):
            message = (
                f"run {self.id} belongs to a synchronized action; its result comes from the webhook's answer"
            )
            self._refuse(request, PortError(422, "run_synchronized_error", message))

    def _refuse(self, request: str, error: PortError) -> None:
        self.refusals.append(Refusal(request, error.code, now_iso()))
        raise error

    def apply_patch(self, body: dict[str, Any], *, via: str = "PATCH") -> None:
        """Overwrite the keys ``body`` sends; a status or label change is added to the history."""
        before = (self.status, self.status_label)
        if via == "PATCH":
            self.patches.append(dict(body))
        for key, attribute in _PATCHABLE.items():
            if key in body:
                setattr(self, attribute, body[key])
        self._touch(before, via)

    def add_log(self, body: dict[str, Any], *, log_id: str, created_by: str) -> RunLog:
        before = (self.status, self.status_label)
        log = RunLog(
            id=log_id,
            run_id=self.id,
            message=body["message"],
            created_by=created_by,
            created_at=now_iso(),
            termination_status=body.get("terminationStatus"),
            status_label=body.get("statusLabel"),
        )
        self.logs.append(log)
        if log.termination_status is not None:
            self.status = log.termination_status
        if log.status_label is not None:
            self.status_label = log.status_label
        self._touch(before, "log")
        return log

    def _touch(self, before: tuple[str, str | None], via: str) -> None:
        self.updated_at = now_iso()
        if (self.status, self.status_label) != before:
            self.history.append(StatusChange(self.status, self.status_label, self.updated_at, via))
        if self.finished and self.ended_at is None:
            self.ended_at = self.updated_at

    def to_json(self) -> dict[str, Any]:
        run: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "statusLabel": self.status_label,
            "action": _reference(self.action, self.action_title),
            "properties": self.properties,
            "rawProperties": self.properties,
            "source": self.source,
            "requiredApproval": False,
            "approval": None,
            "payload": self.payload,
            "createdBy": self.created_by,
            "updatedBy": self.created_by,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at or self.created_at,
        }
        optional = {
            "blueprint": _reference(self.blueprint) if self.blueprint else None,
            "entity": _reference(self.entity) if self.entity else None,
            "link": self.link,
            "summary": self.summary,
            "externalRunId": self.external_run_id,
            "response": self.response,
            "endedAt": self.ended_at,
        }
        run.update({key: value for key, value in optional.items() if value is not None})
        return run


def _reference(identifier: str, title: str | None = None) -> dict[str, Any]:
    return {"identifier": identifier, "title": title, "icon": None, "deleted": False}
