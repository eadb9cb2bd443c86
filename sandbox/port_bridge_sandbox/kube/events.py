"""The change history watches are served from, with the API server's 410 Gone when it runs out.

A real API server keeps a window of recent changes; a watch that asks for a resourceVersion
older than that window is told ``410 Gone`` and must re-list. Stock kmock replays every object
as ADDED whatever version is asked for, so a client's resume and re-list logic would never be
exercised. This log keeps the last ``capacity`` events, each stamped with its resourceVersion.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any

from kmock import resource as Resource  # noqa: N812


@dataclass(frozen=True)
class Event:
    resource_version: int
    resource: Resource
    type: str  # ADDED, MODIFIED or DELETED
    object: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "object": self.object}


class ResourceVersionTooOld(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested, self.oldest = requested, oldest


class EventLog:
    """Append-only window of events; waiters are woken whenever something is appended."""

    def __init__(self, *, capacity: int) -> None:
        self._events: deque[Event] = deque()
        self._versions: deque[int] = deque()
        self._capacity = capacity
        self._compacted_through = 0  # every event at or below this version has been dropped
        self._appended = asyncio.Event()

    def append(self, event: Event) -> None:
        """Record an event and wake every waiting watch (synchronous: callers stay atomic)."""
        self._events.append(event)
        self._versions.append(event.resource_version)
        while len(self._events) > self._capacity:
            dropped = self._events.popleft()
            self._versions.popleft()
            self._compacted_through = dropped.resource_version
        self._appended.set()
        self._appended = asyncio.Event()

    def after(self, resource_version: int) -> list[Event]:
        """Events newer than ``resource_version``; raises if some of them were compacted away."""
        if resource_version < self._compacted_through:
            raise ResourceVersionTooOld(resource_version, self._compacted_through + 1)
        start = bisect.bisect_right(self._versions, resource_version)
        return list(itertools.islice(self._events, start, None))

    async def wait_after(self, resource_version: int, *, timeout: float | None) -> list[Event]:
        """Block until there is an event newer than ``resource_version`` or ``timeout`` passes."""
        events = self.after(resource_version)
        if events:
            return events
        appended = self._appended
        try:
            await asyncio.wait_for(appended.wait(), timeout)
        except TimeoutError:
            return []
        return self.after(resource_version)

    def compact(self) -> None:
        """Drop the whole window, as etcd compaction does; older watches now get 410."""
        if self._events:
            self._compacted_through = self._events[-1].resource_version
        self._events.clear()
        self._versions.clear()
