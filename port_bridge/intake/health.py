"""Liveness and readiness: is the process alive, and can it do its job right now.

Readiness asks the Kubernetes API for its version (the cheapest call there is) and checks the
action mappings are loaded; the answer is kept for a few seconds so a probe storm does not
become a Kubernetes API storm.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import kubernetes

from port_bridge.kube.client import is_unavailable


class Readiness:
    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        actions_loaded: int,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version = kubernetes.client.VersionApi(api_client)
        self._actions_loaded, self._cache_seconds, self._clock = actions_loaded, cache_seconds, clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._kubernetes: str = "unknown"

    def check(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            if self._checked_at is None or self._clock() - self._checked_at > self._cache_seconds:
                self._kubernetes = self._probe_kubernetes()
                self._checked_at = self._clock()
            kubernetes_state = self._kubernetes
        checks = {"kubernetes": kubernetes_state, "actions": self._actions_loaded}
        return kubernetes_state == "reachable" and self._actions_loaded > 0, checks

    def _probe_kubernetes(self) -> str:
        try:
            self._version.get_code(_request_timeout=2)
        except Exception as error:
            if is_unavailable(error):
                return f"unreachable: {type(error).__name__}"
            return f"error: {type(error).__name__}"
        return "reachable"
