"""Port's webhook signature: who may start a run.

Port signs ``"<x-port-timestamp>.<body>"`` with HMAC-SHA256 keyed by the organisation's client
secret and sends ``x-port-signature: v1,<base64 digest>`` (research/port.md §1.3). The check runs
on the raw bytes, compares in constant time and refuses timestamps outside a replay window.

Runs forwarded by Port's execution agent arrive re-serialised with spaces while the agent signed
the compact form (port.md §5.2); for those the compact re-serialisation is checked as well, and
the acceptance is logged at debug level so an operator can see which path verified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-port-signature"
TIMESTAMP_HEADER = "x-port-timestamp"
_EPOCH_SECONDS = re.compile(r"-?[0-9]{1,15}")  # ASCII digits only, and few enough to compare with a float


class SignatureRejected(Exception):
    """The call is not provably from Port; the message says why, without secrets."""


@dataclass(frozen=True)
class Verified:
    timestamp: int
    reserialized: bool  # verified only after compact re-serialisation (execution agent)


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    """The ``x-port-signature`` value Port sends for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    headers: Mapping[str, str], body: bytes, *, secret: str, now: float, window_seconds: int
) -> Verified:
    """Check the signature headers of a call; raise :class:`SignatureRejected` if it is not Port's."""
    if not secret:
        raise SignatureRejected("the bridge has no Port client secret configured")
    raw_signature, raw_timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if not raw_signature or not raw_timestamp:
        missing = [
            name
            for name, value in ((SIGNATURE_HEADER, raw_signature), (TIMESTAMP_HEADER, raw_timestamp))
            if not value
        ]
        raise SignatureRejected(f"missing {' and '.join(missing)} header")
    if not _EPOCH_SECONDS.fullmatch(raw_timestamp.strip()):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be epoch seconds")
    timestamp = int(raw_timestamp.strip())
    if abs(now - timestamp) > window_seconds:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} is outside the {window_seconds} s replay window")
    offered = [part.strip().encode() for part in raw_signature.split() if part.strip().startswith("v1,")]
    if not offered:
        raise SignatureRejected(f"{SIGNATURE_HEADER} must be 'v1,<base64 HMAC-SHA256>'")
    if _matches(offered, body, secret=secret, timestamp=timestamp):
        return Verified(timestamp, reserialized=False)
    for compact in _compact_forms(body):
        if _matches(offered, compact, secret=secret, timestamp=timestamp):
            log.debug(
                "signature verified on the compact re-serialisation of the body (execution-agent format)"
            )
            return Verified(timestamp, reserialized=True)
    raise SignatureRejected(
        "signature does not match: is PORT_CLIENT_SECRET the organisation's client secret?"
    )


def _matches(offered: list[bytes], body: bytes, *, secret: str, timestamp: int) -> bool:
    expected = sign(body, secret=secret, timestamp=timestamp).encode()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def _compact_forms(body: bytes) -> list[bytes]:
    """The body as JS ``JSON.stringify`` and as the agent's ASCII-escaping serialiser would write it.

    Bodies nested too deep for the parser, or holding text that UTF-8 cannot encode (a lone
    surrogate), have no such form: only their raw bytes can verify.
    """
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return []
    forms = []
    for ensure_ascii in (False, True):
        try:
            forms.append(json.dumps(parsed, separators=(",", ":"), ensure_ascii=ensure_ascii).encode())
        except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
            continue
    return [form for form in dict.fromkeys(forms) if form != body]
