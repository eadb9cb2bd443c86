"""What the emulated cluster's containers wrote: the store behind ``pods/log``.

A real API server proxies ``pods/log`` to the kubelet, which reads the container runtime's log
files: every line stamped with the time it was written, a log that grows while the container runs
and ends when it stops. The simulator's pipeline processes write here from their own threads as
their output comes (:meth:`PodLogs.write`, then :meth:`PodLogs.close`), and the emulator's
``pods/log`` route reads from its event loop, following a growing log through listeners
(:meth:`PodLogs.listen`). Logs are kept by namespace, Pod and container name; they outlive the Pod
object (a Pod deleted and created again under its name sees its old log, unlike a kubelet, which
keys logs by the Pod's uid; the simulator never reuses a Pod name).
"""

from __future__ import annotations

import bisect
import datetime
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

Listener = Callable[[], None]
_Key = tuple[str, str, str]
_LINE_PIECES = re.compile(r"[^\n]*\n|[^\n]+")  # lines end at a newline only, as the kubelet reads them


def kubelet_timestamp(moment: datetime.datetime) -> str:
    """A line's timestamp as the kubelet writes it with ``timestamps=true`` (RFC 3339, nanoseconds)."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond * 1000:09d}Z"


@dataclass(frozen=True)
class LogView:
    """A snapshot of one container's log: its text, where each line starts and when it was written."""

    text: str
    starts: tuple[int, ...]  # offset in ``text`` of each line's first character
    stamps: tuple[datetime.datetime, ...]  # when each line began
    closed: bool  # the container ended: nothing will be added

    def line_end(self, index: int) -> int:
        return self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)

    def render(
        self, begin: int, end: int, *, timestamps: bool, since: datetime.datetime | None = None
    ) -> str:
        """``text[begin:end]`` without the lines begun before ``since``, each line that starts
        inside the range prefixed with its timestamp if asked (as the kubelet answers)."""
        parts: list[str] = []
        first = max(0, bisect.bisect_right(self.starts, begin) - 1)
        for index in range(first, len(self.starts)):
            start, stop = self.starts[index], self.line_end(index)
            if start >= end:
                break
            if stop <= begin or (since is not None and self.stamps[index] < since):
                continue
            if timestamps and start >= begin:
                parts.append(kubelet_timestamp(self.stamps[index]) + " ")
            parts.append(self.text[max(begin, start) : min(end, stop)])
        return "".join(parts)


@dataclass
class _Log:
    text: list[str] = field(default_factory=list)
    length: int = 0
    starts: list[int] = field(default_factory=list)
    stamps: list[datetime.datetime] = field(default_factory=list)
    closed: bool = False
    line_open: bool = False  # the last line has no newline yet: the next write continues it
    listeners: list[Listener] = field(default_factory=list)

    def append(self, text: str, now: datetime.datetime) -> None:
        for piece in _LINE_PIECES.findall(text):
            if not self.line_open:
                self.starts.append(self.length)
                self.stamps.append(now)
            self.text.append(piece)
            self.length += len(piece)
            self.line_open = not piece.endswith("\n")

    def view(self) -> LogView:
        joined = "".join(self.text)
        self.text = [joined] if joined else []
        return LogView(joined, tuple(self.starts), tuple(self.stamps), self.closed)


class PodLogs:
    """Every container log of the emulated cluster; safe to use from any thread."""

    def __init__(self, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._logs: dict[_Key, _Log] = {}
        self._clock = clock or (lambda: datetime.datetime.now(tz=datetime.UTC))

    def write(self, namespace: str, pod: str, text: str, *, container: str = "main") -> None:
        """Append ``text`` (any number of lines, the last one possibly unfinished) to a container's log."""
        with self._lock:
            log = self._log(namespace, pod, container)
            if log.closed:
                raise ValueError(f"the log of {namespace}/{pod} container {container} is closed")
            log.append(text, self._clock())
            listeners = list(log.listeners)
        for listener in listeners:
            listener()

    def close(self, namespace: str, pod: str, *, container: str = "main") -> None:
        """The container ended: readers that follow the log reach its end after its last byte."""
        with self._lock:
            log = self._log(namespace, pod, container)
            log.closed = True
            listeners = list(log.listeners)
        for listener in listeners:
            listener()

    def text(self, namespace: str, pod: str, *, container: str = "main") -> str:
        """Everything the container has written so far (empty if it has written nothing)."""
        return self.view(namespace, pod, container).text

    def closed(self, namespace: str, pod: str, *, container: str = "main") -> bool:
        return self.view(namespace, pod, container).closed

    def view(self, namespace: str, pod: str, container: str) -> LogView:
        with self._lock:
            log = self._logs.get((namespace, pod, container))
            if log is None:
                return LogView("", (), (), closed=False)
            return log.view()

    def listen(self, namespace: str, pod: str, container: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` (from the writer's thread) after each write to or close of a log;
        returns the function that stops it."""
        with self._lock:
            log = self._log(namespace, pod, container)
            log.listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in log.listeners:
                    log.listeners.remove(listener)

        return stop

    def listeners(self) -> int:
        """How many readers follow a log right now (a follow stream whose client left stops)."""
        with self._lock:
            return sum(len(log.listeners) for log in self._logs.values())

    def _log(self, namespace: str, pod: str, container: str) -> _Log:
        return self._logs.setdefault((namespace, pod, container), _Log())
