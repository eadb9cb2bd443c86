"""A work queue with the guarantees a level-triggered controller needs (client-go's model).

* A key is queued at most once however often it is added: ten events for one ActionRun mean
  one reconciliation of its latest state.
* A key is handed to one worker at a time; if it is added while being processed, it is queued
  again once that worker is done, so no change is missed and no key is processed concurrently.
* Urgent keys go first: a run whose Kratix request just changed is not kept waiting behind
  resyncs and the echoes of the controller's own writes.
* Keys can be added after a delay (timeouts, retries, retention). Each key has at most one
  pending delay, the earliest, so memory stays bounded by the number of keys however often a
  delay is asked for; failures back off per key.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """The queue was shut down; workers should stop."""


class WorkQueue(Generic[K]):
    def __init__(
        self,
        *,
        base_backoff: float = 0.05,
        max_backoff: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._urgent: deque[K] = deque()
        self._normal: deque[K] = deque()
        self._queued: dict[K, bool] = {}  # key -> urgent; other deque entries are stale
        self._processing: set[K] = set()
        self._dirty: dict[K, bool] = {}  # added while processing -> urgent
        self._due: dict[K, float] = {}  # the one pending delay of each key
        self._delayed: list[tuple[float, int, K]] = []  # a heap; entries not at _due[key] are stale
        self._sequence = itertools.count()
        self._failures: dict[K, int] = {}
        self._base, self._max, self._clock = base_backoff, max_backoff, clock
        self._changed = threading.Condition()
        self._shut_down = False

    def add(self, key: K, *, urgent: bool = False) -> None:
        with self._changed:
            self._add(key, urgent)

    def _add(self, key: K, urgent: bool) -> None:
        if key in self._processing:
            self._dirty[key] = self._dirty.get(key, False) or urgent
            return
        queued = self._queued.get(key)
        if queued is None or (urgent and not queued):
            self._queued[key] = urgent
            (self._urgent if urgent else self._normal).append(key)
            self._changed.notify()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` once ``delay`` seconds have passed, unless an earlier time is already pending."""
        if delay <= 0:
            self.add(key)
            return
        with self._changed:
            due = self._clock() + delay
            if self._due.get(key, float("inf")) <= due:
                return
            self._due[key] = due
            heapq.heappush(self._delayed, (due, next(self._sequence), key))
            self._compact()
            self._changed.notify()

    def retry(self, key: K) -> float:
        """Re-add ``key`` after an exponentially growing delay; returns the delay."""
        with self._changed:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        delay = float(min(self._base * 2.0**failures, self._max))
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key was processed successfully: its next failure starts backing off afresh."""
        with self._changed:
            self._failures.pop(key, None)

    def get(self, *, timeout: float | None = None) -> K | None:
        """The next key to process (mark it :meth:`done` after); ``None`` on timeout."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._changed:
            while True:
                if self._shut_down:
                    raise ShutDown
                self._promote_due()
                key = self._next_ready()
                if key is not None:
                    self._processing.add(key)
                    return key
                if deadline is not None and self._clock() >= deadline:
                    return None
                waits = [w for w in (self._next_due(), deadline) if w is not None]
                self._changed.wait(max(0.0, min(waits) - self._clock()) if waits else None)

    def done(self, key: K) -> None:
        with self._changed:
            self._processing.discard(key)
            if key in self._dirty:
                self._add(key, self._dirty.pop(key))

    def shut_down(self) -> None:
        with self._changed:
            self._shut_down = True
            self._changed.notify_all()

    def __len__(self) -> int:
        """Keys ready to be processed now."""
        with self._changed:
            return len(self._queued)

    @property
    def delayed(self) -> int:
        """Keys waiting for a delay to pass."""
        with self._changed:
            return len(self._due)

    def _next_ready(self) -> K | None:
        for ready, urgent in ((self._urgent, True), (self._normal, False)):
            while ready:
                key = ready.popleft()
                if self._queued.get(key) is urgent:
                    del self._queued[key]
                    return key
        return None

    def _promote_due(self) -> None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            due, _, key = heapq.heappop(self._delayed)
            if self._due.get(key) == due:
                del self._due[key]
                self._add(key, False)

    def _next_due(self) -> float | None:
        while self._delayed and self._due.get(self._delayed[0][2]) != self._delayed[0][0]:
            heapq.heappop(self._delayed)  # superseded by an earlier time
        return self._delayed[0][0] if self._delayed else None

    def _compact(self) -> None:
        """Drop superseded heap entries once they outnumber the live ones, so memory stays bounded."""
        if len(self._delayed) > 2 * len(self._due) + 64:
            self._delayed = [entry for entry in self._delayed if self._due.get(entry[2]) == entry[0]]
            heapq.heapify(self._delayed)
