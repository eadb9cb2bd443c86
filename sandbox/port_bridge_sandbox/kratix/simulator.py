"""A stand-in for Kratix's controllers: it writes what Kratix writes, when Kratix would write it.

It talks to the Kubernetes API (the emulator, in tests and the sandbox) through the official
client like any controller: it watches Promises and the requests of each Promise's API, labels
and finalizes new requests, runs their configure pipelines as Jobs that succeed, fail, hang or
suspend, schedules Works, re-runs finished workflows on an interval, and runs deletion through
its finalizers. The status it writes at each step comes from :mod:`.eras`.

One worker thread applies every step in order, so the simulated cluster changes one write at a
time, as it does under Kratix; watch threads only feed it events.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import kubernetes
import urllib3
from kubernetes.client import ApiException

from port_bridge.kratix.promise import (
    PROMISE_GROUP,
    PROMISE_PLURAL,
    PROMISE_VERSION,
    PromiseApi,
    PromiseWithoutApi,
)
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.kratix import eras
from port_bridge_sandbox.kratix.behaviour import Behaviour, Rule, Rules, Timings, pipeline_status
from port_bridge_sandbox.kratix.eras import Era

log = logging.getLogger(__name__)

PROMISE_NAME_LABEL = "kratix.io/promise-name"
PAUSED_LABEL = "kratix.io/paused"
SUSPENDED_LABEL = "kratix.io/workflow-suspended"
_FINALIZERS = ("kratix.io/work-cleanup", "kratix.io/workflows-cleanup", "kratix.io/delete-workflows")
FINALIZERS = {
    Era.LEGACY: _FINALIZERS,
    Era.Y2024: _FINALIZERS,
    Era.CURRENT: (*_FINALIZERS, "kratix.io/resource-binding-cleanup"),
}
PROMISES = Resource(PROMISE_GROUP, PROMISE_VERSION, PROMISE_PLURAL, namespaced=False)
JOBS = Resource("batch", "v1", "jobs")

RequestKey = tuple[str, str, str]  # promise, namespace, name


@dataclass
class _Workflow:
    """Where one request's configure (or delete) workflow stands; Kratix keeps this in Jobs."""

    generation: int
    token: int
    stage: str = "pickup"  # pickup, running, works, done, failed, hung, suspended, deleting, delete-failed
    index: int = 0
    job: str | None = None


@dataclass(order=True)
class _Task:
    due: float
    sequence: int
    run: Callable[[], None] = field(compare=False)


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KratixSimulator:
    """Simulated Kratix for one cluster; ``era`` picks the release whose status format it writes."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        era: Era = Era.CURRENT,
        timings: Timings | None = None,
        watch_timeout: int = 1,
    ) -> None:
        self.era, self.timings = era, timings or Timings()
        self.rules = Rules()
        self.errors: list[BaseException] = []
        # When (``time.time()``) each request (promise, namespace, name) last finished its workflow:
        # taken as soon as the write that makes Kratix's final condition true (Reconciled in the
        # current era, the configure workflow's completion before) has been answered. Benchmarks
        # time what follows from it (bench/follow.py); a request that never finishes has no entry.
        self.milestones: dict[RequestKey, float] = {}
        self._objects = KubeObjects(api_client)
        self._watch_timeout = watch_timeout
        self._promises: dict[str, PromiseApi] = {}
        self._promise_versions: dict[str, str | None] = {}
        self._available: dict[str, bool] = {}
        self._watchers: dict[str, threading.Event] = {}
        self._workflows: dict[RequestKey, _Workflow] = {}
        self._tasks: list[_Task] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    # -- Control -------------------------------------------------------------------------------

    def start(self) -> Self:
        self._worker = threading.Thread(target=self._work, name="kratix-simulator", daemon=True)
        self._worker.start()
        self._start_watch("promises", PROMISES, self._on_promise)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._worker is not None:
            self._worker.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def behave(
        self,
        behaviour: Behaviour,
        *,
        promise: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        """Treat matching requests this way from now on (the latest matching rule wins)."""
        self.rules.add(Rule(behaviour, promise=promise, namespace=namespace, name=name))

    def set_promise_available(self, promise: str, available: bool) -> None:
        """Make a Promise (un)available, as when its required Promises come and go."""
        self._submit(lambda: self._apply_availability(promise, available))

    def rerun(self, promise: str, namespace: str, name: str) -> None:
        """Re-run a request's configure workflow now, as the periodic reconciliation would."""
        self._submit(lambda: self._rerun((promise, namespace, name), token=None))

    # -- The worker ----------------------------------------------------------------------------

    def _submit(self, run: Callable[[], None], *, delay: float = 0.0) -> None:
        with self._wake:
            heapq.heappush(self._tasks, _Task(time.monotonic() + delay, next(self._sequence), run))
            self._wake.notify()

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._stopping.is_set() and (
                    not self._tasks or self._tasks[0].due > time.monotonic()
                ):
                    self._wake.wait(None if not self._tasks else self._tasks[0].due - time.monotonic())
                if self._stopping.is_set():
                    return
                task = heapq.heappop(self._tasks)
            try:
                task.run()
            except ApiException as error:
                if error.status == 409:
                    self._submit(task.run, delay=0.01)
                elif error.status == 404:  # usually the request went away under us: nothing to do
                    log.debug("kratix simulator step found nothing: %s", error.body)
                else:
                    self._record(error)
            except Exception as error:
                self._record(error)

    def _record(self, error: BaseException) -> None:
        if not self._stopping.is_set():
            log.exception("kratix simulator step failed", exc_info=error)
            self.errors.append(error)

    def _start_watch(
        self, name: str, resource: Resource, handle: Callable[[str, dict[str, Any]], None]
    ) -> None:
        stop = self._watchers[name] = threading.Event()

        def deliver(kind: str, obj: dict[str, Any]) -> Callable[[], None]:
            return lambda: handle(kind, obj)

        def watch() -> None:
            resource_version: str | None = None
            while not (stop.is_set() or self._stopping.is_set()):
                try:
                    for event in self._objects.watch(
                        resource, resource_version=resource_version, timeout_seconds=self._watch_timeout
                    ):
                        obj = event["object"]
                        resource_version = obj["metadata"]["resourceVersion"]
                        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            self._submit(deliver(event["type"], obj))
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
                    self._record(error)
                    return

        threading.Thread(target=watch, name=f"kratix-watch-{name}", daemon=True).start()

    # -- Promises --------------------------------------------------------------------------------

    def _on_promise(self, kind: str, promise: dict[str, Any]) -> None:
        name = promise["metadata"]["name"]
        if kind == "DELETED":
            self._promises.pop(name, None)
            if (stop := self._watchers.pop(f"requests/{name}", None)) is not None:
                stop.set()
            return
        try:
            api = PromiseApi.from_promise(promise)
        except PromiseWithoutApi:
            return
        self._promises[name] = api
        self._promise_versions[name] = (promise["metadata"].get("labels") or {}).get(
            "kratix.io/promise-version"
        )
        self._write_promise_status(promise, api)
        if f"requests/{name}" not in self._watchers:
            self._start_watch(
                f"requests/{name}", _requests(api), lambda kind, obj: self._on_request(api.promise, kind, obj)
            )

    def _write_promise_status(self, promise: Mapping[str, Any], api: PromiseApi) -> None:
        available = self._available.get(api.promise, True)
        status = promise.get("status") or {}
        new = eras.promise_status(
            self.era, status, kind=api.kind, api_version=api.api_version, available=available, now=_now()
        )
        if new != status:
            self._objects.patch_status(PROMISES, api.promise, {"status": new})

    def _apply_availability(self, promise: str, available: bool) -> None:
        self._available[promise] = available
        api = self._promises.get(promise)
        if api is None:
            return
        self._write_promise_status(self._objects.get(PROMISES, promise), api)
        for request in self._objects.list(_requests(api))["items"]:
            self._on_request(promise, "MODIFIED", request)

    # -- Requests --------------------------------------------------------------------------------

    def _on_request(self, promise: str, kind: str, request: dict[str, Any]) -> None:
        metadata = request["metadata"]
        key = (promise, metadata["namespace"], metadata["name"])
        api = self._promises.get(promise)
        if kind == "DELETED" or api is None:
            self._workflows.pop(key, None)
            return
        if metadata.get("deletionTimestamp"):
            self._begin_delete(api, key)
            return
        labels, finalizers = metadata.get("labels") or {}, metadata.get("finalizers") or []
        missing = [finalizer for finalizer in FINALIZERS[self.era] if finalizer not in finalizers]
        if labels.get(PROMISE_NAME_LABEL) != promise or missing:
            self._patch(
                api,
                key,
                {"metadata": {"labels": {PROMISE_NAME_LABEL: promise}, "finalizers": finalizers + missing}},
            )
            return  # the next event carries on from the labelled request
        status = request.get("status") or {}
        now = _now()
        if self.era is Era.CURRENT and labels.get(PAUSED_LABEL) == "true":
            self._write_status(api, key, status, eras.paused(status, now=now))
            return
        available = self._available.get(promise, True)
        availability = eras.promise_availability(self.era, status, available=available, now=now)
        status = self._write_status(api, key, status, availability)
        if not available:
            return
        generation = metadata["generation"]
        if not api.configure_pipelines:  # Kratix issue #869: no conditions at all, only the generation
            self._write_status(api, key, status, {**status, "observedGeneration": generation})
            return
        workflow = self._workflows.get(key)
        if workflow is not None and workflow.generation == generation:
            return
        self._workflows[key] = workflow = _Workflow(generation=generation, token=next(self._sequence))
        if "workflows" not in status:
            self._write_status(
                api, key, status, eras.first_reconcile(self.era, status, api.configure_pipelines, now=now)
            )
        self._schedule(key, workflow, self.timings.pickup)

    def _schedule(self, key: RequestKey, workflow: _Workflow, delay: float) -> None:
        token = workflow.token
        self._submit(lambda: self._advance(key, token), delay=delay)

    def _advance(self, key: RequestKey, token: int) -> None:
        workflow, api = self._workflows.get(key), self._promises.get(key[0])
        if workflow is None or workflow.token != token or api is None:
            return  # superseded by a newer generation, a deletion or a removed Promise
        request = self._get(api, key)
        if request["metadata"].get("deletionTimestamp") and workflow.stage not in (
            "deleting",
            "delete-failed",
        ):
            return
        behaviour = self.rules.behaviour_for(*key)
        step = {
            "pickup": self._start_pipeline,
            "running": self._finish_pipeline,
            "works": self._schedule_works,
            "done": lambda *_: self._rerun(key, token=token),
            "failed": lambda *_: self._rerun(key, token=token),
            "deleting": self._finish_delete,
        }.get(workflow.stage)
        if step is not None:
            step(api, key, workflow, request, behaviour)

    def _start_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: _Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        pipelines, status = api.configure_pipelines, request.get("status") or {}
        workflow.job = self._create_job(api, key, pipelines[workflow.index], "configure")
        self._write_status(
            api, key, status, eras.pipeline_started(self.era, status, pipelines, workflow.index, now=_now())
        )
        if behaviour.configure == "hang" and workflow.index == behaviour.pipeline_index:
            workflow.stage = "hung"  # e.g. ImagePullBackOff: the Job never fails, Kratix never says so
            return
        workflow.stage = "running"
        self._schedule(key, workflow, self.timings.pipeline)

    def _finish_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: _Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        pipelines, status, index = api.configure_pipelines, request.get("status") or {}, workflow.index
        now = _now()
        if behaviour.configure == "fail" and index == behaviour.pipeline_index:
            self._finish_job(key, workflow.job, succeeded=False)
            self._write_status(
                api, key, status, eras.pipeline_failed(self.era, status, pipelines, index, now=now)
            )
            workflow.stage = "failed"
            if self.era is Era.CURRENT and self.timings.reconcile_interval:  # reconcileAfterFailure
                self._schedule(key, workflow, self.timings.reconcile_interval)
            return
        if behaviour.configure == "suspend" and index == behaviour.pipeline_index and self.era is Era.CURRENT:
            self._patch(api, key, {"metadata": {"labels": {SUSPENDED_LABEL: "true"}}})
            suspended = eras.suspended(
                status, index, message=behaviour.suspend_message, next_retry_at=None, attempts=1, now=now
            )
            self._write_status(api, key, status, suspended)
            workflow.stage = "suspended"
            return
        self._finish_job(key, workflow.job, succeeded=True)
        last = index == len(pipelines) - 1
        written = pipeline_status(key[0], request, behaviour) if last else {}
        succeeded = eras.pipeline_succeeded(self.era, status, pipelines, index, written=written, now=now)
        self._write_status(api, key, status, succeeded)
        if not last:
            workflow.index, workflow.stage = index + 1, "pickup"
            self._schedule(key, workflow, self.timings.pickup)
            return
        completed = eras.workflow_completed(
            self.era,
            succeeded,
            generation=workflow.generation,
            promise_version=self._promise_versions.get(key[0]),
        )
        self._write_status(api, key, succeeded, completed)
        if self.era is Era.CURRENT:
            workflow.stage = "works"
            self._schedule(key, workflow, self.timings.works)
        else:
            self._finish_workflow(key, workflow)

    def _schedule_works(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: _Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        status = request.get("status") or {}
        work = f"{key[0]}-{key[2]}-{api.configure_pipelines[-1]}-{secrets.token_hex(2)}"
        self._write_status(
            api, key, status, eras.works_result(status, behaviour.works, work=work, now=_now())
        )
        if behaviour.works == "succeed":
            self._finish_workflow(key, workflow)
        else:
            workflow.stage = "works-" + behaviour.works

    def _finish_workflow(self, key: RequestKey, workflow: _Workflow) -> None:
        self.milestones[key] = time.time()  # the final status write has just returned
        workflow.stage = "done"
        if self.timings.reconcile_interval:
            self._schedule(key, workflow, self.timings.reconcile_interval)

    def _rerun(self, key: RequestKey, *, token: int | None) -> None:
        workflow = self._workflows.get(key)
        if workflow is None or (token is not None and workflow.token != token):
            return
        if workflow.stage not in ("done", "failed"):
            return
        workflow.stage, workflow.index, workflow.token = "pickup", 0, next(self._sequence)
        self._schedule(key, workflow, 0.0)

    # -- Deletion --------------------------------------------------------------------------------

    def _begin_delete(self, api: PromiseApi, key: RequestKey) -> None:
        workflow = self._workflows.get(key)
        if workflow is not None and workflow.stage in ("deleting", "delete-failed"):
            return
        workflow = self._workflows[key] = _Workflow(
            generation=-1, token=next(self._sequence), stage="deleting"
        )
        if api.delete_pipelines:
            workflow.job = self._create_job(api, key, api.delete_pipelines[0], "delete")
            self._schedule(key, workflow, self.timings.delete_pipeline)
        else:
            self._schedule(key, workflow, self.timings.pickup)

    def _finish_delete(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: _Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        if api.delete_pipelines and behaviour.delete == "fail":
            self._finish_job(key, workflow.job, succeeded=False)
            status = request.get("status") or {}
            self._write_status(api, key, status, eras.delete_failed(self.era, status, now=_now()))
            workflow.stage = (
                "delete-failed"  # stuck on its finalizers, as in Kratix, until someone intervenes
            )
            return
        if workflow.job:
            self._finish_job(key, workflow.job, succeeded=True)
        finalizers = request["metadata"].get("finalizers") or []
        self._patch(
            api,
            key,
            {"metadata": {"finalizers": [f for f in finalizers if f != "kratix.io/delete-workflows"]}},
        )
        self._delete_jobs(key)
        remaining = [f for f in finalizers if f not in FINALIZERS[self.era]]
        self._patch(api, key, {"metadata": {"finalizers": remaining}})
        self._workflows.pop(key, None)

    # -- Cluster writes -------------------------------------------------------------------------

    def _get(self, api: PromiseApi, key: RequestKey) -> dict[str, Any]:
        return self._objects.get(_requests(api), key[2], namespace=key[1])

    def _patch(self, api: PromiseApi, key: RequestKey, body: Mapping[str, Any]) -> None:
        self._objects.patch(_requests(api), key[2], body, namespace=key[1])

    def _write_status(
        self, api: PromiseApi, key: RequestKey, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> dict[str, Any]:
        if new != old:
            self._objects.patch_status(_requests(api), key[2], {"status": dict(new)}, namespace=key[1])
        return dict(new)

    def _create_job(self, api: PromiseApi, key: RequestKey, pipeline: str, action: str) -> str:
        promise, namespace, name = key
        job_name = f"kratix-{promise}-{name}-{pipeline}"[:57].rstrip("-.") + "-" + secrets.token_hex(3)[:5]
        labels = eras.job_labels(self.era, promise=promise, request=name, pipeline=pipeline, action=action)
        manifest = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": job_name, "namespace": namespace, "labels": labels},
            "spec": {"backoffLimit": 6, "template": {"metadata": {"labels": labels}}},
        }
        self._objects.create(JOBS, manifest, namespace=namespace)
        self._objects.patch_status(
            JOBS, job_name, {"status": {"active": 1, "startTime": _now()}}, namespace=namespace
        )
        return job_name

    def _finish_job(self, key: RequestKey, job: str | None, *, succeeded: bool) -> None:
        if job is None:
            return
        now = _now()
        status: dict[str, Any]
        if succeeded:
            complete = {"type": "Complete", "status": "True", "lastTransitionTime": now}
            status = {"active": None, "succeeded": 1, "completionTime": now, "conditions": [complete]}
        else:
            failed = {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": now,
            }
            status = {"active": None, "failed": 7, "conditions": [failed]}
        self._objects.patch_status(JOBS, job, {"status": status}, namespace=key[1])

    def _delete_jobs(self, key: RequestKey) -> None:
        promise, namespace, name = key
        selector = f"kratix.io/promise-name={promise},kratix.io/resource-name={name}"
        for job in self._objects.list(JOBS, namespace=namespace, label_selector=selector)["items"]:
            self._objects.delete(JOBS, job["metadata"]["name"], namespace=namespace)


def _requests(api: PromiseApi) -> Resource:
    return Resource(api.group, api.version, api.plural)
