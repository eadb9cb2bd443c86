"""The two bodies Port can send, read into one shape the mappings see.

* **v2** is what this project's action files put in ``invocationMethod.body`` (README, "The
  webhook body"): ``runId``, ``action``, ``operation``, ``blueprint``, ``inputs``, ``entity`` and
  ``trigger``.
* **legacy** is the older fixed envelope (research/port.md §1.4): ``action``, ``context.runId``,
  ``payload.properties``, ``payload.entity``, ``trigger``, still produced by agent mappings and
  older templates.

Mappings never see the difference: both become a :class:`RunContext`, whose :meth:`document` is
what jq expressions run on.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from port_bridge.mapping.document import run_document

OPERATIONS = ("CREATE", "DAY-2", "DELETE")
MAX_ID_LENGTH = 128
_PLAIN_ID = re.compile(f"[!-~]{{1,{MAX_ID_LENGTH}}}")  # printable ASCII, no spaces


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()  # keyword arguments only from Python 3.12
    short.maxlevel, short.maxdict, short.maxlist = 2, 3, 3
    short.maxstring = short.maxother = short.maxlong = 40
    return short


_SHOWN = _short_repr()


class PayloadRejected(ValueError):
    """The body is not a run Port could have sent; ``run_id`` is set when it could be read."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class RunContext:
    run_id: str
    action: str
    operation: str | None
    blueprint: str | None
    inputs: dict[str, Any]
    entity: dict[str, Any] | None
    trigger: dict[str, Any]
    format: Literal["v2", "legacy"]

    def document(self) -> dict[str, Any]:
        """What mapping expressions see (see the README for its shape)."""
        return run_document(
            run_id=self.run_id,
            action=self.action,
            blueprint=self.blueprint,
            operation=self.operation,
            inputs=self.inputs,
            entity=self.entity,
            trigger=self.trigger,
        )


def find_run_id(body: Any) -> str | None:
    """The run id, if the body has one in either format (used to close a run even when rejected)."""
    if not isinstance(body, Mapping):
        return None
    candidate = body.get("runId")
    if candidate is None and isinstance(body.get("context"), Mapping):
        candidate = body["context"].get("runId")
    return candidate if isinstance(candidate, str) and candidate.strip() else None


def is_plain_id(value: Any) -> bool:
    """Whether ``value`` can be a Port identifier (a run id like ``r_QOz6WoOB1Q2lmhZZ``, an action)."""
    return isinstance(value, str) and _PLAIN_ID.fullmatch(value) is not None


def run_id_problem(run_id: str) -> str | None:
    """Why ``run_id`` cannot be a Port run id, or ``None``.

    Port's run ids are short ASCII words (``r_QOz6WoOB1Q2lmhZZ``, ``wfnr_...`` for workflow
    nodes); the id names the ActionRun and goes into Port's URLs, so anything else is refused.
    """
    if is_plain_id(run_id):
        return None
    return (
        f"the run id must be 1 to {MAX_ID_LENGTH} printable ASCII characters without spaces, "
        f"as Port's are (r_QOz6WoOB1Q2lmhZZ); got {shown(run_id)}"
    )


def shown(value: Any) -> str:
    """``value`` for a message: a short repr, non-printable characters escaped."""
    return _SHOWN.repr(value)


def parse_run(body: Any) -> RunContext:
    """Read a webhook body of either format; raise :class:`PayloadRejected` with a clear reason."""
    run_id = find_run_id(body)
    if run_id is None:
        raise PayloadRejected("the body carries no run id (runId, or context.runId in the legacy format)")
    assert isinstance(body, Mapping)
    if "runId" in body:
        return _parse_v2(body, run_id)
    return _parse_legacy(body, run_id)


def _parse_v2(body: Mapping[str, Any], run_id: str) -> RunContext:
    return RunContext(
        run_id=run_id,
        action=_text(body.get("action"), "action", run_id),
        operation=_operation(body.get("operation"), run_id),
        blueprint=_optional_text(body.get("blueprint"), "blueprint", run_id),
        inputs=_object(body.get("inputs"), "inputs", run_id),
        entity=_entity(body.get("entity"), run_id),
        trigger=_trigger(body.get("trigger"), run_id),
        format="v2",
    )


def _parse_legacy(body: Mapping[str, Any], run_id: str) -> RunContext:
    context = _object(body.get("context"), "context", run_id)
    payload = _object(body.get("payload"), "payload", run_id)
    action_block = payload.get("action")
    trigger = action_block.get("trigger") if isinstance(action_block, Mapping) else None
    if isinstance(trigger, Mapping):  # newer envelopes embed the action's trigger object
        trigger = trigger.get("operation")
    return RunContext(
        run_id=run_id,
        action=_text(body.get("action"), "action", run_id),
        operation=_operation(trigger, run_id),
        blueprint=_optional_text(context.get("blueprint"), "context.blueprint", run_id),
        inputs=_object(payload.get("properties"), "payload.properties", run_id),
        entity=_entity(payload.get("entity"), run_id),
        trigger=_trigger(body.get("trigger"), run_id),
        format="legacy",
    )


def _text(value: Any, field: str, run_id: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PayloadRejected(f"{field} must be a non-empty string", run_id=run_id)
    return value


def _optional_text(value: Any, field: str, run_id: str) -> str | None:
    return None if value in (None, "") else _text(value, field, run_id)


def _object(value: Any, field: str, run_id: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadRejected(f"{field} must be an object", run_id=run_id)
    return dict(value)


def _entity(value: Any, run_id: str) -> dict[str, Any] | None:
    """The selected entity; Port sends ``{}`` (or nothing) for CREATE."""
    entity = _object(value, "entity", run_id)
    return entity or None


def _operation(value: Any, run_id: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in OPERATIONS:
        raise PayloadRejected(
            f"operation must be one of {', '.join(OPERATIONS)}, not {shown(value)}", run_id=run_id
        )
    return str(value)


def _trigger(value: Any, run_id: str) -> dict[str, Any]:
    """Who triggered the run, keeping only what the bridge records: email, ids, origin, time."""
    trigger = _object(value, "trigger", run_id)
    by: Mapping[str, Any] = trigger["by"] if isinstance(trigger.get("by"), Mapping) else {}
    user: Mapping[str, Any] = by["user"] if isinstance(by.get("user"), Mapping) else {}
    return {
        "by": {
            "email": by.get("email") or user.get("email"),
            "userId": by.get("userId"),
            "orgId": by.get("orgId"),
        },
        "origin": trigger.get("origin"),
        "at": trigger.get("at"),
    }
