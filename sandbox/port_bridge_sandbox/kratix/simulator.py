"""A stand-in for Kratix's controllers: it writes what Kratix writes, when Kratix would write it.

It talks to the Kubernetes API (the emulator, in tests and the sandbox) through the official
client like any controller: it watches Promises and the requests of each Promise's API, labels
and finalizes new requests, runs their configure pipelines as Jobs that succeed, fail, hang or
suspend, schedules Works, re-runs finished workflows on an interval, and runs deletion through
its finalizers. The status it writes at each step comes from :mod:`.eras`.

The project's own pipelines (deploy/kratix/pipelines) run as local processes under Kratix's
contract (:mod:`.pipeline_process`) when their interpreter (.venv-pipelines) is there: what
they write becomes the request's status, workflow control and Works, their output the pipeline
Pod's log. Other pipelines, or all of them without that interpreter, are simulated in-process
(:func:`.behaviour.pipeline_status`). The Jobs, Pods and Works are :mod:`.workflow_objects`.

One worker thread applies every step in order, so the simulated cluster changes one write at a
time, as it does under Kratix; watch threads only feed it events.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import kubernetes

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
from port_bridge_sandbox.kratix.local_pipelines import LocalPipelines
from port_bridge_sandbox.kratix.pipeline_process import (
    PipelineContext,
    PipelineResult,
)
from port_bridge_sandbox.kratix.worker import StepWorker
from port_bridge_sandbox.kratix.workflow import (
    FINALIZERS,
    PAUSED_LABEL,
    PROMISE_NAME_LABEL,
    SUSPENDED_LABEL,
    RequestKey,
    Workflow,
    iso,
    now,
)
from port_bridge_sandbox.kratix.workflow_objects import PodLogSink, WorkflowObjects

log = logging.getLogger(__name__)

PROMISES = Resource(PROMISE_GROUP, PROMISE_VERSION, PROMISE_PLURAL, namespaced=False)
REPO = Path(__file__).resolve().parents[3]
PIPELINES_DIR = REPO / "deploy" / "kratix" / "pipelines"
PIPELINES_PYTHON = REPO / ".venv-pipelines" / "bin" / "python"  # made by `make pipelines-venv`


class KratixSimulator:
    """Simulated Kratix for one cluster; ``era`` picks the release whose status format it writes."""

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        era: Era = Era.CURRENT,
        timings: Timings | None = None,
        watch_timeout: int = 1,
        pipelines_python: Path | None = PIPELINES_PYTHON,
        pipelines_dir: Path = PIPELINES_DIR,
        pipeline_timeout: float = 120.0,
        pod_logs: PodLogSink | None = None,
    ) -> None:
        """``pipelines_python`` runs the project's pipelines (None, or a path that is not there:
        simulate them); ``pod_logs`` (the emulator's ``pod_logs``) receives their output."""
        self.era, self.timings = era, timings or Timings()
        self._local = LocalPipelines(pipelines_python, pipelines_dir=pipelines_dir, timeout=pipeline_timeout)
        self.rules = Rules()
        # When (``time.time()``) each request (promise, namespace, name) last finished its workflow:
        # taken as soon as the write that makes Kratix's final condition true (Reconciled in the
        # current era, the configure workflow's completion before) has been answered. Benchmarks
        # time what follows from it (bench/follow.py); a request that never finishes has no entry.
        self.milestones: dict[RequestKey, float] = {}
        self._objects = KubeObjects(api_client)
        self._worker = StepWorker(self._objects, watch_timeout=watch_timeout)
        self.errors = self._worker.errors
        self._cluster = WorkflowObjects(self._objects, era, pod_logs=pod_logs)
        self._promises: dict[str, PromiseApi] = {}
        self._promise_versions: dict[str, str | None] = {}
        self._available: dict[str, bool] = {}
        self._watchers: dict[str, threading.Event] = {}
        self._workflows: dict[RequestKey, Workflow] = {}
        self._sequence = itertools.count()

    # -- Control -------------------------------------------------------------------------------

    def start(self) -> Self:
        self._worker.start()
        self._watchers["promises"] = self._worker.watch("promises", PROMISES, self._on_promise)
        return self

    @property
    def runs_pipelines(self) -> bool:
        """The project's pipelines run as processes (else they are simulated in-process)."""
        return self._local.runs

    @property
    def pipelines_note(self) -> str:
        return self._local.note

    def stop(self) -> None:
        self._local.stop()
        self._worker.stop()

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
        self._worker.submit(lambda: self._apply_availability(promise, available))

    def rerun(self, promise: str, namespace: str, name: str) -> None:
        """Re-run a request's configure workflow now, as the periodic reconciliation would."""
        self._worker.submit(lambda: self._rerun((promise, namespace, name), token=None))

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
        self._local.learn(promise)
        self._promise_versions[name] = (promise["metadata"].get("labels") or {}).get(
            "kratix.io/promise-version"
        )
        self._write_promise_status(promise, api)
        if f"requests/{name}" not in self._watchers:
            self._watchers[f"requests/{name}"] = self._worker.watch(
                f"requests/{name}", _requests(api), lambda kind, obj: self._on_request(api.promise, kind, obj)
            )

    def _write_promise_status(self, promise: Mapping[str, Any], api: PromiseApi) -> None:
        available = self._available.get(api.promise, True)
        status = promise.get("status") or {}
        new = eras.promise_status(
            self.era, status, kind=api.kind, api_version=api.api_version, available=available, now=now()
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
            self._begin_delete(api, key, request)
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
        moment = now()
        if self.era is Era.CURRENT and labels.get(PAUSED_LABEL) == "true":
            self._write_status(api, key, status, eras.paused(status, now=moment))
            return
        available = self._available.get(promise, True)
        availability = eras.promise_availability(self.era, status, available=available, now=moment)
        status = self._write_status(api, key, status, availability)
        if not available:
            return
        generation = metadata["generation"]
        if not api.configure_pipelines:  # Kratix issue #869: no conditions at all, only the generation
            self._write_status(api, key, status, {**status, "observedGeneration": generation})
            return
        workflow = self._workflows.get(key)
        if workflow is not None and workflow.generation == generation:
            self._resume_if_unsuspended(api, key, workflow)
            return
        self._workflows[key] = workflow = Workflow(generation=generation, token=next(self._sequence))
        if "workflows" not in status:
            self._write_status(
                api, key, status, eras.first_reconcile(self.era, status, api.configure_pipelines, now=moment)
            )
        self._schedule(key, workflow, self.timings.pickup)

    def _resume_if_unsuspended(self, api: PromiseApi, key: RequestKey, workflow: Workflow) -> None:
        """Someone removed the suspension label: the suspended pipeline runs again. The request is
        read afresh, as an event queued before the label was set says nothing about it now."""
        if workflow.stage == "suspended":
            labels = self._get(api, key)["metadata"].get("labels") or {}
            if labels.get(SUSPENDED_LABEL) != "true":
                workflow.stage = "pickup"
                self._schedule(key, workflow, self.timings.pickup)

    def _schedule(self, key: RequestKey, workflow: Workflow, delay: float) -> None:
        token = workflow.token
        self._worker.submit(lambda: self._advance(key, token), delay=delay)

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
            "retrying": self._retry_pipeline,
            "works": self._schedule_works,
            "done": lambda *_: self._rerun(key, token=token),
            "failed": lambda *_: self._rerun(key, token=token),
            "deleting": self._finish_delete,
        }.get(workflow.stage)
        if step is not None:
            step(api, key, workflow, request, behaviour)

    def _launch(
        self, api: PromiseApi, key: RequestKey, workflow: Workflow, request: dict[str, Any], *, action: str
    ) -> bool:
        """Run the pipeline's process when it is one of the project's; its result comes back to
        the worker once it ended and the simulated run's time went by. False: simulate it instead."""
        job, token, stage, index = workflow.job, workflow.token, workflow.stage, workflow.index
        pipeline = api.configure_pipelines[index] if action == "configure" else api.delete_pipelines[index]
        return self._local.launch(
            PipelineContext(key[0], pipeline, action, request, plural=api.plural),
            index,
            output=lambda container, text: self._cluster.write_log(job, container, text),
            exited=lambda container, code: self._cluster.container_exited(job, container, code),
            minimum=self.timings.pipeline if action == "configure" else self.timings.delete_pipeline,
            done=lambda result: self._worker.submit(lambda: self._completed(key, token, stage, result)),
            failed=self._worker.record,
        )

    def _create_job(self, key: RequestKey, workflow: Workflow, pipeline: str, *, action: str) -> None:
        """The pipeline's Job (and Pod), with the containers of the project's pipeline when it is one."""
        containers = self._local.containers(key[0], action, workflow.index)
        workflow.job = self._cluster.create_job(key, pipeline, action, containers=containers)

    def _fail_job(self, workflow: Workflow, result: PipelineResult | None) -> None:
        """End the pipeline's Job as failed, with what went wrong where Kratix's status-writer says it."""
        if result is not None and result.problem:
            self._cluster.write_log(workflow.job, "status-writer", result.problem + "\n")
        self._cluster.finish_job(workflow.job, succeeded=False)

    def _completed(self, key: RequestKey, token: int, stage: str, result: PipelineResult) -> None:
        workflow = self._workflows.get(key)
        if workflow is not None and workflow.token == token and workflow.stage == stage:
            workflow.result = result
            self._advance(key, token)

    def _start_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        pipelines, status = api.configure_pipelines, request.get("status") or {}
        self._create_job(key, workflow, pipelines[workflow.index], action="configure")
        started = eras.pipeline_started(self.era, status, pipelines, workflow.index, now=now())
        request = {**request, "status": self._write_status(api, key, status, started)}
        if behaviour.configure == "hang" and workflow.index == behaviour.pipeline_index:
            workflow.stage = "hung"  # e.g. ImagePullBackOff: the Job never fails, Kratix never says so
            return
        workflow.stage = "running"
        injected = behaviour.configure in ("fail", "suspend") and workflow.index == behaviour.pipeline_index
        if injected or not self._launch(api, key, workflow, request, action="configure"):
            self._schedule(key, workflow, self.timings.pipeline)

    def _finish_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        pipelines, status, index = api.configure_pipelines, request.get("status") or {}, workflow.index
        result, workflow.result = workflow.result, None
        injected = index == behaviour.pipeline_index
        if (behaviour.configure == "fail" and injected) or (result is not None and not result.succeeded):
            self._fail_pipeline(api, key, workflow, status, result)
            return
        last = index == len(pipelines) - 1
        if result is not None:  # status.yaml, then what a test adds over it
            written = {**(result.status or {}), **((behaviour.status or {}) if last else {})}
        else:
            written = pipeline_status(key[0], request, behaviour) if last else {}
        control = result.control if result is not None and self.era is Era.CURRENT else None
        if behaviour.configure == "suspend" and injected and self.era is Era.CURRENT:
            self._suspend(api, key, workflow, status, message=behaviour.suspend_message, retry_after=None)
            return
        if control is not None and (control.suspend or control.retry_after is not None):
            self._cluster.finish_job(workflow.job, succeeded=True)
            status = self._write_status(api, key, status, eras.merge_written(status, written))
            message = control.message or "Workflow suspended"
            self._suspend(api, key, workflow, status, message=message, retry_after=control.retry_after)
            return
        workflow.attempts = 0
        if result is not None and (work := self._cluster.write_work(key, pipelines[index], result)):
            workflow.works.append(work)
        self._cluster.finish_job(workflow.job, succeeded=True)
        succeeded = eras.pipeline_succeeded(self.era, status, pipelines, index, written=written, now=now())
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

    def _fail_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        status: dict[str, Any],
        result: PipelineResult | None,
    ) -> None:
        self._fail_job(workflow, result)
        failed = eras.pipeline_failed(self.era, status, api.configure_pipelines, workflow.index, now=now())
        self._write_status(api, key, status, failed)
        workflow.stage = "failed"
        if self.era is Era.CURRENT and self.timings.reconcile_interval:  # reconcileAfterFailure
            self._schedule(key, workflow, self.timings.reconcile_interval)

    def _suspend(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        status: dict[str, Any],
        *,
        message: str,
        retry_after: float | None,
    ) -> None:
        """Workflow control: the pipeline suspended the workflow, or asked to run again later."""
        self._patch(api, key, {"metadata": {"labels": {SUSPENDED_LABEL: "true"}}})
        workflow.attempts += 1
        moment = datetime.datetime.now(tz=datetime.UTC)
        retry_at = None if retry_after is None else iso(moment + datetime.timedelta(seconds=retry_after))
        suspended = eras.suspended(
            status,
            workflow.index,
            message=message,
            next_retry_at=retry_at,
            attempts=workflow.attempts,
            now=iso(moment),
        )
        self._write_status(api, key, status, suspended)
        workflow.stage = "suspended" if retry_after is None else "retrying"
        if retry_after is not None:
            self._schedule(key, workflow, retry_after)

    def _retry_pipeline(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        self._patch(api, key, {"metadata": {"labels": {SUSPENDED_LABEL: None}}})
        self._start_pipeline(api, key, workflow, self._get(api, key), behaviour)

    def _schedule_works(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        status = request.get("status") or {}
        work = (
            " ".join(workflow.works)
            or f"{key[0]}-{key[2]}-{api.configure_pipelines[-1]}-{secrets.token_hex(2)}"
        )
        self._cluster.mark_works(key[1], workflow.works, behaviour.works)
        self._write_status(api, key, status, eras.works_result(status, behaviour.works, work=work, now=now()))
        if behaviour.works == "succeed":
            self._finish_workflow(key, workflow)
        else:
            workflow.stage = "works-" + behaviour.works

    def _finish_workflow(self, key: RequestKey, workflow: Workflow) -> None:
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
        workflow.works = []
        self._schedule(key, workflow, 0.0)

    # -- Deletion --------------------------------------------------------------------------------

    def _begin_delete(self, api: PromiseApi, key: RequestKey, request: dict[str, Any]) -> None:
        workflow = self._workflows.get(key)
        if workflow is not None and workflow.stage in ("deleting", "delete-failed"):
            return
        workflow = self._workflows[key] = Workflow(
            generation=-1, token=next(self._sequence), stage="deleting"
        )
        if not api.delete_pipelines:
            self._schedule(key, workflow, self.timings.pickup)
            return
        self._create_job(key, workflow, api.delete_pipelines[0], action="delete")
        failing = self.rules.behaviour_for(*key).delete == "fail"
        if failing or not self._launch(api, key, workflow, request, action="delete"):
            self._schedule(key, workflow, self.timings.delete_pipeline)

    def _finish_delete(
        self,
        api: PromiseApi,
        key: RequestKey,
        workflow: Workflow,
        request: dict[str, Any],
        behaviour: Behaviour,
    ) -> None:
        result, workflow.result = workflow.result, None
        if api.delete_pipelines and (
            behaviour.delete == "fail" or (result is not None and not result.succeeded)
        ):
            self._fail_job(workflow, result)
            status = request.get("status") or {}
            self._write_status(api, key, status, eras.delete_failed(self.era, status, now=now()))
            workflow.stage = (
                "delete-failed"  # stuck on its finalizers, as in Kratix, until someone intervenes
            )
            return
        self._cluster.finish_job(workflow.job, succeeded=True)
        finalizers = request["metadata"].get("finalizers") or []
        self._patch(
            api,
            key,
            {"metadata": {"finalizers": [f for f in finalizers if f != "kratix.io/delete-workflows"]}},
        )
        self._cluster.delete_works(key)
        self._cluster.delete_jobs(key)
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


def _requests(api: PromiseApi) -> Resource:
    return Resource(api.group, api.version, api.plural)
