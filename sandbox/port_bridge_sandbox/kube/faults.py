"""Failures injected on demand into the Kubernetes API emulator: refusals and an unavailable server.

A rule matches requests by verb (``create``, ``get``, ``list``, ``watch``, ``update``, ``patch``,
``delete``), resource plural and subresource, applies to the next ``times`` of them (or every one
until cleared when ``times`` is ``None``) and answers with a Kubernetes ``Status`` error instead of
serving the request. Tests use it to show what the bridge does when the API server forbids a verb
(403, RBAC), refuses an object (422) or is overloaded (503, 429).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from port_bridge_sandbox.kube.errors import ApiError
from port_bridge_sandbox.kube.paths import ResourcePath


@dataclass
class KubeFault:
    verb: str | None
    plural: str | None
    subresource: str | None
    times: int | None
    error: ApiError
    hits: int = 0

    def matches(self, verb: str, target: ResourcePath) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (
            (self.verb is None or self.verb == verb)
            and (self.plural is None or self.plural == target.plural)
            and (self.subresource is None or self.subresource == target.subresource)
        )


class KubeFaults:
    """The fault rules of one emulator; safe to change from a test while requests are served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[KubeFault] = []

    def refuse(
        self,
        code: int = 403,
        reason: str = "Forbidden",
        message: str = "forbidden (emulated)",
        *,
        verb: str | None = None,
        plural: str | None = None,
        subresource: str | None = None,
        times: int | None = 1,
    ) -> KubeFault:
        """Answer matching requests with ``code`` and ``reason`` (any status, 4xx or 5xx)."""
        rule = KubeFault(verb, plural, subresource, times, ApiError(code, reason, message))
        with self._lock:
            self._rules.append(rule)
        return rule

    def unavailable(
        self, *, verb: str | None = None, plural: str | None = None, times: int | None = 1
    ) -> KubeFault:
        """503 ServiceUnavailable, as an API server answers when etcd or it is overloaded."""
        return self.refuse(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request (emulated)",
            verb=verb,
            plural=plural,
            times=times,
        )

    def remove(self, rule: KubeFault) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def decide(self, verb: str, target: ResourcePath) -> ApiError | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(verb, target):
                    rule.hits += 1
                    return rule.error
        return None


def verb_of(method: str, target: ResourcePath, *, watch: bool) -> str:
    """The Kubernetes verb (as RBAC names it) of a request."""
    if method == "GET":
        return "watch" if watch else ("get" if target.name is not None else "list")
    return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        method, method.lower()
    )
