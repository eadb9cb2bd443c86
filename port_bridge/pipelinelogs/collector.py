"""Pipeline Pods' log lines into the run's journal: as they come, bounded, masked, never in the way.

**Polling, not following.** One thread polls the pipeline Pods of every run in flight every
``poll_seconds``, reading each container's log from where the run left it (:mod:`.reading`). A
``follow=true`` stream per container would bring lines sooner, but it holds a connection and a
thread per container, has to be resumed from a position anyway (when the API server ends it, the
network drops it or a new leader takes over), and cannot tell a finished container's end from a
quiet one's when the end must come before the run's terminal status. A poll is one short request
per container not known to have ended, resuming is the normal path, and the final flush is the
same read once more.

**Through the journal.** Lines read wait here, in memory, until the reconciler next looks at the
run: :meth:`PipelineLogs.take` (never blocking) appends them to the journal with the new positions
(``status.pipelineLogs``), so the one status write that records them records how far each
container's log went, and the outbox delivers them to Port in order with the run's other lines.
Nothing else writes the ActionRun, so nothing races the reconciler's guarded writes; a restarted
or new leader resumes from the recorded positions: no line is sent twice, none is lost (a line
in flight to Port when a controller dies may repeat, as for every journal line). The poller wakes
the run when it has new lines and the run's journal is delivered (a run waiting for Port is not
woken more often).

**Before the end.** When the outcome is decided, :meth:`PipelineLogs.flush` reads every container
of the run once more, at most ``flush_seconds``, so the last lines a pipeline printed come before
the terminal status, and the terminal status waits for nothing longer.

**Bounded and masked.** A run's journal takes at most ``max_lines`` pipeline lines and
``max_bytes`` bytes of them (UTF-8, prefix included; a line longer than 2,000 characters is
cut); the line that would pass a bound is replaced by one saying so and giving the ``kubectl
logs`` command that shows everything, and nothing more is read. Every line is masked
(:mod:`.masking`) and prefixed with its pipeline (and container, where it has several).

**Never in the way.** A refusal or failure of ``pods`` or ``pods/log`` is temporary: logged (at
warning the first time for a run, then at debug until it reads again) and tried at the next
poll; it never changes a run's outcome.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import kubernetes
import urllib3

from port_bridge.actionrun.model import (
    ActionRun,
    ActionRunStatus,
    ContainerLogCursor,
    JournalLine,
    MalformedActionRun,
    PipelineLogProgress,
    RequestRef,
)
from port_bridge.kube.objects import Object
from port_bridge.pipelinelogs.masking import Masker
from port_bridge.pipelinelogs.pods import PipelineContainer, pipeline_containers, selector
from port_bridge.pipelinelogs.reading import advance, after, list_pods, parse_log, read_log, since_time

log = logging.getLogger(__name__)
READ_LIMIT_BYTES = 256 * 1024  # per container and poll; the rest comes with the next one
MAX_LINE_CHARS = 2000
_ALL_OF_THEM = "--all-containers --prefix --tail=-1"  # with -l, kubectl shows 10 lines unless told


@dataclass(frozen=True)
class PipelineLogOptions:
    max_lines: int = 200  # per run; 0 turns pipeline logs off
    max_bytes: int = 32 * 1024  # per run
    poll_seconds: float = 2.0
    flush_seconds: float = 2.0  # the longest the terminal status waits for a last read
    request_timeout: float = 10.0  # per Kubernetes call while polling
    secrets: tuple[str, ...] = ()  # values masked wherever they appear

    @property
    def enabled(self) -> bool:
        return self.max_lines > 0


@dataclass(frozen=True)
class _Read:
    """A line read and not yet in the journal."""

    key: str  # namespace/pod/container
    index: int  # its number in the container's log
    message: str
    cursor: ContainerLogCursor  # the container's position once it is taken
    rest: str  # the command that shows the whole log, for the line saying the log was cut


@dataclass
class _RunLogs:
    uid: str | None
    reading: threading.Lock = field(default_factory=threading.Lock)  # one reader: the poller or a flush
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards what follows
    cursors: dict[str, ContainerLogCursor] = field(default_factory=dict)  # read so far
    unread: list[_Read] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)  # containers read to their end
    failing: bool = False


class PipelineLogs:
    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        options: PipelineLogOptions,
        runs: Callable[[], Iterable[Object]],
        wake: Callable[[str], None],
    ) -> None:
        self._api, self._options, self._runs, self._wake = api_client, options, runs, wake
        self._masker = Masker(options.secrets)
        self._states: dict[str, _RunLogs] = {}
        self._states_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._options.enabled:
            self._thread = threading.Thread(target=self._poll_forever, name="pipeline-logs", daemon=True)
            self._thread.start()

    def stop(self, *, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def take(self, run: ActionRun, status: ActionRunStatus) -> ActionRunStatus:
        """``status`` with the lines read since it was recorded appended to its journal, within bounds."""
        progress = status.pipeline_logs or PipelineLogProgress()
        with self._states_lock:
            state = self._states.get(run.name)
        if progress.cut or state is None or state.uid != run.uid:
            return status
        with state.lock:
            fresh = [read for read in state.unread if read.index > _taken(progress, read.key)]
        if not fresh:
            return status
        journal, lines, size = list(status.journal), progress.lines, progress.bytes
        containers, cut = dict(progress.containers), False
        for read in fresh:
            length = len(read.message.encode())
            if lines + 1 > self._options.max_lines or size + length > self._options.max_bytes:
                journal.append(JournalLine(message=self._cut_notice(read)))
                cut = True
                break
            journal.append(JournalLine(message=read.message))
            lines, size, containers[read.key] = lines + 1, size + length, read.cursor
        taken = PipelineLogProgress(lines=lines, bytes=size, cut=cut, containers=containers)
        return status.model_copy(update={"journal": tuple(journal), "pipeline_logs": taken})

    def flush(self, run: ActionRun, status: ActionRunStatus) -> ActionRunStatus:
        """Read the run's pipeline logs once more (at most ``flush_seconds``), then :meth:`take`."""
        if not self._options.enabled:
            return status
        deadline = time.monotonic() + self._options.flush_seconds
        current = run.with_status(status)
        state = self._state(current)
        if state.reading.acquire(timeout=self._options.flush_seconds):  # the poller may be reading it
            try:
                self._read(current, state, final=True, deadline=deadline)
            except Exception:  # a bug here must not cost the run its outcome
                log.exception("reading pipeline logs before the end failed", extra=_about(run))
            finally:
                state.reading.release()
        return self.take(run, status)

    def poll_once(self) -> None:
        """Read what is new for every run in flight, and wake the runs that have new lines."""
        active: dict[str, ActionRun] = {}
        for obj in self._runs():
            try:
                run = ActionRun.from_object(obj)
            except MalformedActionRun:
                continue
            if _in_flight(run):
                active[run.name] = run
        with self._states_lock:
            for name in [name for name in self._states if name not in active]:
                del self._states[name]
        for run in active.values():
            if self._stopping.is_set():
                return
            state = self._state(run)
            if not state.reading.acquire(blocking=False):
                continue  # a flush is reading this run
            try:
                added = self._read(run, state, final=False, deadline=None)
            finally:
                state.reading.release()
            if added and run.status.reported.logged >= len(run.status.journal):
                self._wake(run.name)

    # -- Internals ------------------------------------------------------------------------------

    def _poll_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling pipeline logs failed; trying again")
            self._stopping.wait(self._options.poll_seconds)

    def _state(self, run: ActionRun) -> _RunLogs:
        with self._states_lock:
            state = self._states.get(run.name)
            if state is None or state.uid != run.uid:
                state = self._states[run.name] = _RunLogs(uid=run.uid)
            return state

    def _read(self, run: ActionRun, state: _RunLogs, *, final: bool, deadline: float | None) -> int:
        """Read every container of the run past what is known; how many lines were added."""
        progress = run.status.pipeline_logs or PipelineLogProgress()
        if progress.cut:
            return 0
        with state.lock:
            state.unread = [read for read in state.unread if read.index > _taken(progress, read.key)]
            if progress.lines + len(state.unread) > self._options.max_lines:
                return 0  # enough is waiting to reach the bound
        added = 0
        try:
            for request in run.spec.requests:
                applied_at = run.status.progress(request.id).applied_at
                if applied_at is None or _late(deadline):
                    continue
                pods = list_pods(self._api, label_selector=selector(request), timeout=self._timeout(deadline))
                containers = pipeline_containers(
                    pods, request, operation=run.spec.operation, not_before=applied_at
                )
                waiting: set[str] = set()  # Pods with a container not started: the ones after it neither
                for container in containers:
                    if container.key in state.ended or container.pod in waiting or _late(deadline):
                        continue
                    try:
                        added += self._read_container(run, request, container, state, final, deadline)
                    except kubernetes.client.ApiException as error:
                        if error.status not in (400, 404):  # 400: waiting to start; 404: gone meanwhile
                            raise
                        waiting.add(container.pod)
        except (kubernetes.client.ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            if not state.failing:
                log.warning(
                    "cannot read pipeline logs yet (the run goes on): %s", _short(error), extra=_about(run)
                )
            state.failing = True
            return added
        if state.failing:
            log.info("pipeline logs readable again", extra=_about(run))
        state.failing = False
        return added

    def _read_container(
        self,
        run: ActionRun,
        request: RequestRef,
        container: PipelineContainer,
        state: _RunLogs,
        final: bool,
        deadline: float | None,
    ) -> int:
        key = container.key
        recorded = (run.status.pipeline_logs or PipelineLogProgress()).containers.get(key)
        with state.lock:
            cursor = max(
                (c for c in (state.cursors.get(key), recorded) if c is not None),
                key=lambda c: c.lines,
                default=ContainerLogCursor(),
            )
        answer = read_log(
            self._api,
            namespace=container.namespace,
            pod=container.pod,
            container=container.name,
            since=since_time(cursor.at) if cursor.at else None,
            limit_bytes=READ_LIMIT_BYTES,
            timeout=self._timeout(deadline),
        )
        lines = after(parse_log(answer.text), cursor)
        rest = f"kubectl logs -n {container.namespace} -l {selector(request)} {_ALL_OF_THEM}"
        new: list[_Read] = []
        for number, line in enumerate(lines, start=1):
            if number == len(lines) and not line.complete:
                if answer.cut and new:
                    break  # the rest of this line comes with the next read
                if not answer.cut and not (container.terminated or final):
                    break  # the container may still finish it
            masked = self._masker.mask(line.text, in_private_key=cursor.in_private_key)
            cursor = advance(cursor, line, in_private_key=masked.in_private_key)
            text = masked.text if len(masked.text) <= MAX_LINE_CHARS else masked.text[:MAX_LINE_CHARS] + "…"
            new.append(_Read(key, cursor.lines, f"{container.prefix} {text}", cursor, rest))
        with state.lock:
            state.cursors[key] = cursor
            state.unread.extend(new)
            if container.terminated and not answer.cut and len(new) == len(lines):
                state.ended.add(key)
        return len(new)

    def _timeout(self, deadline: float | None) -> float:
        if deadline is None:
            return self._options.request_timeout
        return max(0.05, min(self._options.request_timeout, deadline - time.monotonic()))

    def _cut_notice(self, read: _Read) -> str:
        return (
            f"Pipeline logs cut here: a Port run shows at most {self._options.max_lines} lines and "
            f"{self._options.max_bytes} bytes of them (PORT_BRIDGE_PIPELINE_LOG_MAX_LINES, "
            f"PORT_BRIDGE_PIPELINE_LOG_MAX_BYTES). All of them: {read.rest}"
        )


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _taken(progress: PipelineLogProgress, key: str) -> int:
    cursor = progress.containers.get(key)
    return cursor.lines if cursor is not None else 0


def _in_flight(run: ActionRun) -> bool:
    status = run.status
    return (
        status.outcome is None
        and not status.reported.terminal
        and any(status.progress(request.id).applied_at for request in run.spec.requests)
    )


def _short(error: BaseException) -> str:
    if isinstance(error, kubernetes.client.ApiException):
        return f"{error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"


def _about(run: ActionRun) -> dict[str, str]:
    return {"run_id": run.spec.run_id, "action": run.spec.action}
