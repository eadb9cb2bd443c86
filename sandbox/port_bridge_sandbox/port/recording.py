"""What clients sent to the emulator and what they got, kept for tests to assert on.

Every request is recorded, including refused, faulted and dropped ones, before its answer leaves
the server, so a client that has its response can already find the call recorded. Secrets never
reach a recording: headers are not kept and the values of ``clientSecret`` and ``accessToken``
are replaced.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTED = "<redacted>"
_SECRET_KEYS = frozenset({"clientSecret", "accessToken"})


@dataclass(frozen=True)
class RecordedCall:
    """One request: ``status`` is ``None`` when the connection was dropped instead of answered."""

    method: str
    path: str
    query: Mapping[str, str | list[str]]
    json: Any
    status: int | None
    response: Any
    trace_id: str
    violation: str | None = None
    fault: str | None = None
    at: float = field(default_factory=time.time)  # when it was answered (epoch seconds)


@dataclass(frozen=True)
class SpecViolation:
    """A request Port's OpenAPI spec does not allow (unknown route, or a body/query off-schema)."""

    method: str
    path: str
    message: str
    trace_id: str


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []

    def add(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def matching(self, method: str | None, path: str) -> list[RecordedCall]:
        """Calls with this method (any if ``None``) whose path matches the regex ``path`` in full."""
        pattern = re.compile(path)
        return [
            call
            for call in self.calls()
            if (method is None or call.method == method.upper()) and pattern.fullmatch(call.path)
        ]

    def violations(self) -> list[SpecViolation]:
        return [
            SpecViolation(call.method, call.path, call.violation, call.trace_id)
            for call in self.calls()
            if call.violation is not None
        ]


def redact(value: Any) -> Any:
    """``value`` with the values of secret-bearing keys replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if k in _SECRET_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def flat_query(args: Mapping[str, list[str]]) -> dict[str, str | list[str]]:
    return {name: values[0] if len(values) == 1 else list(values) for name, values in args.items()}
