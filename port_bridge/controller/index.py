"""Which runs follow which Kratix request, so a change to a request wakes exactly its runs.

A run may follow several requests (an action mapping to several), and a request may be followed
by several runs over time (a create, then a change). Finished runs follow nothing.
"""

from __future__ import annotations

import threading

from port_bridge.actionrun.model import ActionRun, MalformedActionRun
from port_bridge.kube.objects import Object

RequestKey = tuple[str, str, str, str]  # group, plural, namespace, name


class RequestIndex:
    def __init__(self) -> None:
        self._runs: dict[RequestKey, set[str]] = {}  # the runs following each request
        self._followed: dict[str, set[RequestKey]] = {}  # the requests each run follows
        self._lock = threading.Lock()

    def update(self, obj: Object, *, deleted: bool) -> set[RequestKey]:
        """Take an ActionRun as the watch saw it (or its deletion); the requests it no longer follows."""
        name = obj["metadata"]["name"]
        keys: set[RequestKey] = set()
        if not deleted:
            try:
                run = ActionRun.from_object(obj)
            except MalformedActionRun:
                run = None  # reconciling it closes its run; nothing of it to follow
            if run is not None and not run.status.reported.terminal:
                keys = {
                    (request.resource.group, request.plural, request.namespace, request.name)
                    for request in run.spec.requests
                }
        with self._lock:
            released = self._followed.get(name, set()) - keys
            for key in released:
                self._runs.get(key, set()).discard(name)
            for key in keys:
                self._runs.setdefault(key, set()).add(name)
            if keys:
                self._followed[name] = keys
            else:
                self._followed.pop(name, None)
        return released

    def runs_following(self, key: RequestKey) -> list[str]:
        with self._lock:
            return sorted(self._runs.get(key, ()))
