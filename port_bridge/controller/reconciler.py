"""One ActionRun, one step nearer its end: apply, follow Kratix, decide, report, collect.

Level-triggered: each call reads the ActionRun as it is now, asks :func:`~.steps.next_step` what
comes next and carries that out, so a controller killed at any moment resumes where it stopped.
The parts: :mod:`.requests` (the Kratix request), :mod:`.outbox` (reporting to Port),
:mod:`.entity` (the catalog entity), :mod:`.records` (writing status), :mod:`.messages` (texts).

The order that makes a crash harmless: Kratix's state and the journal lines it brings are
recorded with what Port has had; an **outcome is written to the ActionRun before the terminal
status goes out** (its journal lines and the entity go to Port meanwhile), so a successor reports
the same outcome and never decides again; the entity goes to Port before the one terminal status;
then the run is marked finished and collected after its retention.

Errors (:mod:`.errors`): a permanent one before the outcome becomes the outcome (FAILURE naming
it); a permanent one while reporting leaves only the terminal status to send ("bare"); temporary
ones are recorded as far as they got and raised for the work queue to back off; and
:meth:`Reconciler.give_up` ends a run whose reconciliation keeps failing unexpectedly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiException

from port_bridge.actionrun.model import (
    FAILURE,
    SUCCESS,
    ActionRun,
    ActionRunStatus,
    MalformedActionRun,
    Outcome,
    Reported,
    run_id_of,
)
from port_bridge.controller import messages
from port_bridge.controller.entity import RunEntity
from port_bridge.controller.errors import ErrorKind, PermanentError, kind_of
from port_bridge.controller.observability import ControllerMetrics
from port_bridge.controller.outbox import Outbox
from port_bridge.controller.records import RunRecords
from port_bridge.controller.requests import KratixRequests, RequestLookup
from port_bridge.controller.steps import (
    Apply,
    Collect,
    Decide,
    Follow,
    Observe,
    Report,
    next_step,
    rfc3339,
    seconds_since,
)
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.objects import KubeObjects, Object, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    namespace: str
    link_template: str | None = None  # e.g. "https://bridge.example.com/runs/{run_id}"
    retention_seconds: float = 7 * 24 * 3600.0


class Reconciler:
    def __init__(
        self,
        *,
        objects: KubeObjects,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        promises: PromiseCatalog,
        run_lookup: Callable[[str], Object | None],
        request_lookup: RequestLookup,
        remember: Callable[[Object], object] = lambda _run: None,
        remember_request: Callable[[Resource, Object], None] = lambda _resource, _request: None,
        metrics: ControllerMetrics | None = None,
        options: Options,
        clock: Callable[[], float] = time.time,
        fence: Callable[[], None] = lambda: None,
        recording_threads: int = 4,
    ) -> None:
        self._actions, self._run_lookup, self._metrics = actions, run_lookup, metrics
        self._options, self._clock, self._fence, self._port = options, clock, fence, port
        self._records = RunRecords(objects, remember=remember, before_write=fence)
        # Outcomes are written while the journal goes to Port, off the path a developer waits on.
        self._recorder = ThreadPoolExecutor(max_workers=recording_threads, thread_name_prefix="record")
        self._requests = KratixRequests(
            objects=objects, promises=promises, lookup=request_lookup, remember=remember_request
        )
        self._outbox = Outbox(port, link_template=options.link_template, before_write=fence)
        self._entity = RunEntity(
            port=port,
            actions=actions,
            current_request=self._current_request,
            warn=self._outbox.warn,
            before_write=fence,
        )

    def reconcile(self, name: str) -> float | None:
        """Advance the ActionRun ``name``; returns when to look again (seconds), or ``None``."""
        obj = self._run_lookup(name)
        if obj is None:
            return None
        try:
            run = ActionRun.from_object(obj)
        except MalformedActionRun as malformed:
            return self._malformed(obj, str(malformed))
        return self._advance(run)

    def give_up(self, name: str, error: BaseException) -> float | None:
        """End a run whose reconciliation keeps failing unexpectedly, one degradation at a time:
        decide FAILURE; if reporting is what fails, send only the terminal status; if even that
        fails, stop trying and say so in the ActionRun and the log."""
        obj = self._run_lookup(name)
        if obj is None:
            return None
        try:
            run = ActionRun.from_object(obj)
        except MalformedActionRun as malformed:
            return self._malformed(obj, str(malformed))
        status, message = run.status, messages.unexpected(error)
        if status.reported.terminal:
            return None
        if status.outcome is None:
            return self._decide(run, status, Decide(FAILURE, message, "Failed", (messages.line(message),)))
        if not status.outcome.bare:
            return self._report(self._records.write(run, _bare(status)))
        log.error("giving up reporting the run: %s", message, extra=_about(run))
        return self._finish(
            run, status, status.reported, closed=f"port-bridge could not report it: {message}"
        )

    # -- Steps ---------------------------------------------------------------------------------

    def _advance(self, run: ActionRun) -> float | None:
        status = run.status
        observed = None
        while True:
            try:
                step = next_step(
                    run.with_status(status),
                    configured=run.spec.action in self._actions,
                    observed=observed,
                    now=self._clock(),
                    retention_seconds=self._options.retention_seconds,
                )
                if isinstance(step, Collect):
                    return self._collect(run, step.wait)
                if isinstance(step, Report):
                    return self._report(run)
                if isinstance(step, Apply):
                    self._outbox.link(run)  # a link that cannot be built fails the run before Kratix is asked
                    status = self._apply(run, status)
                    continue
                if isinstance(step, Observe):
                    observed = self._requests.observe(run.spec, status)
                    continue
            except Exception as error:
                failure = _permanent(error, run)
                if failure is None:
                    raise
                step = Decide(FAILURE, failure.message, failure.label, (messages.line(failure.message),))
            if isinstance(step, Decide):
                return self._decide(run, status, step)
            return self._follow(run, status, step)

    def _apply(self, run: ActionRun, status: ActionRunStatus) -> ActionRunStatus:
        applied = self._requests.apply(run, before_write=self._fence)
        request = run.spec.request
        return status.model_copy(
            update={
                "phase": "InProgress",
                "request": request.external_id if request else None,
                "submitted_generation": applied.generation,
                "request_uid": applied.uid,
                "applied_at": rfc3339(self._clock()),
                "journal": (*status.journal, messages.line(applied.line)),
            }
        )

    def _follow(self, run: ActionRun, status: ActionRunStatus, step: Follow) -> float | None:
        """Record what Kratix does and report it; Kratix work never waits for Port."""
        status = status.model_copy(
            update={"kratix": step.kratix or status.kratix, "journal": (*status.journal, *step.lines)}
        )
        try:
            delivery = self._outbox.deliver(run, status)
        except PermanentError as failure:
            return self._decide(
                run,
                status,
                Decide(FAILURE, failure.message, failure.label, (messages.line(failure.message),)),
            )
        status = status.model_copy(update={"reported": delivery.reported})
        if delivery.closed is not None:
            return self._finish(run, status, delivery.reported, closed=delivery.closed)
        self._records.write(run, status)
        if delivery.unavailable is not None:
            raise delivery.unavailable
        return step.recheck_in

    def _decide(self, run: ActionRun, status: ActionRunStatus, step: Decide) -> float | None:
        """Settle the outcome, write it (before anything of it is reported), then report it."""
        outcome = Outcome(
            result=step.result,
            summary=messages.bounded(step.summary),
            label=step.label,
            decided_at=rfc3339(self._clock()),
        )
        status = status.model_copy(
            update={
                "phase": "Reporting",
                "kratix": step.kratix or status.kratix,
                "journal": (*status.journal, *step.lines),
                "outcome": outcome,
            }
        )
        recording = self._recorder.submit(self._records.write, run, status)
        return self._report(run.with_status(status), recording=recording)

    def _report(self, run: ActionRun, *, recording: Future[ActionRun] | None = None) -> float | None:
        """Deliver the journal, then the catalog entity, then the one terminal status.

        ``recording`` is the write of the outcome, still under way: the journal and the entity do
        not wait for it, the terminal status does (the outcome is recorded before it is reported).
        """

        def recorded() -> ActionRun:
            return recording.result() if recording is not None else run

        status = run.status
        outcome, reported = status.outcome, status.reported
        assert outcome is not None
        if not outcome.bare:
            try:
                delivery = self._outbox.deliver(run, status)
            except PermanentError as failure:
                log.warning("reporting the run failed (%s); sending only its end", failure, extra=_about(run))
                return self._report(self._records.write(recorded(), _bare(status)))
            reported = delivery.reported
            if delivery.closed is not None:
                return self._finish(recorded(), status, reported, closed=delivery.closed)
            if delivery.unavailable is not None:
                self._records.write(recorded(), status.model_copy(update={"reported": reported}))
                raise delivery.unavailable
            if outcome.result == SUCCESS and reported.entity is None:
                try:
                    identifier = self._entity.write(run)
                except Exception as error:
                    self._records.write(recorded(), status.model_copy(update={"reported": reported}))
                    if kind_of(error) is ErrorKind.PERMANENT:
                        return self._report(self._records.write(recorded(), _bare(status)))
                    raise
                reported = reported.model_copy(update={"entity": identifier})
        run = recorded()
        delivery = self._outbox.close(run, outcome, reported)
        if delivery.unavailable is not None:
            self._records.write(run, status.model_copy(update={"reported": delivery.reported}))
            raise delivery.unavailable
        return self._finish(run, status, delivery.reported, closed=delivery.closed)

    def close(self) -> None:
        """Wait for outcome writes still under way (the controller is stopping)."""
        self._recorder.shutdown(wait=True)

    def _finish(
        self, run: ActionRun, status: ActionRunStatus, reported: Reported, *, closed: str | None = None
    ) -> float | None:
        """Mark the run finished (collected after the retention period)."""
        outcome = status.outcome
        if closed is None and outcome is not None:
            phase, message = ("Succeeded" if outcome.result == SUCCESS else "Failed"), outcome.summary
        else:
            phase, message = "Closed", messages.closed_elsewhere(closed or "unknown")
            log.warning("run closed elsewhere: %s", closed, extra=_about(run))
        result = outcome.result if outcome is not None and closed is None else "CLOSED_ELSEWHERE"
        self._count_finished(run, result)
        log.info("run finished: %s (%s)", result, message, extra=_about(run))
        finished = status.model_copy(
            update={
                "phase": phase,
                "message": message,
                "finished_at": rfc3339(self._clock()),
                "reported": reported.model_copy(update={"terminal": True, "note": closed}),
            }
        )
        return self._collect(self._records.write(run, finished), self._options.retention_seconds)

    def _collect(self, run: ActionRun, wait: float) -> float | None:
        if wait > 0:
            return wait
        self._records.delete(run.name, run.namespace, run.uid)
        return None

    def _malformed(self, obj: Object, problem: str) -> float | None:
        """An ActionRun that does not parse: close its Port run (if it names one) and record that."""
        metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
        name, namespace = metadata.get("name", ""), metadata.get("namespace", "")
        reported = status.get("reported")
        if isinstance(reported, dict) and reported.get("terminal"):
            wait = self._options.retention_seconds - seconds_since(status.get("finishedAt"), self._clock())
            if wait > 0:
                return wait
            self._records.delete(name, namespace, metadata.get("uid"))
            return None
        message = f"port-bridge cannot follow this run: its ActionRun is malformed ({problem})"
        log.error(message, extra={"run_id": run_id_of(obj), "actionrun": name})
        run_id, note = run_id_of(obj), None
        if run_id is not None:
            self._fence()
            try:
                self._port.patch_run(
                    run_id, status=FAILURE, summary=messages.bounded(message), status_label="Malformed"
                )
            except PortApiError as refused:
                note = str(refused)
        self._records.write_raw(
            name,
            namespace,
            metadata.get("resourceVersion"),
            {
                "phase": "Failed",
                "message": messages.bounded(message),
                "finishedAt": rfc3339(self._clock()),
                "reported": {"terminal": True, **({"note": note} if note else {})},
            },
        )
        return self._options.retention_seconds

    # -- Helpers -------------------------------------------------------------------------------

    def _current_request(self, run: ActionRun) -> Object | None:
        request = run.spec.request
        return self._requests.current(request, run.status.request_uid) if request is not None else None

    def _count_finished(self, run: ActionRun, result: str) -> None:
        if self._metrics is None:
            return
        self._metrics.runs_finished.labels(action=run.spec.action, result=result).inc()
        self._metrics.run_duration.labels(action=run.spec.action).observe(
            seconds_since(run.spec.received_at, self._clock())
        )


def _bare(status: ActionRunStatus) -> ActionRunStatus:
    assert status.outcome is not None
    return status.model_copy(update={"outcome": status.outcome.model_copy(update={"bare": True})})


def _permanent(error: Exception, run: ActionRun) -> PermanentError | None:
    """``error`` as the permanent failure that ends the run, or ``None`` if it is of another kind."""
    if isinstance(error, PermanentError):
        return error
    if kind_of(error) is not ErrorKind.PERMANENT:
        return None
    if isinstance(error, ApiException) and run.spec.request is not None:
        return PermanentError(messages.kubernetes_refused(error, run.spec.request, "read"), label="Failed")
    return PermanentError(str(error))


def _about(run: ActionRun) -> dict[str, Any]:
    return {"run_id": run.spec.run_id, "action": run.spec.action}
