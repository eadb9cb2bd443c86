"""How long Port asked a client to wait before trying again, read from an answer's headers.

``Retry-After`` wins when present, in seconds or as an HTTP date. Otherwise ``x-ratelimit-reset``,
whose unit differs between sources (research/port.md §3.5): Port's docs say UTC epoch seconds, the
Terraform provider reads seconds from now, and Ocean had to fix sleeping on epoch values (PR #2689).
A value above 10^9 (September 2001 as an epoch) is far too long to be a delay, so it is read as
an epoch time; anything smaller as seconds from now.

A hint that is missing, unreadable or not in the future gives ``None``, and the caller backs off
on its own: retrying at once on ``Retry-After: 0`` or a reset time already past (clock skew) could
hammer Port in a tight loop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

EPOCH_THRESHOLD = 1e9


def requested_wait(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds to wait according to ``headers`` (any case), or ``None`` if they do not say."""
    retry_after = _header(headers, "retry-after")
    if retry_after is not None:
        wait = retry_after_seconds(retry_after, now=now)
        if wait is not None:
            return wait
    reset = _header(headers, "x-ratelimit-reset")
    return ratelimit_reset_seconds(reset, now=now) if reset is not None else None


def retry_after_seconds(value: str, *, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: a number of seconds or an HTTP date."""
    seconds = _number(value)
    if seconds is None:
        try:
            moment = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000" parses without a zone; HTTP dates are always UTC
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    return seconds if seconds > 0 else None


def ratelimit_reset_seconds(value: str, *, now: float) -> float | None:
    """``x-ratelimit-reset`` as seconds from ``now``: an epoch time or a delay (see module doc)."""
    reset = _number(value)
    if reset is None:
        return None
    seconds = reset - now if reset > EPOCH_THRESHOLD else reset
    return seconds if seconds > 0 else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
