"""Reporting a run to Port from its ActionRun: the journal is an outbox, delivered in order.

What the controller decides is written to the ActionRun first; this module only delivers what is
written, and says how far it got, so the caller records that progress. Delivery is at least once
(a crash between sending and recording repeats one line) and in order: an announcement (the
run's ``externalRunId`` and its link), the journal's lines not yet delivered (each carrying the
statusLabel it brings; the first says the run was received and what was asked of Kratix), then,
at the end, the one terminal status.

Port's refusals are read by what Port says about the run, not by an error code (Port does not
document the one for "run already ended"): when Port refuses a write to a run, the run is read
back. If Port shows it finished (or has no such run), it was closed elsewhere and nothing more is
sent. If it is still open, the write itself was at fault: a refused line is skipped with a
warning in the bridge's log, and a refused terminal status is tried once more with the bare
minimum, so the run still gets its one terminal status if Port will take one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from port_bridge.actionrun.model import ActionRun, ActionRunStatus, Outcome, Reported
from port_bridge.controller import messages
from port_bridge.controller.errors import PermanentError
from port_bridge.port.client import PortClient
from port_bridge.port.errors import NotFound, PortApiError, PortUnavailable, RunAlreadyFinished

log = logging.getLogger(__name__)
OPEN_STATUSES = frozenset({"IN_PROGRESS", "WAITING_FOR_APPROVAL"})
LINK_FIELDS = ("run_id", "namespace", "name", "kind", "plural", "action_run")


@dataclass(frozen=True)
class Delivery:
    """How far a delivery got: progress to record, and why it stopped early (if it did)."""

    reported: Reported
    unavailable: PortUnavailable | None = None  # Port went away: record the progress, retry later
    closed: str | None = None  # Port will take nothing more for this run: why


class Outbox:
    def __init__(
        self, port: PortClient, *, link_template: str | None, before_write: Callable[[], None]
    ) -> None:
        self._port, self._link_template, self._before_write = port, link_template, before_write

    def deliver(self, run: ActionRun, status: ActionRunStatus) -> Delivery:
        """Announce the run (once) and send the journal lines Port has not had yet."""
        reported = status.reported
        try:
            if not reported.started:
                self._announce(run)
                reported = reported.model_copy(update={"started": True})
            label = reported.label
            for entry in status.journal[reported.logged :]:
                new_label = entry.label if entry.label and entry.label != label else None
                self._write(
                    run, self._port.add_run_log, run.spec.run_id, entry.message, status_label=new_label
                )
                label = new_label or label
                reported = reported.model_copy(update={"logged": reported.logged + 1, "label": label})
        except PortUnavailable as unavailable:
            return Delivery(reported, unavailable=unavailable)
        except _Closed as closed:
            return Delivery(reported, closed=closed.why)
        return Delivery(reported)

    def close(self, run: ActionRun, outcome: Outcome, reported: Reported) -> Delivery:
        """Send the terminal status; ``closed`` says why if it went elsewhere or Port would not take it."""
        run_id = run.spec.run_id
        try:
            self._before_write()
            try:
                self._port.patch_run(
                    run_id, status=outcome.result, summary=outcome.summary, status_label=outcome.label
                )
            except PortApiError as refused:
                why = self._closed_elsewhere(run_id, refused)
                if why is not None:
                    return Delivery(reported, closed=why)
                log.warning(
                    "Port refused the terminal status (%s); sending it bare", refused.code, extra=_about(run)
                )
                self._before_write()
                self._port.patch_run(
                    run_id, status=outcome.result, summary=messages.bounded(outcome.summary)[:200]
                )
        except PortUnavailable as unavailable:
            return Delivery(reported, unavailable=unavailable)
        except PortApiError as refused:
            return Delivery(reported, closed=f"Port refused the terminal status: {refused}")
        return Delivery(reported.model_copy(update={"terminal": True}))

    def warn(self, run: ActionRun, message: str) -> None:
        """A warning line on the run, best effort: the run's result does not depend on it."""
        try:
            self._before_write()
            self._port.add_run_log(run.spec.run_id, messages.bounded(message))
        except PortApiError as refused:
            log.warning("Port refused a warning line: %s", refused.code, extra=_about(run))

    def link(self, run: ActionRun) -> str | None:
        """The run's link (``PORT_BRIDGE_LINK_TEMPLATE``); a template that cannot be filled is permanent."""
        request = run.spec.main
        if not self._link_template or request is None:
            return None
        fields = dict(
            zip(
                LINK_FIELDS,
                (run.spec.run_id, request.namespace, request.name, request.kind, request.plural, run.name),
                strict=True,
            )
        )
        try:
            return self._link_template.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            raise PermanentError(
                f"PORT_BRIDGE_LINK_TEMPLATE cannot be filled ({type(error).__name__}: {error}); "
                f"its fields are {', '.join(LINK_FIELDS)}",
                label="Misconfigured",
            ) from None

    def _announce(self, run: ActionRun) -> None:
        """The run's ``externalRunId`` and links; a run rejected before a request was rendered has
        only the links it came with (its journal says why it was rejected)."""
        request = run.spec.main
        links = [link for link in (self.link(run), *run.spec.links) if link]
        if request is None and not links:
            return
        self._write(
            run,
            self._port.patch_run,
            run.spec.run_id,
            external_run_id=request.external_id if request is not None else None,
            link=(links[0] if len(links) == 1 else links) or None,
        )

    def _write(self, run: ActionRun, send: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """One write to the run; a refusal ends the delivery if the run is closed, else skips the write."""
        self._before_write()
        try:
            send(*args, **kwargs)
        except PortApiError as refused:
            why = self._closed_elsewhere(run.spec.run_id, refused)
            if why is not None:
                raise _Closed(why) from None
            log.warning(
                "Port refused a write to an open run (%s %s); skipped",
                refused.status,
                refused.code,
                extra=_about(run),
            )

    def _closed_elsewhere(self, run_id: str, refused: PortApiError) -> str | None:
        """Why Port will take nothing more for the run, or ``None`` if it is still open."""
        if isinstance(refused, RunAlreadyFinished | NotFound):
            return str(refused)
        try:
            current = self._port.get_run(run_id)
        except PortApiError as unreadable:
            return (
                f"Port refused a write ({refused.status} {refused.code}) and to show the run ({unreadable})"
            )
        status = current.get("status")
        if status in OPEN_STATUSES:
            return None
        refusal = f"{refused.status} {refused.code}"
        return f"Port shows the run {status or 'closed'} already and refused a write ({refusal})"


class _Closed(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _about(run: ActionRun) -> dict[str, str]:
    return {"run_id": run.spec.run_id, "action": run.spec.action}
