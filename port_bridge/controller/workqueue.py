"""A work queue with the guarantees a level-triggered controller needs (client-go's model).

* A key is queued at most once however often it is added: ten events for one ActionRun mean
  one reconciliation of its latest state.
* A key is handed to one worker at a time; if it is added while being processed, it is queued
  again once that worker is done, so no change is missed and no key is processed concurrently.
* Keys can be added after a delay (timeouts, retries), and failures back off per key.
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
        self._ready: deque[K] = deque()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()  # added while processing
        self._delayed: list[tuple[float, int, K]] = []
        self._sequence = itertools.count()
        self._failures: dict[K, int] = {}
        self._base, self._max, self._clock = base_backoff, max_backoff, clock
        self._changed = threading.Condition()
        self._shut_down = False

    def add(self, key: K) -> None:
        with self._changed:
            self._add(key)

    def _add(self, key: K) -> None:
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._changed.notify()

    def add_after(self, key: K, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        with self._changed:
            heapq.heappush(self._delayed, (self._clock() + delay, next(self._sequence), key))
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
                if self._ready:
                    key = self._ready.popleft()
                    self._queued.discard(key)
                    self._processing.add(key)
                    return key
                waits = [w for w in (self._next_due(), deadline) if w is not None]
                if deadline is not None and self._clock() >= deadline:
                    return None
                self._changed.wait(max(0.0, min(waits) - self._clock()) if waits else None)

    def done(self, key: K) -> None:
        with self._changed:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                self._add(key)

    def shut_down(self) -> None:
        with self._changed:
            self._shut_down = True
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._ready) + len(self._delayed)

    def _promote_due(self) -> None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            self._add(key)

    def _next_due(self) -> float | None:
        return self._delayed[0][0] if self._delayed else None
