"""One watch per kind that survives what API servers do: expired versions, restarts, silence."""

from __future__ import annotations

import threading
from typing import Any

import kubernetes

from port_bridge.controller.watching import ObjectCache, Watcher
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.sandbox.kube import KubeApiServer
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
            kube.drop_connections()
            objects.create(JOBS, job(f"after-cut-{round_}"), namespace="default")
            wait_for(
                lambda round_=round_: cache.get(("default", f"after-cut-{round_}")) is not None, timeout=5
            )
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
