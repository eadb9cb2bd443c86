"""Intake's view of live Promises: a run of a generated action is served from the Promise itself.

Intake stays stateless: it keeps no list of live Promises and hears of none. When a run names an
action no file defines and whose identifier names a Promise (``create-<promise>``, ...), intake
reads that Promise, and if it is live generates its actions as the controller does. The answer is
kept for ``ttl_seconds`` (a Promise's change reaches every replica within that time) so a burst of
runs reads the Promise once. What the action files define is served as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping

from kubernetes.client import ApiException

from port_bridge.kratix.catalog import PROMISES
from port_bridge.kube.objects import KubeObjects
from port_bridge.live.promises import ActionRegistry, GenerateError, is_live, live_promise, promise_of
from port_bridge.mapping.actions import ActionConfig


class LiveActions(Mapping[str, ActionConfig]):
    """The actions intake serves: the files', and those of live Promises, looked up on demand."""

    def __init__(
        self,
        registry: ActionRegistry,
        objects: KubeObjects,
        *,
        ttl_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry, self._objects, self._ttl, self._clock = registry, objects, ttl_seconds, clock
        self._checked: dict[str, float] = {}  # when each Promise was last read
        self._lock = threading.Lock()

    def __getitem__(self, identifier: str) -> ActionConfig:
        found = self.get(identifier)
        if found is None:
            raise KeyError(identifier)
        return found

    def get(self, identifier: str, default: ActionConfig | None = None) -> ActionConfig | None:  # type: ignore[override]
        """The action, looking its Promise up when the files do not define it; API errors propagate."""
        if identifier in self._registry.files:
            return self._registry.files[identifier]
        promise = promise_of(identifier)
        if promise is None:
            return default
        self._refresh(promise)
        live = self._registry.live(promise)
        return live.actions.get(identifier, default) if live is not None else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __len__(self) -> int:
        return len(self._registry)

    def _refresh(self, promise: str) -> None:
        now = self._clock()
        with self._lock:
            fresh = now - self._checked.get(promise, float("-inf")) < self._ttl
        if fresh:
            return
        try:
            found = self._objects.get(PROMISES, promise)
        except ApiException as error:
            if error.status != 404:
                raise
            found = None
        with self._lock:
            self._checked[promise] = now
        if found is None or not is_live(found):
            self._registry.drop(promise)
            return
        current = self._registry.live(promise)
        if current is not None and current.version == str(
            (found.get("metadata") or {}).get("resourceVersion")
        ):
            return
        try:
            self._registry.put(live_promise(found))
        except GenerateError:
            self._registry.drop(promise)  # a Promise whose API cannot be used serves no action
