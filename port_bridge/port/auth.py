"""The Port access token: fetched once, shared by every thread, renewed shortly before it expires.

Port keeps one active token per set of credentials and hands the same one out until it expires
(research/port.md §2.1), so fetching one per call, as port-agent does, only adds round trips. The
token is renewed a margin before ``expiresIn`` runs out (10 % of its lifetime, at most 60 s) so a
request never sets out with a token about to lapse. Port may still end a token early (the cause of
Ocean #3286): :meth:`TokenCache.invalidate` drops the token only if it is still the refused one, so
threads that saw the same 401 fetch one new token between them, and never two at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_RENEWAL_MARGIN = 60.0
RENEWAL_FRACTION = 0.1

FetchToken = Callable[[], tuple[str, float]]
"""Asks Port for a token; returns it and its lifetime in seconds (``expiresIn``)."""


def renewal_margin(lifetime: float) -> float:
    """How long before expiry a token of this lifetime is renewed."""
    return min(MAX_RENEWAL_MARGIN, RENEWAL_FRACTION * max(lifetime, 0.0))


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    renew_at: float


class TokenCache:
    """One cached token; :meth:`token` fetches under a lock when there is none or it is due."""

    def __init__(self, fetch: FetchToken, *, clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current: _Token | None = None

    def token(self) -> str:
        with self._lock:
            current = self._current
            if current is None or self._clock() >= current.renew_at:
                asked_at = self._clock()
                value, lifetime = self._fetch()
                current = _Token(value, asked_at + lifetime - renewal_margin(lifetime))
                self._current = current
            return current.value

    def invalidate(self, refused: str) -> None:
        """Forget the token Port refused, unless another thread has already replaced it."""
        with self._lock:
            if self._current is not None and self._current.value == refused:
                self._current = None
