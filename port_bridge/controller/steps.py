"""What a run needs next, decided from its ActionRun alone: the controller's state machine.

:func:`next_step` is pure: it reads the typed ActionRun, whether its action is still configured,
what Kratix shows (once observed) and the time, and returns one step. The reconciler carries the
step out (the I/O) and asks again. Keeping the decisions here, apart from the calls, lets a table
test pin every transition the way ``kratix/status.py``'s ``classify`` is pinned:

* a finished run waits for its retention, then is collected;
* a run whose outcome is recorded is reported (the outcome was written first: outbox order);
* a run intake refused, or whose action is gone, is decided FAILURE;
* a run not yet applied is applied to Kratix; then Kratix is observed;
* Kratix finished, or the run's own timeout passed: decided; otherwise the run follows Kratix
  (a changed state becomes a journal line) and is looked at again before its timeout.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from port_bridge.actionrun.model import FAILURE, SUCCESS, ActionRun, JournalLine, KratixSeen, Result
from port_bridge.controller import messages
from port_bridge.kratix.status import KratixState, Phase


@dataclass(frozen=True)
class Collect:
    """Finished: delete the ActionRun once ``wait`` seconds have passed (now if not positive)."""

    wait: float


@dataclass(frozen=True)
class Report:
    """The outcome is recorded: deliver the journal, the entity and the one terminal status."""


@dataclass(frozen=True)
class Apply:
    """Create, change or delete the Kratix request."""


@dataclass(frozen=True)
class Observe:
    """Read where Kratix stands with the request, then ask again."""


Seen = Mapping[str, KratixSeen]
"""Kratix states newly seen, by request id."""


@dataclass(frozen=True)
class Decide:
    """The run's outcome, with the journal lines and Kratix states that come with it."""

    result: Result
    summary: str
    label: str
    lines: tuple[JournalLine, ...] = ()
    kratix: Seen = field(default_factory=dict)


@dataclass(frozen=True)
class Follow:
    """Still going: record (and report) what changed, look again in ``recheck_in`` seconds."""

    recheck_in: float
    lines: tuple[JournalLine, ...] = ()
    kratix: Seen = field(default_factory=dict)


Step = Collect | Report | Apply | Observe | Decide | Follow


def next_step(
    run: ActionRun,
    *,
    configured: bool,
    observed: Mapping[str, KratixState] | None,
    now: float,
    retention_seconds: float,
) -> Step:
    """What comes next; ``observed`` is where Kratix stands with each request (by id), once looked at.

    A run with several requests succeeds when every one has; it fails as soon as one has failed
    (naming it), and at its timeout names where each unfinished one was.
    """
    spec, status = run.spec, run.status
    if status.reported.terminal:
        return Collect(retention_seconds - seconds_since(status.finished_at, now))
    if status.outcome is not None:
        return Report()
    if spec.rejection is not None:
        message = spec.rejection.message or "port-bridge refused the run"
        return Decide(FAILURE, message, "Rejected", (messages.line(messages.refused_by_intake(message)),))
    if not configured:
        message = messages.not_configured(spec.action)
        return Decide(FAILURE, message, "Not configured", (messages.line(message),))
    if not spec.requests:
        message = messages.no_request()
        return Decide(FAILURE, message, "Malformed", (messages.line(message),))
    if any(status.progress(request.id).submitted_generation is None for request in spec.requests):
        return Apply()
    if observed is None:
        return Observe()
    several = len(spec.requests) > 1
    seen: dict[str, KratixSeen] = {}
    lines: list[JournalLine] = []
    for request in spec.requests:
        state, before = observed[request.id], status.progress(request.id).kratix
        if before is None or state.key != before.key:
            seen[request.id] = KratixSeen(
                key=state.key,
                phase=str(state.phase),
                label=state.label,
                detail=state.detail,
                message=state.message,
                at=rfc3339(now),
            )
            lines.append(messages.line(messages.kratix_line(request, state, several=several), state.label))
    failed = [request for request in spec.requests if _failed(observed[request.id])]
    if failed:
        state = observed[failed[0].id]
        return Decide(
            FAILURE,
            messages.failure(failed[0], state, several=several),
            messages.final_label(spec.operation, FAILURE, state),
            tuple(lines),
            seen,
        )
    if all(observed[request.id].terminal for request in spec.requests):
        main = observed[spec.requests[0].id]
        return Decide(
            SUCCESS,
            messages.success(spec, observed),
            messages.final_label(spec.operation, SUCCESS, main),
            tuple(lines),
            seen,
        )
    remaining = spec.timeout_seconds - seconds_since(status.applied_at, now)
    if remaining <= 0:
        unfinished = [
            (request, observed[request.id]) for request in spec.requests if not observed[request.id].terminal
        ]
        summary = messages.timed_out(spec.timeout_seconds, unfinished, several=several)
        return Decide(FAILURE, summary, "Timed out", (*lines, messages.line(f"Timed out: {summary}")), seen)
    return Follow(remaining, tuple(lines), seen)


def _failed(state: KratixState) -> bool:
    return state.terminal and state.phase not in (Phase.SUCCEEDED, Phase.DELETED)


def seconds_since(timestamp: str | None, now: float) -> float:
    """Seconds from an RFC 3339 time to ``now`` (epoch seconds); 0 without a time."""
    if not timestamp:
        return 0.0
    parsed = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return now - parsed.timestamp()


def rfc3339(epoch: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds (run timeouts can be a few seconds)."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
