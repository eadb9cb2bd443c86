"""The objects a Kratix workflow leaves in the cluster: pipeline Jobs, their Pods and logs, Works.

Kratix runs each pipeline as a Job whose Pod holds the init containers ``reader``, the Promise's
pipeline containers and (for configure) ``work-writer``, then the main container
``status-writer`` (research/kratix.md §3.3); the Job controller labels the Pod with the Job's
labels plus ``job-name``. A configure pipeline's outputs become a Work (§3.1): one workload group
per run, each file gzip-compressed and base64-encoded. The simulator writes these through the
Kubernetes API, as Kratix and the Job controller would, and a pipeline process's output to the
Pod's log when it was given the emulator's log store.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes.client import ApiException, CoreV1Api

from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.kratix import eras
from port_bridge_sandbox.kratix.eras import Era
from port_bridge_sandbox.kratix.pipeline_process import PipelineResult

log = logging.getLogger(__name__)

JOBS = Resource("batch", "v1", "jobs")
WORKS = Resource("platform.kratix.io", "v1alpha1", "works")

RequestKey = tuple[str, str, str]  # promise, namespace, name
# A Work's Ready condition by scheduling outcome: the message is Kratix's (what WorksSucceeded is
# computed from); Kratix's docs name no reason for it, so the reason repeats the message.
_WORK_READY = {
    "succeed": ("True", "Ready"),
    "pending": ("False", "Pending"),
    "failing": ("False", "Failing"),
    "misplaced": ("False", "Misplaced"),
}


class PodLogSink(Protocol):
    """The Kubernetes emulator's Pod log store (``KubeEmulator.pod_logs``)."""

    def write(self, namespace: str, pod: str, text: str, *, container: str = "main") -> None: ...

    def close(self, namespace: str, pod: str, *, container: str = "main") -> None: ...


@dataclass
class PipelineJob:
    """One pipeline's Job and its Pod (``pod`` is None where the cluster serves no Pods)."""

    namespace: str
    name: str
    pod: str | None
    init_containers: tuple[str, ...]
    containers: tuple[str, ...] = ("status-writer",)
    exit_codes: dict[str, int] = field(default_factory=dict)

    @property
    def all_containers(self) -> tuple[str, ...]:
        return (*self.init_containers, *self.containers)


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WorkflowObjects:
    def __init__(self, objects: KubeObjects, era: Era, *, pod_logs: PodLogSink | None = None) -> None:
        self._objects, self._era, self._pod_logs = objects, era, pod_logs
        self._core = CoreV1Api(objects.api_client)  # Pods are in the core group, out of KubeObjects' reach

    # -- Jobs and Pods ----------------------------------------------------------------------------

    def create_job(
        self, key: RequestKey, pipeline: str, action: str, *, containers: Sequence[str]
    ) -> PipelineJob:
        promise, namespace, name = key
        job_name = f"kratix-{promise}-{name}-{pipeline}"[:57].rstrip("-.") + "-" + secrets.token_hex(3)[:5]
        labels = eras.job_labels(self._era, promise=promise, request=name, pipeline=pipeline, action=action)
        manifest = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": job_name, "namespace": namespace, "labels": labels},
            "spec": {"backoffLimit": 6, "template": {"metadata": {"labels": labels}}},
        }
        job = self._objects.create(JOBS, manifest, namespace=namespace)
        now = _now()
        self._objects.patch_status(
            JOBS, job_name, {"status": {"active": 1, "startTime": now}}, namespace=namespace
        )
        writer = ("work-writer",) if action == "configure" else ()
        init = ("reader", *(containers or ("pipeline",)), *writer)
        pod = self._create_pod(job, labels, init, now=now)
        return PipelineJob(namespace, job_name, pod, init)

    def _create_pod(
        self, job: dict[str, Any], labels: dict[str, str], init: Sequence[str], *, now: str
    ) -> str | None:
        metadata = job["metadata"]
        pod_name = f"{metadata['name']}-{secrets.token_hex(3)[:5]}"
        owner = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": metadata["name"],
            "uid": metadata.get("uid", ""),
            "controller": True,
            "blockOwnerDeletion": True,
        }
        job_labels = {"job-name": metadata["name"], "batch.kubernetes.io/job-name": metadata["name"]}
        manifest: Any = {  # the client takes the dict as it is
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": metadata["namespace"],
                "labels": {**labels, **job_labels},
                "ownerReferences": [owner],
            },
            "spec": {
                "restartPolicy": "OnFailure",
                "initContainers": [{"name": name, "image": "kratix-pipeline"} for name in init],
                "containers": [{"name": "status-writer", "image": "kratix-status-writer"}],
            },
        }
        try:
            self._core.create_namespaced_pod(metadata["namespace"], manifest)
        except ApiException as error:
            if error.status != 404:
                raise
            log.debug("this cluster serves no Pods: the pipeline runs without one")
            return None
        status = {"phase": "Running", "startTime": now}
        self._core.patch_namespaced_pod_status(pod_name, metadata["namespace"], {"status": status})
        return pod_name

    def write_log(self, job: PipelineJob | None, container: str, text: str) -> None:
        if job is not None and job.pod is not None and self._pod_logs is not None:
            self._pod_logs.write(job.namespace, job.pod, text, container=container)

    def container_exited(self, job: PipelineJob | None, container: str, code: int) -> None:
        if job is not None:
            job.exit_codes[container] = code

    def finish_job(self, job: PipelineJob | None, *, succeeded: bool) -> None:
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
        self._objects.patch_status(JOBS, job.name, {"status": status}, namespace=job.namespace)
        self._finish_pod(job, succeeded=succeeded)

    def _finish_pod(self, job: PipelineJob, *, succeeded: bool) -> None:
        if job.pod is None:
            return
        failing = next((name for name in job.init_containers if job.exit_codes.get(name, 0) != 0), None)
        if not succeeded and failing is None:  # a failure the simulator injected: the pipeline's container
            failing = job.init_containers[1] if len(job.init_containers) > 1 else job.init_containers[0]
            job.exit_codes[failing] = 1
        statuses, ran = [], True
        for name in job.all_containers:
            if ran:
                code = job.exit_codes.get(name, 0)
                reason = "Completed" if code == 0 else "Error"
                state = {"terminated": {"exitCode": code, "reason": reason}}
                statuses.append(_container_status(name, state, ready=False))
                ran = name != failing
            else:
                statuses.append(
                    _container_status(name, {"waiting": {"reason": "PodInitializing"}}, ready=False)
                )
        status = {
            "phase": "Succeeded" if succeeded else "Failed",
            "initContainerStatuses": statuses[: len(job.init_containers)],
            "containerStatuses": statuses[len(job.init_containers) :],
        }
        self._core.patch_namespaced_pod_status(job.pod, job.namespace, {"status": status})
        if self._pod_logs is not None:
            for name in job.all_containers:
                self._pod_logs.close(job.namespace, job.pod, container=name)

    def delete_jobs(self, key: RequestKey) -> None:
        promise, namespace, name = key
        selector = f"kratix.io/promise-name={promise},kratix.io/resource-name={name}"
        for job in self._objects.list(JOBS, namespace=namespace, label_selector=selector)["items"]:
            self._objects.delete(JOBS, job["metadata"]["name"], namespace=namespace)
        try:  # the garbage collector's part: the emulator does not cascade to the Jobs' Pods
            pods = self._core.list_namespaced_pod(namespace, label_selector=selector).items
        except ApiException as error:
            if error.status != 404:
                raise
            return
        for pod in pods:
            if pod.metadata is not None and pod.metadata.name:
                self._core.delete_namespaced_pod(pod.metadata.name, namespace)

    # -- Works ------------------------------------------------------------------------------------

    def write_work(self, key: RequestKey, pipeline: str, result: PipelineResult) -> str | None:
        """What the work-writer container does: the outputs as the pipeline's Work (created, or
        replaced on a re-run); None where the cluster serves no Works."""
        promise, namespace, name = key
        digest = hashlib.sha256(f"{namespace}/{name}/{pipeline}".encode()).hexdigest()[:5]
        work_name = f"{promise}-{name}-{pipeline}"[:57].rstrip("-.") + "-" + digest
        selectors = [
            {"matchLabels": dict(selector.get("matchLabels") or {}), "source": "resource"}
            for selector in result.destination_selectors
        ]
        group = {
            "id": hashlib.sha256(b".").hexdigest()[:10],
            "directory": ".",
            "destinationSelectors": selectors,
            "workloads": [
                {"filepath": output.path, "content": base64.b64encode(gzip.compress(output.content)).decode()}
                for output in result.outputs
            ],
        }
        spec = {"promiseName": promise, "resourceName": name, "workloadGroups": [group]}
        labels = {
            "kratix.io/promise-name": promise,
            "kratix.io/resource-name": name,
            "kratix.io/pipeline-name": pipeline,
            "kratix.io/work-type": "resource",
        }
        manifest = {
            "apiVersion": WORKS.api_version,
            "kind": "Work",
            "metadata": {"name": work_name, "namespace": namespace, "labels": labels},
            "spec": spec,
        }
        try:
            self._objects.create(WORKS, manifest, namespace=namespace)
        except ApiException as error:
            if error.status == 404:
                log.debug("this cluster serves no Works: the outputs are not kept")
                return None
            if error.status != 409:
                raise
            self._objects.patch(WORKS, work_name, {"spec": spec}, namespace=namespace)
        return work_name

    def mark_works(self, namespace: str, works: Sequence[str], outcome: str) -> None:
        """The scheduler's verdict on each Work, its ``Ready`` condition, from which Kratix computes
        the request's ``WorksSucceeded`` (research/kratix.md §3.1)."""
        state, message = _WORK_READY[outcome]
        ready = {
            "type": "Ready",
            "status": state,
            "reason": message,
            "message": message,
            "lastTransitionTime": _now(),
        }
        for work in works:
            self._objects.patch_status(WORKS, work, {"status": {"conditions": [ready]}}, namespace=namespace)

    def delete_works(self, key: RequestKey) -> None:
        promise, namespace, name = key
        selector = f"kratix.io/promise-name={promise},kratix.io/resource-name={name}"
        try:
            works = self._objects.list(WORKS, namespace=namespace, label_selector=selector)["items"]
        except ApiException as error:
            if error.status != 404:
                raise
            return
        for work in works:
            self._objects.delete(WORKS, work["metadata"]["name"], namespace=namespace)


def _container_status(name: str, state: dict[str, Any], *, ready: bool) -> dict[str, Any]:
    """A container's status with the fields the kubelet always writes (clients require them)."""
    return {
        "name": name,
        "image": "kratix-pipeline",
        "imageID": "",
        "ready": ready,
        "restartCount": 0,
        "state": state,
    }
