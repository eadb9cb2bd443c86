"""The Promises installed in the cluster, read on demand and kept briefly.

Intake needs a Promise's request API (group, version, plural, schema) for every run; reading
the Promise each time would add a Kubernetes round trip to every webhook, so answers are kept
for a short time (a Promise changes when the platform team upgrades it, not per request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kubernetes.client import ApiException

from port_bridge.kratix.promise import PROMISE_GROUP, PROMISE_PLURAL, PROMISE_VERSION, PromiseApi
from port_bridge.kube.objects import KubeObjects, Resource

PROMISES = Resource(PROMISE_GROUP, PROMISE_VERSION, PROMISE_PLURAL, namespaced=False)


class PromiseNotInstalled(LookupError):
    """No Promise of that name exists in the cluster."""


class PromiseCatalog:
    def __init__(
        self, objects: KubeObjects, *, ttl_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ):
        self._objects, self._ttl, self._clock = objects, ttl_seconds, clock
        self._cache: dict[str, tuple[float, PromiseApi]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> PromiseApi:
        """The Promise's request API; raises :class:`PromiseNotInstalled` or the client's errors."""
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            promise = self._objects.get(PROMISES, name)
        except ApiException as error:
            if error.status == 404:
                raise PromiseNotInstalled(f"Promise {name!r} is not installed in the cluster") from None
            raise
        api = PromiseApi.from_promise(promise)
        with self._lock:
            self._cache[name] = (self._clock(), api)
        return api
