"""Reporting what was decided: the journal, the entity and the one terminal status; then collecting.

The reconciler decides; this module delivers a recorded outcome to Port in the order that makes a
crash harmless (see :mod:`.reconciler`), marks the run finished, and deletes its ActionRun once the
retention period has passed. A permanent failure while reporting leaves only the terminal status
to send ("bare"); Port being away records how far delivery got and raises, for the work queue to
back off. An ActionRun too malformed to parse is closed in Port here too, from what can be read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from port_bridge.actionrun.model import (
    FAILURE,
    SUCCESS,
    ActionRun,
    ActionRunStatus,
    Reported,
    run_id_of,
)
from port_bridge.controller import messages
from port_bridge.controller.entity import RunEntity
from port_bridge.controller.errors import ErrorKind, PermanentError, kind_of
from port_bridge.controller.observability import ControllerMetrics
from port_bridge.controller.outbox import Outbox
from port_bridge.controller.records import RunRecords
from port_bridge.controller.steps import rfc3339, seconds_since
from port_bridge.kube.objects import Object
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError

log = logging.getLogger(__name__)


class Reporter:
    def __init__(
        self,
        *,
        port: PortClient,
        records: RunRecords,
        outbox: Outbox,
        entity: RunEntity,
        retention_seconds: float,
        metrics: ControllerMetrics | None = None,
        clock: Callable[[], float] = time.time,
        fence: Callable[[], None] = lambda: None,
        recording_threads: int = 4,
    ) -> None:
        self._port, self._records, self._outbox, self._entity = port, records, outbox, entity
        self._retention, self._metrics, self._clock, self._fence = retention_seconds, metrics, clock, fence
        # Outcomes are written while the journal goes to Port, off the path a developer waits on.
        self._recorder = ThreadPoolExecutor(max_workers=recording_threads, thread_name_prefix="record")

    def report(self, run: ActionRun, *, recording: Future[ActionRun] | None = None) -> float | None:
        """Deliver the journal, then the catalog entity, then the one terminal status.

        ``recording`` is the write of the outcome, still under way: the journal and the entity do
        not wait for it, the terminal status does (the outcome is recorded before it is reported).
        """

        written: list[ActionRun] = []  # the run as last written here, once it has been

        def recorded() -> ActionRun:
            if written:
                return written[-1]
            return recording.result() if recording is not None else run

        status = run.status
        outcome, reported = status.outcome, status.reported
        assert outcome is not None
        if not outcome.bare:
            try:
                delivery = self._outbox.deliver(run, status)
            except PermanentError as failure:
                log.warning("reporting the run failed (%s); sending only its end", failure, extra=_about(run))
                return self.report(self._records.write(recorded(), bare(status)))
            reported = delivery.reported
            if delivery.closed is not None:
                return self.finish(recorded(), status, reported, closed=delivery.closed)
            if delivery.unavailable is not None:
                self._records.write(recorded(), status.model_copy(update={"reported": reported}))
                raise delivery.unavailable
            if reported.logged != status.reported.logged:
                # Recorded before the entity and the end, so a controller killed from here on does
                # not send the journal's last lines (a pipeline's, say) a second time.
                status = status.model_copy(update={"reported": reported})
                written.append(self._records.write(recorded(), status))
            if outcome.result == SUCCESS and reported.entities is None:
                try:
                    identifiers = self._entity.write(run)
                except Exception as error:
                    self._records.write(recorded(), status.model_copy(update={"reported": reported}))
                    if kind_of(error) is ErrorKind.PERMANENT:
                        return self.report(self._records.write(recorded(), bare(status)))
                    raise
                reported = reported.model_copy(update={"entities": identifiers})
        run = recorded()
        delivery = self._outbox.close(run, outcome, reported)
        if delivery.unavailable is not None:
            self._records.write(run, status.model_copy(update={"reported": delivery.reported}))
            raise delivery.unavailable
        return self.finish(run, status, delivery.reported, closed=delivery.closed)

    def record_outcome(self, run: ActionRun, status: ActionRunStatus) -> Future[ActionRun]:
        """Write a decided outcome, in the background: :meth:`report` waits for it before the end."""
        return self._recorder.submit(self._records.write, run, status)

    def close(self) -> None:
        """Wait for outcome writes still under way (the controller is stopping)."""
        self._recorder.shutdown(wait=True)

    def finish(
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
        return self.collect(self._records.write(run, finished), self._retention)

    def collect(self, run: ActionRun, wait: float) -> float | None:
        if wait > 0:
            return wait
        self._records.delete(run.name, run.namespace, run.uid)
        return None

    def malformed(self, obj: Object, problem: str) -> float | None:
        """An ActionRun that does not parse: close its Port run (if it names one) and record that."""
        metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
        name, namespace = metadata.get("name", ""), metadata.get("namespace", "")
        reported = status.get("reported")
        if isinstance(reported, dict) and reported.get("terminal"):
            wait = self._retention - seconds_since(status.get("finishedAt"), self._clock())
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
        return self._retention

    def _count_finished(self, run: ActionRun, result: str) -> None:
        if self._metrics is None:
            return
        self._metrics.runs_finished.labels(action=run.spec.action, result=result).inc()
        self._metrics.run_duration.labels(action=run.spec.action).observe(
            seconds_since(run.spec.received_at, self._clock())
        )


def bare(status: ActionRunStatus) -> ActionRunStatus:
    assert status.outcome is not None
    return status.model_copy(update={"outcome": status.outcome.model_copy(update={"bare": True})})


def _about(run: ActionRun) -> dict[str, Any]:
    return {"run_id": run.spec.run_id, "action": run.spec.action}
