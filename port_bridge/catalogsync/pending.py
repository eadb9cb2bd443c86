"""The requests waiting for the sync to look at them, and the sync's wait for the next one.

Watches and ending runs mark requests from their own threads; the sync's thread takes what is
marked, all at once, for a pass. Entities Port may accept later come back after a few seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable

from port_bridge.catalogsync.memory import RequestName

RETRY_SECONDS = 5.0  # entities Port may accept later are tried again after this


class Pending:
    def __init__(self, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._marked: set[RequestName] = set()
        self._retry: set[RequestName] = set()
        self._retry_at = 0.0
        self._wake = threading.Event()

    def mark(self, requests: Iterable[RequestName]) -> None:
        with self._lock:
            self._marked.update(requests)
        self._wake.set()

    def retry_later(self, requests: Iterable[RequestName]) -> None:
        with self._lock:
            self._retry.update(requests)
            self._retry_at = time.monotonic() + self._retry_seconds

    def any(self) -> bool:
        """Whether something waits now (retries that are due are marked again)."""
        with self._lock:
            if self._retry and time.monotonic() >= self._retry_at:
                self._marked |= self._retry
                self._retry = set()
            return bool(self._marked)

    def take(self) -> set[RequestName]:
        with self._lock:
            taken, self._marked = self._marked, set()
        return taken

    def give_back(self, requests: Iterable[RequestName]) -> None:
        """A pass that failed did not look at these."""
        with self._lock:
            self._marked.update(requests)

    def forget_marks(self) -> None:
        """A full pass is about to look at every request."""
        with self._lock:
            self._marked.clear()

    def count(self) -> int:
        with self._lock:
            return len(self._marked | self._retry)

    def retry_wait(self) -> float:
        """Seconds until retries are due (infinite without any)."""
        with self._lock:
            return max(self._retry_at - time.monotonic(), 0.05) if self._retry else math.inf

    def wait(self, seconds: float) -> None:
        """Until something is marked (or :meth:`wake`), at most ``seconds``."""
        self._wake.wait(seconds)
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()
