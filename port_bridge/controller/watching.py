"""Watching one kind of object for as long as the controller runs, and caching what it sees.

One watch per kind, however many runs are in flight. The watch resumes from the last
resourceVersion it saw, re-lists when the API server says that version is gone (410), ends each
stream server-side after ``timeout_seconds`` and guards the socket with a client timeout (a
network drop must not hang it), and reconnects with capped exponential backoff when the API
server is away (research/peers.md §4.3, kopf's watching). Stopping closes the open stream at once
rather than waiting for its next event, and joins the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client import ApiException

from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects, Object, Resource, WatchStream

log = logging.getLogger(__name__)
ObjectKey = tuple[str, str]  # namespace ("" for cluster-scoped), name


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace") or "", metadata.get("name", "")


class ObjectCache:
    """The latest state of every watched object, by (namespace, name)."""

    def __init__(self) -> None:
        self._objects: dict[ObjectKey, Object] = {}
        self._lock = threading.Lock()
        self.synced = threading.Event()

    def get(self, key: ObjectKey) -> Object | None:
        with self._lock:
            return self._objects.get(key)

    def values(self) -> list[Object]:
        with self._lock:
            return list(self._objects.values())

    def put(self, obj: Object) -> bool:
        """Keep ``obj`` unless the cache already holds it or a newer version; whether it was new."""
        key = object_key(obj)
        with self._lock:
            current = self._objects.get(key)
            if current is None or _version(obj) > _version(current) or _uid(obj) != _uid(current):
                self._objects[key] = obj
                return True
            return False

    def remove(self, obj: Object) -> None:
        with self._lock:
            current = self._objects.get(object_key(obj))
            if current is not None and _uid(current) == _uid(obj):
                del self._objects[object_key(obj)]

    def replace(self, objects: list[Object]) -> None:
        """Take a fresh list, keeping any version written since the list was taken (newer, same uid)."""
        with self._lock:
            fresh: dict[ObjectKey, Object] = {}
            for obj in objects:
                key, current = object_key(obj), self._objects.get(object_key(obj))
                if current is not None and _uid(current) == _uid(obj) and _version(current) > _version(obj):
                    fresh[key] = current
                else:
                    fresh[key] = obj
            self._objects = fresh
        self.synced.set()


def _version(obj: Mapping[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def _uid(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


class Watcher:
    """Keeps ``cache`` current for one resource; ``on_change(obj, deleted)`` hears of every change.

    :meth:`stop` closes the open watch stream and joins the thread: nothing of a watcher outlives
    its stop, however often a controller starts and stops (each leadership term has its own).
    """

    def __init__(
        self,
        objects: KubeObjects,
        resource: Resource,
        *,
        cache: ObjectCache,
        on_change: Callable[[Object, bool], None],
        namespace: str | None = None,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
        socket_timeout: float = 330.0,
        max_backoff: float = 30.0,
    ) -> None:
        self._objects, self._resource, self._cache, self._on_change = objects, resource, cache, on_change
        self._namespace, self._selector = namespace, label_selector
        self._timeout, self._socket_timeout, self._max_backoff = timeout_seconds, socket_timeout, max_backoff
        self._stop = threading.Event()
        self._lock = threading.Lock()  # orders stop() against the opening of a stream
        self._open_stream: WatchStream | None = None
        self._thread = threading.Thread(target=self._run, name=f"watch-{resource.plural}", daemon=True)
        self.restarts = 0  # reconnects after errors, for metrics and tests
        self.relists = 0

    def start(self) -> Watcher:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has been called."""
        return self._stop.is_set()

    def stop(self, *, timeout: float = 5.0) -> bool:
        """Close the open watch stream and wait up to ``timeout`` seconds for the thread to end.

        Returns whether it ended. It can only be late while a list request or ``on_change`` is
        under way: a list ends within the client's request timeout. ``timeout=0`` only asks it to
        stop (to stop several watchers at once, then join each).
        """
        with self._lock:
            self._stop.set()
            stream = self._open_stream
        if stream is not None:
            stream.close()
        if self._thread.ident is None:  # never started
            return True
        self._thread.join(timeout)
        if self._thread.is_alive() and timeout > 0:
            log.warning("the watch of %s did not stop within %.1fs", self._resource.plural, timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        resource_version: str | None = None
        backoff = 0.0
        while not self._stop.is_set():
            try:
                if resource_version is None:
                    resource_version = self._relist()
                resource_version = self._stream(resource_version)
                backoff = 0.0
            except ApiException as error:
                if error.status == 410:
                    log.info("watch of %s expired; re-listing", self._resource.plural)
                    resource_version = None
                    continue
                backoff = self._pause(backoff, error)
            except Exception as error:
                if not is_unavailable(error):
                    log.exception("watch of %s failed unexpectedly", self._resource.plural)
                backoff = self._pause(backoff, error)

    def _relist(self) -> str:
        listed = self._objects.list(self._resource, namespace=self._namespace, label_selector=self._selector)
        items: list[Object] = listed.get("items") or []
        previous = {object_key(obj) for obj in self._cache.values()}
        self._cache.replace(items)
        self.relists += 1
        for obj in items:
            self._on_change(obj, False)
        for key in previous - {object_key(obj) for obj in items}:  # deleted while we were not watching
            self._on_change({"metadata": {"namespace": key[0], "name": key[1]}}, True)
        return str(listed["metadata"]["resourceVersion"])

    def _stream(self, resource_version: str) -> str:
        stream = self._objects.watch(
            self._resource,
            namespace=self._namespace,
            resource_version=resource_version,
            timeout_seconds=self._timeout,
            request_timeout=self._socket_timeout,
            label_selector=self._selector,
        )
        with self._lock:
            if self._stop.is_set():
                return resource_version
            self._open_stream = stream
        try:
            for event in stream:
                if self._stop.is_set():
                    break
                obj: Object = event["object"]
                resource_version = str((obj.get("metadata") or {}).get("resourceVersion") or resource_version)
                if event["type"] == "DELETED":
                    self._cache.remove(obj)
                    self._on_change(obj, True)
                # Versions already known are not heard of again: they are the echoes of our own writes.
                elif event["type"] in ("ADDED", "MODIFIED") and self._cache.put(obj):
                    self._on_change(obj, False)
        finally:
            with self._lock:
                self._open_stream = None
            stream.close()
        return resource_version

    def _pause(self, backoff: float, error: BaseException) -> float:
        if self._stop.is_set():
            return backoff  # shutting down: the API server going away is expected
        backoff = min(max(backoff * 2, 0.1), self._max_backoff)
        self.restarts += 1
        log.warning(
            "watch of %s interrupted (%s); reconnecting in %.1fs",
            self._resource.plural,
            type(error).__name__,
            backoff,
        )
        self._stop.wait(backoff)
        return backoff
