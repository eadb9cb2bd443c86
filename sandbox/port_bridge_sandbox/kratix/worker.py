"""The simulator's one worker thread, and the watches that feed it.

Kratix's controllers change the cluster one write at a time; so does the simulator, by running
every step on one thread in the order they fall due. Watch threads and pipeline processes only
hand it steps. A step that meets a conflict (409) runs again; one that finds its object gone
(404) has nothing to do; any other error is kept in :attr:`StepWorker.errors` for tests to fail on.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes.client import ApiException

from port_bridge.kube.objects import KubeObjects, Resource

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]  # (event type, object)


@dataclass(order=True)
class _Task:
    due: float
    sequence: int
    run: Callable[[], None] = field(compare=False)


class StepWorker:
    def __init__(self, objects: KubeObjects, *, watch_timeout: int = 1) -> None:
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._objects, self._watch_timeout = objects, watch_timeout
        self._tasks: list[_Task] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="kratix-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    def submit(self, run: Callable[[], None], *, delay: float = 0.0) -> None:
        with self._wake:
            heapq.heappush(self._tasks, _Task(time.monotonic() + delay, next(self._sequence), run))
            self._wake.notify()

    def record(self, error: BaseException) -> None:
        if not self.stopping.is_set():
            log.exception("kratix simulator step failed", exc_info=error)
            self.errors.append(error)

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self.stopping.is_set() and (
                    not self._tasks or self._tasks[0].due > time.monotonic()
                ):
                    self._wake.wait(None if not self._tasks else self._tasks[0].due - time.monotonic())
                if self.stopping.is_set():
                    return
                task = heapq.heappop(self._tasks)
            try:
                task.run()
            except ApiException as error:
                if error.status == 409:
                    self.submit(task.run, delay=0.01)
                elif error.status == 404:  # usually the request went away under us: nothing to do
                    log.debug("kratix simulator step found nothing: %s", error.body)
                else:
                    self.record(error)
            except Exception as error:
                self.record(error)

    def watch(self, name: str, resource: Resource, handle: Handler) -> threading.Event:
        """Hand every change of ``resource`` to ``handle`` on the worker until the returned event is set."""
        stop = threading.Event()

        def deliver(kind: str, obj: dict[str, Any]) -> Callable[[], None]:
            return lambda: handle(kind, obj)

        def watch() -> None:
            resource_version: str | None = None
            while not (stop.is_set() or self.stopping.is_set()):
                try:
                    for event in self._objects.watch(
                        resource, resource_version=resource_version, timeout_seconds=self._watch_timeout
                    ):
                        obj = event["object"]
                        resource_version = obj["metadata"]["resourceVersion"]
                        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            self.submit(deliver(event["type"], obj))
                        if stop.is_set():
                            return
                except ApiException as error:
                    if error.status == 410:
                        resource_version = None
                    else:
                        time.sleep(0.05)
                except (
                    urllib3.exceptions.HTTPError,
                    OSError,
                ):  # the API server went away; retry unless stopping
                    time.sleep(0.05)
                except Exception as error:
                    self.record(error)
                    return

        threading.Thread(target=watch, name=f"kratix-watch-{name}", daemon=True).start()
        return stop
