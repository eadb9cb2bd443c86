"""Port's organisation rate limits, enforced on request, with the headers Port sends.

Port counts requests per organisation in windows (research/port.md §3.5): its last published
limits were 35,000 requests to the entities API, 15,000 other requests and 100 unauthenticated
requests per 5 minutes. Every answer carries ``x-ratelimit-limit``, ``x-ratelimit-remaining``,
``x-ratelimit-reset`` and ``x-ratelimit-period``; a request over the limit gets 429.

Which window a request counts against is read from Port's own spec: operations tagged
``Entities`` count against the entities window, the token route against the unauthenticated one,
every other request (unknown routes too) against the rest. Choices where Port's docs are silent:
fixed windows that start with their first request; a refused request counts; ``x-ratelimit-reset``
is the epoch second (rounded up) when the window resets, or optionally the seconds until then;
``Retry-After`` is not sent unless asked for.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ResetFormat = Literal["epoch", "seconds"]
Window = Literal["entities", "other", "unauthenticated"]


@dataclass(frozen=True)
class RateLimits:
    """How many requests each window admits, and how long a window lasts (Port's last published)."""

    entities: int = 35_000
    other: int = 15_000
    unauthenticated: int = 100
    period: float = 300.0
    reset_format: ResetFormat = "epoch"
    retry_after: bool = False

    def limit(self, window: Window) -> int:
        return {"entities": self.entities, "other": self.other, "unauthenticated": self.unauthenticated}[
            window
        ]


@dataclass(frozen=True)
class Admission:
    """Whether a request is admitted, and the headers its answer carries either way."""

    admitted: bool
    headers: dict[str, str]


class RateLimiter:
    """Counts requests per window and decides; safe to call from the server's threads."""

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] = time.time) -> None:
        self.limits, self._clock = limits, clock
        self._lock = threading.Lock()
        self._started: dict[Window, float] = {}
        self._used: dict[Window, int] = {}
        self.refused = 0  # 429s answered

    def admit(self, window: Window) -> Admission:
        now = self._clock()
        limit, period = self.limits.limit(window), self.limits.period
        with self._lock:
            started = self._started.get(window)
            if started is None or now >= started + period:
                started, self._started[window], self._used[window] = now, now, 0
            used = self._used[window] = self._used[window] + 1
            admitted = used <= limit
            if not admitted:
                self.refused += 1
        reset = started + period
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(
                math.ceil(reset) if self.limits.reset_format == "epoch" else math.ceil(reset - now)
            ),
            "x-ratelimit-period": f"{period:g}",
        }
        if not admitted and self.limits.retry_after:
            headers["Retry-After"] = str(math.ceil(reset - now))
        return Admission(admitted, headers)
