"""Access tokens the way Port hands them out: one active token per credential set, then expiry.

Port returns the same token to repeated requests until it expires (research/port.md §2.1); after
that, the old token is refused with 401 and the next request gets a new one. Tests shorten the
lifetime (fractions of a second are fine) or expire the token on demand to exercise a client's
refresh-on-401 path.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedToken:
    value: str
    expires_at: float

    def remaining(self, now: float) -> float:
        return max(0.0, self.expires_at - now)


class TokenIssuer:
    """Checks credentials, issues and verifies bearer tokens, counts token requests."""

    def __init__(self, *, client_id: str, client_secret: str, lifetime: float) -> None:
        if lifetime <= 0:
            raise ValueError("token_lifetime must be positive")
        self._client_id = client_id
        self._client_secret = client_secret
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._current: IssuedToken | None = None
        self.requests = 0

    def credentials_match(self, client_id: object, client_secret: object) -> bool:
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            return False
        same_id = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        same_secret = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        return same_id and same_secret

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def issue(self) -> IssuedToken:
        """The active token, or a new one if there is none or it has expired."""
        now = time.monotonic()
        with self._lock:
            if self._current is None or self._current.remaining(now) <= 0:
                self._current = IssuedToken(secrets.token_urlsafe(32), now + self._lifetime)
            return self._current

    def is_valid(self, token: str) -> bool:
        with self._lock:
            current = self._current
        return (
            current is not None
            and hmac.compare_digest(token.encode(), current.value.encode())
            and current.remaining(time.monotonic()) > 0
        )

    def expire(self) -> None:
        """End the active token now: it is refused from here on and the next request gets a new one."""
        with self._lock:
            if self._current is not None:
                self._current = IssuedToken(self._current.value, time.monotonic())
