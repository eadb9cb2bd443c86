"""Liveness and readiness: is the process alive, and can it do its job right now.

Readiness asks the Kubernetes API for its version (the cheapest call there is) and checks the
action mappings are loaded; the answer is kept for a few seconds so a probe storm does not
become a Kubernetes API storm. It also shows how Port answered the credentials: a Port that does
not answer yet leaves intake ready (runs are stored and reported later), credentials Port refused
do not (Port signs its webhooks with the same secret, so none would verify).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import kubernetes

from port_bridge.kube.client import describe_unavailable, is_unavailable, server_url
from port_bridge.startup import LoginState, PortLogin


class Readiness:
    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        actions_loaded: int,
        port_login: PortLogin | None = None,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version = kubernetes.client.VersionApi(api_client)
        self._url = server_url(api_client)
        self._actions_loaded, self._port_login = actions_loaded, port_login
        self._cache_seconds, self._clock = cache_seconds, clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._kubernetes: str = "unknown"

    def check(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            if self._checked_at is None or self._clock() - self._checked_at > self._cache_seconds:
                self._kubernetes = self._probe_kubernetes()
                self._checked_at = self._clock()
            kubernetes_state = self._kubernetes
        checks: dict[str, Any] = {"kubernetes": kubernetes_state, "actions": self._actions_loaded}
        ready = kubernetes_state == "reachable" and self._actions_loaded > 0
        if self._port_login is not None:
            checks["port"] = self._port_login.describe()
            ready = ready and self._port_login.state is not LoginState.REFUSED
        return ready, checks

    def _probe_kubernetes(self) -> str:
        try:
            self._version.get_code(_request_timeout=2)
        except Exception as error:
            if is_unavailable(error):
                return f"unreachable: {self._url} ({describe_unavailable(error)})"
            return f"error: {self._url} {describe_unavailable(error)}"
        return "reachable"
