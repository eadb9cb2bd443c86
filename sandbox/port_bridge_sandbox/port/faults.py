"""Failures injected on demand, so clients can be tested against a Port that misbehaves.

Each rule matches requests by method and a regular expression searched in the path, applies to
the next ``times`` matching requests (or every one until removed when ``times`` is ``None``), and
does one thing: answer 429 with Port's rate-limit headers, answer a 5xx, refuse with a 4xx, add
latency, or drop the connection without an answer. A "Port is down" switch answers 503 to
everything until cleared.
Rules are checked in the order they were added; latency rules add up and let the request go on,
the first matching rule of another kind decides the answer.

Port does not document ``Retry-After`` on 429 and the unit of ``x-ratelimit-reset`` differs
between sources (research/port.md §3.5), so both are options here.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResetFormat = Literal["epoch", "seconds"]


@dataclass(frozen=True)
class FaultAnswer:
    """What a faulted request gets: a status with body and headers, or (``drop``) nothing at all."""

    kind: str
    status: int = 0
    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def drop(self) -> bool:
        return self.kind == "drop"


@dataclass
class FaultRule:
    """One injected fault; ``hits`` counts the requests it has affected so far.

    ``after`` lets that many matching requests through first (e.g. ``after=1`` on run PATCHes hits
    the terminal status, not the announcement before it).
    """

    kind: str
    method: str | None
    path: re.Pattern[str] | None
    times: int | None
    answer: Callable[[], FaultAnswer] | None = None
    delay: float = 0.0
    hits: int = 0
    after: int = 0
    passed: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class FaultDecision:
    delay: float = 0.0
    answer: FaultAnswer | None = None


class Faults:
    """The fault rules of one emulator; safe to change from a test while requests are served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._down = False

    def rate_limit(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        retry_after: float | None = 1,
        reset_after: float = 1.0,
        reset_format: ResetFormat = "epoch",
        limit: int = 15000,
        period: int = 300,
    ) -> FaultRule:
        """429 with ``x-ratelimit-*`` headers; ``reset_format`` says how ``x-ratelimit-reset`` reads."""

        def answer() -> FaultAnswer:
            reset = reset_after if reset_format == "seconds" else time.time() + reset_after
            headers = {
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": _number(reset if reset_format == "seconds" else int(reset)),
                "x-ratelimit-period": str(period),
            }
            if retry_after is not None:
                headers["Retry-After"] = _number(retry_after)
            body = {"ok": False, "error": "rate_limit_exceeded", "message": "Too many requests (emulated)"}
            return FaultAnswer("rate_limit", 429, body, headers)

        return self._add(FaultRule("rate_limit", method, _compile(path), times, answer=answer))

    def server_error(
        self,
        status: int = 500,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        message: str = "Internal server error (emulated)",
    ) -> FaultRule:
        if not 500 <= status <= 599:
            raise ValueError(f"server_error takes a 5xx status, not {status}")
        body = {"ok": False, "error": "internal_error", "message": message}
        return self._add(
            FaultRule(
                "server_error",
                method,
                _compile(path),
                times,
                answer=lambda: FaultAnswer("server_error", status, body),
            )
        )

    def refuse(
        self,
        status: int = 422,
        *,
        error: str = "invalid_request",
        message: str = "Refused (emulated)",
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """A 4xx refusal in Port's ``{ok: false, error, message}`` shape (not 401, 408 or 429)."""
        if not 400 <= status <= 499 or status in (401, 408, 429):
            raise ValueError(f"refuse takes a 4xx status other than 401, 408 and 429, not {status}")
        body = {"ok": False, "error": error, "message": message}
        return self._add(
            FaultRule(
                "refuse", method, _compile(path), times, answer=lambda: FaultAnswer("refuse", status, body)
            )
        )

    def latency(
        self, seconds: float, *, method: str | None = None, path: str | None = None, times: int | None = 1
    ) -> FaultRule:
        return self._add(FaultRule("latency", method, _compile(path), times, delay=seconds))

    def drop_connection(
        self, *, method: str | None = None, path: str | None = None, times: int | None = 1
    ) -> FaultRule:
        """Close the connection without answering: the client sees a connection error."""
        return self._add(FaultRule("drop", method, _compile(path), times, answer=lambda: FaultAnswer("drop")))

    def port_down(self) -> None:
        """Answer 503 to every request until :meth:`port_up` or :meth:`clear`."""
        with self._lock:
            self._down = True

    def port_up(self) -> None:
        with self._lock:
            self._down = False

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]

    def clear(self) -> None:
        """Remove every rule and bring Port back up."""
        with self._lock:
            self._rules.clear()
            self._down = False

    def decide(self, method: str, path: str) -> FaultDecision:
        """What the faults do to this request; counts it against the rules it matches."""
        with self._lock:
            if self._down:
                body = {"ok": False, "error": "service_unavailable", "message": "Port is down (emulated)"}
                return FaultDecision(answer=FaultAnswer("port_down", 503, body))
            delay = 0.0
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.passed < rule.after:
                    rule.passed += 1
                    continue
                rule.hits += 1
                if rule.answer is None:
                    delay += rule.delay
                else:
                    return FaultDecision(delay=delay, answer=rule.answer())
            return FaultDecision(delay=delay)

    def _add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule


def _compile(path: str | None) -> re.Pattern[str] | None:
    return re.compile(path) if path is not None else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")
