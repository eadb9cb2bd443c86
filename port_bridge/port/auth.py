"""The Port access token: one request per token lifetime, shared by every thread.

Port keeps one active token per set of credentials and answers every token request made while it
is active with that same token and the time it has left (``expiresIn`` counts down; research/port.md
§2.1). Asking before it expires therefore only gets it back: a cache that renews "a margin before
expiry" asks again on nearly every call near the end of each lifetime. So the token is used until it
has expired, as this side can tell from the arrival of Port's answer plus ``expiresIn`` (never
before Port's own expiry: Port counted down from an earlier instant), and the first call after that
asks once for the next one, whether Port reissues tokens or hands out a new one on every request.

A call that sets out just before the expiry and reaches Port just after it gets a 401; the transport
then renews once and rebuilds the request. Port may also end a token early (the cause of Ocean
#3286): :meth:`TokenCache.invalidate` drops the token only if it is still the refused one, so threads
that saw the same 401 fetch one new token between them, and never two at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

FetchToken = Callable[[], tuple[str, float]]
"""Asks Port for a token; returns it and the seconds it has left (``expiresIn``)."""


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


class TokenCache:
    """One cached token; :meth:`token` fetches under a lock when there is none or it has expired."""

    def __init__(self, fetch: FetchToken, *, clock: Callable[[], float]) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current: _Token | None = None

    def token(self) -> str:
        with self._lock:
            current = self._current
            if current is None or self._clock() >= current.expires_at:
                value, seconds_left = self._fetch()
                current = _Token(value, self._clock() + max(seconds_left, 0.0))
                self._current = current
            return current.value

    def invalidate(self, refused: str) -> None:
        """Forget the token Port refused, unless another thread has already replaced it."""
        with self._lock:
            if self._current is not None and self._current.value == refused:
                self._current = None
