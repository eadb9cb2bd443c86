"""One ActionRun, one step nearer its end: apply, follow Kratix, decide, report, collect.

Level-triggered: each call reads the ActionRun as it is now, asks :func:`~.steps.next_step` what
comes next and carries that out, so a controller killed at any moment resumes where it stopped.
The parts: :mod:`.steps` (what next), :mod:`.requests` (the Kratix request), :mod:`.reporting`
with :mod:`.outbox` and :mod:`.entity` (Port), :mod:`.records` (writing status), :mod:`.messages`.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from port_bridge.actionrun.model import (
    FAILURE,
    ActionRun,
    ActionRunStatus,
    KratixSeen,
    MalformedActionRun,
    Outcome,
)
from port_bridge.controller import messages
from port_bridge.controller.entity import RunEntity
from port_bridge.controller.errors import ErrorKind, PermanentError, kind_of
from port_bridge.controller.observability import ControllerMetrics
from port_bridge.controller.outbox import Outbox
from port_bridge.controller.records import RunRecords
from port_bridge.controller.reporting import Reporter, bare
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
)
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.objects import KubeObjects, Object, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.pipelinelogs import PipelineLogs
from port_bridge.port.client import PortClient
from port_bridge.scorecards.model import Scorecard

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
        scorecards: Mapping[str, Sequence[Scorecard]] | None = None,
        run_lookup: Callable[[str], Object | None],
        request_lookup: RequestLookup,
        remember: Callable[[Object], object] = lambda _run: None,
        remember_request: Callable[[Resource, Object], None] = lambda _resource, _request: None,
        metrics: ControllerMetrics | None = None,
        options: Options,
        clock: Callable[[], float] = time.time,
        fence: Callable[[], None] = lambda: None,
        recording_threads: int = 4,
        pipeline_logs: PipelineLogs | None = None,
    ) -> None:
        self._actions, self._run_lookup, self._pipeline_logs = actions, run_lookup, pipeline_logs
        self._options, self._clock, self._fence = options, clock, fence
        self._records = RunRecords(objects, remember=remember, before_write=fence)
        self._requests = KratixRequests(
            objects=objects, promises=promises, lookup=request_lookup, remember=remember_request
        )
        self._outbox = Outbox(port, link_template=options.link_template, before_write=fence)
        entity = RunEntity(
            port=port,
            actions=actions,
            scorecards=scorecards or {},
            current_requests=self._current_requests,
            warn=self._outbox.warn,
            before_write=fence,
        )
        self._reporter = Reporter(
            port=port,
            records=self._records,
            outbox=self._outbox,
            entity=entity,
            retention_seconds=options.retention_seconds,
            metrics=metrics,
            clock=clock,
            fence=fence,
            recording_threads=recording_threads,
        )

    def reconcile(self, name: str) -> float | None:
        """Advance the ActionRun ``name``; returns when to look again (seconds), or ``None``."""
        return self._with_run(name, self._advance)

    def give_up(self, name: str, error: BaseException) -> float | None:
        """End a run whose reconciliation keeps failing unexpectedly, one degradation at a time:
        decide FAILURE; if reporting is what fails, send only the terminal status; if even that
        fails, stop trying and say so in the ActionRun and the log."""
        return self._with_run(name, lambda run: self._give_up(run, error))

    def close(self) -> None:
        """Wait for outcome writes still under way (the controller is stopping)."""
        self._reporter.close()

    def _with_run(self, name: str, then: Callable[[ActionRun], float | None]) -> float | None:
        obj = self._run_lookup(name)
        if obj is None:
            return None
        try:
            run = ActionRun.from_object(obj)
        except MalformedActionRun as malformed:
            return self._reporter.malformed(obj, str(malformed))
        return then(run)

    def _give_up(self, run: ActionRun, error: BaseException) -> float | None:
        status, message = run.status, messages.unexpected(error)
        if status.reported.terminal:
            return None
        if status.outcome is None:
            return self._decide(run, status, Decide(FAILURE, message, "Failed", (messages.line(message),)))
        if not status.outcome.bare:
            return self._reporter.report(self._records.write(run, bare(status)))
        log.error("giving up reporting the run: %s", message, extra=_about(run))
        return self._reporter.finish(
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
                    return self._reporter.collect(run, step.wait)
                if isinstance(step, Report):
                    return self._reporter.report(run)
                if isinstance(step, Apply):
                    self._outbox.link(run)  # a link that cannot be built fails the run before Kratix is asked
                    status, refused = self._apply(run, status)
                    if refused is None:
                        continue
                    raise refused
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

    def _apply(
        self, run: ActionRun, status: ActionRunStatus
    ) -> tuple[ActionRunStatus, PermanentError | None]:
        """Apply every request not applied yet, in order; what was done, and why the rest cannot be."""
        for request in run.spec.requests:
            progress = status.progress(request.id)
            if progress.submitted_generation is not None:
                continue
            try:
                applied = self._requests.apply(run, request, before_write=self._fence)
            except PermanentError as refused:
                done = [other.where for other in run.spec.requests if status.progress(other.id).applied_at]
                if not done:
                    return status, refused
                verb = "was" if len(done) == 1 else "were"
                left = f"; {', '.join(done)} {verb} requested and left in place"
                return status, PermanentError(refused.message + left, label=refused.label)
            progress = progress.model_copy(
                update={
                    "submitted_generation": applied.generation,
                    "request_uid": applied.uid,
                    "applied_at": rfc3339(self._clock()),
                }
            )
            status = status.model_copy(
                update={
                    "phase": "InProgress",
                    "request": ", ".join(request.external_id for request in run.spec.requests),
                    "requests": {**status.requests, request.id: progress},
                    "journal": (*status.journal, messages.line(applied.line)),
                }
            )
        return status, None

    def _follow(self, run: ActionRun, status: ActionRunStatus, step: Follow) -> float | None:
        """Record what Kratix does and report it; Kratix work never waits for Port."""
        status = _seeing(status, step.kratix).model_copy(update={"journal": (*status.journal, *step.lines)})
        if self._pipeline_logs is not None:  # the pipelines' lines read since the last look
            status = self._pipeline_logs.take(run, status)
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
            return self._reporter.finish(run, status, delivery.reported, closed=delivery.closed)
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
        if self._pipeline_logs is not None:  # the pipelines' last lines, before the outcome's
            status = self._pipeline_logs.flush(run, status)
        status = _seeing(status, step.kratix).model_copy(
            update={"phase": "Reporting", "journal": (*status.journal, *step.lines), "outcome": outcome}
        )
        recording = self._reporter.record_outcome(run, status)
        return self._reporter.report(run.with_status(status), recording=recording)

    # -- Helpers -------------------------------------------------------------------------------

    def _current_requests(self, run: ActionRun) -> dict[str, Object | None]:
        """Each request as it is now, by id (``None`` when gone)."""
        return {
            request.id: self._requests.current(request, run.status.progress(request.id).request_uid)
            for request in run.spec.requests
        }


def _seeing(status: ActionRunStatus, seen: Mapping[str, KratixSeen]) -> ActionRunStatus:
    """``status`` with the Kratix states newly seen for its requests."""
    if not seen:
        return status
    requests = dict(status.requests)
    for request_id, kratix in seen.items():
        requests[request_id] = status.progress(request_id).model_copy(update={"kratix": kratix})
    return status.model_copy(update={"requests": requests})


def _permanent(error: Exception, run: ActionRun) -> PermanentError | None:
    """``error`` as the permanent failure that ends the run, or ``None`` if it is of another kind."""
    if isinstance(error, PermanentError):
        return error
    if kind_of(error) is not ErrorKind.PERMANENT:
        return None
    return PermanentError(str(error))


def _about(run: ActionRun) -> dict[str, Any]:
    return {"run_id": run.spec.run_id, "action": run.spec.action}
