"""The retry policy for Port's API, on tenacity: what is retried, how long to wait, when to stop.

Retried: answers 408, 429, 500, 502, 503, 504, and tries that got no answer (connection refused,
reset or dropped, a broken body, timeouts). TLS errors are not retried: a bad certificate does
not heal by waiting. Every method is retried: the bridge's POSTs are upserts, logs and config
creates, where a duplicate is harmless or refused with a clear error.

Each wait is what Port asked for (:func:`~port_bridge.port.waits.requested_wait`), else
exponential backoff with jitter (1, 2, 4 ... s plus up to 1 s), and never more than
``max_wait_seconds``. The retrying of one call stops before a wait that would take it past
``max_retry_seconds`` since the first try, so when Port asks for more time than the budget has
left the call gives up at once instead of sleeping in vain. Time spent is the larger of the real
time elapsed and the total of the waits, so an injected ``sleep`` that returns at once (tests)
spends the budget just as a real one does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import requests
import tenacity

from port_bridge.port.waits import requested_wait

log = logging.getLogger(__name__)
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetryableAnswer(Exception):
    """An answer worth another try; keeps what the wait and the final error need."""

    def __init__(self, *, status: int, headers: Mapping[str, str], trace_id: str | None) -> None:
        super().__init__(f"Port answered {status}")
        self.status = status
        self.headers = dict(headers)
        self.trace_id = trace_id


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, RetryableAnswer):
        return True
    if isinstance(error, requests.exceptions.SSLError):
        return False
    return isinstance(
        error, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError
    )


class RetryPolicy:
    """Builds the tenacity ``Retrying`` for one call; holds the caps and the injected sleep/clock."""

    def __init__(
        self,
        *,
        max_wait_seconds: float,
        max_retry_seconds: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self._max_wait = max_wait_seconds
        self._max_retry = max_retry_seconds
        self._sleep = sleep
        self._clock = clock
        self._backoff = tenacity.wait_exponential_jitter(max=max_wait_seconds)

    @property
    def sleep(self) -> Callable[[float], None]:
        return self._sleep

    @property
    def max_retry_seconds(self) -> float:
        return self._max_retry

    def with_sleep(self, sleep: Callable[[float], None]) -> RetryPolicy:
        """The same policy, waiting between tries with ``sleep``."""
        return RetryPolicy(
            max_wait_seconds=self._max_wait, max_retry_seconds=self._max_retry, sleep=sleep, clock=self._clock
        )

    def retrying(self, *, method: str, path: str) -> tenacity.Retrying:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            log.info(
                "Port API %s %s: try %d failed, retrying in %.1f s",
                method,
                path,
                state.attempt_number,
                state.upcoming_sleep,
                extra={"method": method, "path": path, "wait": state.upcoming_sleep},
            )

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_retryable),
            wait=self.wait,
            stop=self.stop,
            sleep=self._sleep,
            before_sleep=before_sleep,
        )

    def wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = (
            requested_wait(error.headers, now=self._clock()) if isinstance(error, RetryableAnswer) else None
        )
        return min(asked if asked is not None else self._backoff(state), self._max_wait)

    def stop(self, state: tenacity.RetryCallState) -> bool:
        return spent(state) + state.upcoming_sleep > self._max_retry


def spent(state: tenacity.RetryCallState) -> float:
    """Seconds one call has spent so far: real time elapsed or, if more, the waits it slept."""
    return max(state.seconds_since_start or 0.0, state.idle_for)
