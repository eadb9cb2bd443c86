"""Port's rate limit as its answers tell it, shared by every caller of one client: reports first.

Port limits each organisation per window (research/port.md §3.5: last published, 35,000 requests
to the entities API and 15,000 others per 5 minutes) and says on every answer where it stands:
``x-ratelimit-limit``, ``x-ratelimit-remaining`` and ``x-ratelimit-reset``. Reacting to a 429 is
late (the call is lost for a while, and a sync of thousands of entities would keep hitting it),
so before each call the client asks its :class:`RateBudget`, which paces from those headers, as
Port's Terraform provider does:

* a call goes at once while the window has calls left; when it has none, the call waits for the
  reset instead of drawing a 429;
* **background** calls (the catalog sync) never use the last ``reserve`` share of a window, and
  wait while a foreground call (a run's report) is waiting for budget, so reports always come
  first and the sync finishes on what is left;
* a foreground call that would wait longer than its caller allows (the retry budget of one Port
  call) is not made: :class:`BudgetExhausted`, and the run is looked at again later, as after a 429.

A 429 still happens when something else spends the organisation's budget. The call that drew it
is retried by the retry policy (:mod:`.retry`) after the wait Port asked for, without waiting
here again; the window is closed for every other call until then.

Which window a call draws on is read from its path: Port counts the entities API apart from the
rest. Calls sent but not answered yet are counted off at once, so threads sending together do not
all take the last call. Until Port has sent the headers (or when it never does) nothing waits.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from port_bridge.port.waits import ratelimit_reset_seconds, requested_wait

ENTITIES = "entities"
OTHER = "other"
_ENTITY_ROUTE = re.compile(r"^/v1/(?:entities(?:/|$)|blueprints/[^/]+/(?:bulk/)?(?:all-)?entities(?:[/-]|$))")
_SAME_WINDOW = 1.5  # seconds two readings of a reset may differ (whole seconds, clocks, rounding)
_MARGIN = 1.0  # a reset in whole seconds may be read up to a second early: a used-up window waits longer
_SLICE = 0.25  # a waiting background call looks again this often (a report may have come first)


def bucket_of(path: str) -> str:
    """The window a call to ``path`` draws on: the entities API's or everything else's."""
    return ENTITIES if _ENTITY_ROUTE.match(path) else OTHER


class BudgetExhausted(Exception):
    """The window has no call left for this caller before ``wait`` seconds, more than it may wait."""

    def __init__(self, bucket: str, wait: float) -> None:
        super().__init__(f"Port's rate limit for {bucket} calls is used up for the next {wait:.1f} s")
        self.bucket, self.wait = bucket, wait


@dataclass
class _Window:
    limit: int
    remaining: int  # as Port last said, less the calls sent since
    reset_at: float  # epoch seconds


@dataclass
class BudgetStats:
    """What the budget has done since it was made (the controller's metrics read these)."""

    throttled: int = 0  # 429 answers received
    paced_calls: dict[str, int] = field(default_factory=dict)  # calls that waited, by priority
    paced_seconds: dict[str, float] = field(default_factory=dict)  # time they waited, by priority


class RateBudget:
    """The windows of one Port organisation; safe to share between threads."""

    def __init__(self, *, reserve: float = 0.2, clock: Callable[[], float] = time.time) -> None:
        if not 0 <= reserve < 1:
            raise ValueError(f"reserve must be a share from 0 up to 1, not {reserve}")
        self._reserve, self._clock = reserve, clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._foreground_waiting = 0
        self.stats = BudgetStats()

    def take(
        self,
        bucket: str,
        *,
        background: bool,
        sleep: Callable[[float], None],
        max_wait: float = math.inf,
        retrying_after_429: bool = False,
    ) -> None:
        """Wait until one more call of ``bucket`` fits the budget, and count it.

        ``sleep`` does the waiting (the controller's ends when its leadership term does);
        :class:`BudgetExhausted` if a foreground call would have to wait over ``max_wait``. A
        call ``retrying_after_429`` has waited what Port asked and is only counted.
        """
        if retrying_after_429:
            with self._lock:
                window = self._windows.get(bucket)
                if window is not None:
                    window.remaining -= 1
            return
        priority = "background" if background else "foreground"
        waited = 0.0
        registered = False
        awaited: _Window | None = None  # the used-up window this call waits out
        owed = since = slept = 0.0
        try:
            while True:
                with self._lock:
                    wait, window = self._wait(bucket, background=background)
                    if window is not None and window is awaited:
                        # Slept to its reset, by the clock or by the sleeps (an injected sleep may not
                        # move the clock): the window is over, whatever the clock says.
                        left = owed - max(self._clock() - since, slept)
                        if left <= 0:
                            self._windows.pop(bucket, None)
                            continue
                        wait = left
                    elif window is not None:
                        awaited, owed, since, slept = window, wait, self._clock(), 0.0
                    if wait <= 0:
                        current = self._windows.get(bucket)
                        if current is not None:
                            current.remaining -= 1
                        if waited:
                            self.stats.paced_calls[priority] = self.stats.paced_calls.get(priority, 0) + 1
                            self.stats.paced_seconds[priority] = (
                                self.stats.paced_seconds.get(priority, 0.0) + waited
                            )
                        return
                    if not background:
                        if waited + wait > max_wait:
                            raise BudgetExhausted(bucket, wait)
                        if not registered:
                            self._foreground_waiting += 1
                            registered = True
                pause = min(wait, _SLICE) if background else wait
                sleep(pause)
                waited += pause
                if window is not None:
                    slept += pause
        finally:
            if registered:
                with self._lock:
                    self._foreground_waiting -= 1

    def observe(self, bucket: str, *, status: int, headers: Mapping[str, str]) -> None:
        """Take what an answer says about the window (any answer: Port counts refusals too)."""
        now = self._clock()
        lowered = {key.lower(): value for key, value in headers.items()}
        limit, remaining = (
            _integer(lowered.get("x-ratelimit-limit")),
            _integer(lowered.get("x-ratelimit-remaining")),
        )
        reset = lowered.get("x-ratelimit-reset")
        reset_in = ratelimit_reset_seconds(reset, now=now) if reset is not None else None
        with self._lock:
            if status == 429:
                self.stats.throttled += 1
                remaining, asked = 0, requested_wait(lowered, now=now)
                reset_in = asked if asked is not None else reset_in
            if limit is None or remaining is None or reset_in is None:
                return
            reset_at = now + reset_in
            window = self._windows.get(bucket)
            if window is None or reset_at > window.reset_at + _SAME_WINDOW or status == 429:
                self._windows[bucket] = _Window(limit, remaining, reset_at)
            else:
                window.limit, window.remaining = limit, min(window.remaining, remaining)

    def remaining(self, bucket: str) -> int | None:
        """Calls left in the bucket's window as far as this side knows (``None``: no word from Port)."""
        with self._lock:
            window = self._windows.get(bucket)
            return None if window is None or window.reset_at + _MARGIN <= self._clock() else window.remaining

    def _wait(self, bucket: str, *, background: bool) -> tuple[float, _Window | None]:
        """Seconds before a call may go (0: now), and the used-up window it waits for, if that is
        why; called with the lock held."""
        window = self._windows.get(bucket)
        if window is not None and window.reset_at + _MARGIN <= self._clock():
            del self._windows[bucket]  # a new window: what it holds is learnt from the next answer
            window = None
        if background and self._foreground_waiting:
            return _SLICE, None
        if window is None:
            return 0.0, None
        floor = math.ceil(window.limit * self._reserve) if background else 0
        if window.remaining > floor:
            return 0.0, None
        return max(window.reset_at + _MARGIN - self._clock(), 0.001), window


def _integer(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
