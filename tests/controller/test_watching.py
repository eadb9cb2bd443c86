"""One watch per kind that survives what API servers do: expired versions, restarts, silence."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import kubernetes

from port_bridge.controller.watching import ObjectCache, Watcher
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.kube import KubeApiServer
from tests.conftest import RunningController
from tests.waiting import wait_for

JOBS = Resource("batch", "v1", "jobs")


def job(name: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"}}


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def __call__(self, obj: dict[str, Any], deleted: bool) -> None:
        with self.lock:
            self.seen.append((obj["metadata"]["name"], deleted))


def client_for(server: KubeApiServer) -> kubernetes.client.ApiClient:
    configuration = kubernetes.client.Configuration()
    configuration.host = server.url
    return kubernetes.client.ApiClient(configuration)


def cached(cache: ObjectCache, name: str) -> Callable[[], bool]:
    """Whether the job ``name`` in ``default`` has reached ``cache``."""
    return lambda: cache.get(("default", name)) is not None


def open_watches(kube: KubeApiServer) -> int:
    """Watches the API server is serving to a client that is still connected."""
    return kube.call(kube.emulator.open_watches)


def test_changes_reach_the_cache_and_the_listener(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    objects.create(JOBS, job("before"), namespace="default")
    cache, heard = ObjectCache(), Recorder()
    watcher = Watcher(objects, JOBS, cache=cache, on_change=heard, timeout_seconds=1).start()
    try:
        wait_for(cache.synced.is_set)
        objects.create(JOBS, job("after"), namespace="default")
        objects.delete(JOBS, "before", namespace="default")
        wait_for(lambda: ("before", True) in heard.seen)
        assert [name for name, _ in heard.seen[:2]] == ["before", "after"]
        assert cache.get(("default", "before")) is None and cache.get(("default", "after")) is not None
        assert watcher.relists == 1  # resumed from its resourceVersion after each 1 s stream, never re-listed
    finally:
        watcher.stop()


def test_an_expired_resource_version_means_a_relist(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    cache, heard, busy = ObjectCache(), Recorder(), threading.Event()
    busy.set()

    def slow_listener(obj: dict[str, Any], deleted: bool) -> None:
        busy.wait()
        heard(obj, deleted)

    watcher = Watcher(objects, JOBS, cache=cache, on_change=slow_listener, timeout_seconds=30).start()
    try:
        wait_for(cache.synced.is_set)
        objects.create(JOBS, job("a"), namespace="default")
        wait_for(lambda: ("a", False) in heard.seen)
        busy.clear()  # the watcher falls behind...
        objects.create(JOBS, job("b"), namespace="default")
        kube.drop_connections()  # ...its stream is cut...
        objects.create(JOBS, job("c"), namespace="default")
        kube.call(kube.emulator.compact_history)  # ...and the history it would resume from is gone
        busy.set()
        wait_for(lambda: cache.get(("default", "c")) is not None, timeout=5)
        assert watcher.relists == 2
    finally:
        watcher.stop()


def test_the_watch_comes_back_after_its_connection_is_cut(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    cache, heard = ObjectCache(), Recorder()
    watcher = Watcher(
        objects, JOBS, cache=cache, on_change=heard, timeout_seconds=30, max_backoff=0.2
    ).start()
    try:
        wait_for(cache.synced.is_set)
        for round_ in range(3):
            wait_for(lambda: open_watches(kube) == 1, what="the watch to be open")  # not just listed
            kube.drop_connections()
            objects.create(JOBS, job(f"after-cut-{round_}"), namespace="default")
            wait_for(cached(cache, f"after-cut-{round_}"), timeout=5)
        assert watcher.restarts >= 3
        assert watcher.relists == 1  # each reconnect resumed from where it was
    finally:
        watcher.stop()


def test_a_relist_keeps_versions_written_after_the_list_was_taken() -> None:
    cache = ObjectCache()

    def obj(name: str, uid: str, version: str) -> dict[str, Any]:
        return {"metadata": {"namespace": "ns", "name": name, "uid": uid, "resourceVersion": version}}

    written, listed, replaced = obj("a", "u1", "9"), obj("a", "u1", "7"), obj("b", "u2", "3")
    cache.put(written)
    cache.put(obj("b", "u-old", "5"))
    cache.replace([listed, replaced])
    assert cache.get(("ns", "a")) == written
    assert cache.get(("ns", "b")) == replaced  # a different object with the same name: the list wins


def watch_threads(started_before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in started_before and t.name.startswith("watch-")]


def test_stop_closes_the_open_stream_and_ends_the_thread(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    before = set(threading.enumerate())
    cache = ObjectCache()
    # A long server-side timeout and socket timeout: only closing the stream can end the read.
    watcher = Watcher(objects, JOBS, cache=cache, on_change=Recorder(), timeout_seconds=300).start()
    wait_for(cache.synced.is_set)
    wait_for(lambda: open_watches(kube) == 1, what="the watch to be open")
    assert watcher.stop(timeout=5) is True
    assert watch_threads(before) == []
    wait_for(lambda: open_watches(kube) == 0, what="the API server to see the watch closed")


def test_leadership_flaps_leave_no_watch_behind(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    before = set(threading.enumerate())
    for term in range(5):
        caches = [ObjectCache(), ObjectCache()]
        watchers = [
            Watcher(
                objects, JOBS, cache=cache, on_change=Recorder(), namespace=namespace, timeout_seconds=300
            )
            for cache, namespace in zip(caches, ("default", None), strict=True)
        ]
        for watcher in watchers:
            watcher.start()
        objects.create(JOBS, job(f"term-{term}"), namespace="default")
        for cache in caches:
            wait_for(cached(cache, f"term-{term}"))
        wait_for(lambda: open_watches(kube) == 2, what="both watches to be open")
        assert all(watcher.stop(timeout=5) for watcher in watchers)
        assert watch_threads(before) == []
    wait_for(lambda: open_watches(kube) == 0, what="the API server to see every watch closed")


def test_stop_before_the_stream_opens_still_ends_the_thread(kube: KubeApiServer) -> None:
    objects = KubeObjects(client_for(kube))
    listed, release = threading.Event(), threading.Event()

    def held_listener(obj: dict[str, Any], deleted: bool) -> None:
        listed.set()
        release.wait()  # holds the watcher between its list and its watch

    objects.create(JOBS, job("held"), namespace="default")
    watcher = Watcher(objects, JOBS, cache=ObjectCache(), on_change=held_listener, timeout_seconds=300)
    watcher.start()
    wait_for(listed.is_set)
    stopping = threading.Thread(target=watcher.stop, kwargs={"timeout": 5})
    stopping.start()
    wait_for(lambda: watcher.stopping, what="stop to be asked")
    release.set()
    stopping.join(5)
    assert not watcher.running
    assert kube.call(lambda: kube.emulator.requests_served["GET", "jobs"]) == 1  # the list; no watch


def test_a_watcher_never_started_stops_at_once(kube: KubeApiServer) -> None:
    watcher = Watcher(KubeObjects(client_for(kube)), JOBS, cache=ObjectCache(), on_change=Recorder())
    assert watcher.stop(timeout=1) is True


def test_a_stopped_controller_leaves_no_watch_open(
    cluster: KubeApiServer, start_controller: Callable[..., RunningController]
) -> None:
    before = set(threading.enumerate())
    controller = start_controller()
    wait_for(lambda: controller.controllers)
    # One watch of ActionRuns, and one of the requests of each Promise an action maps to.
    wait_for(lambda: open_watches(cluster) == controller.controllers[0].watches >= 2, what="every watch")
    controller.stop()
    assert watch_threads(before) == []
    wait_for(lambda: open_watches(cluster) == 0, what="the API server to see every watch closed")
