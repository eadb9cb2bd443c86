"""The pipeline Pods Kratix ran for one request of a run, found by Kratix's labels in every era.

Kratix labels each pipeline Job, and identically its Pod template, with ``kratix.io/promise-name``
and ``kratix.io/resource-name`` (every era), ``kratix.io/pipeline-name``, the workflow's type and
action (``kratix.io/workflow-type``/``-action`` since 2025-02, ``kratix.io/work-type``/``-action``
before) and, when the Promise sets ``pipelineNamespace``, ``kratix.io/resource-namespace``. A
request's Pods are those with its Promise and name, in its namespace (or labelled with it), of
the resource workflow (not the Promise's own), of the action the run asked for (``delete`` for a
DELETE, ``configure`` otherwise) and created after the run changed the request: a DAY-2 run does
not show the pipeline output of the run before it. Pods are taken oldest first (Kratix runs a
workflow's pipelines one after another), containers in the order they run: the init containers
(``reader``, the Promise's pipeline containers, ``work-writer``), then ``status-writer``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge.actionrun.model import Operation, RequestRef

PROMISE_LABEL = "kratix.io/promise-name"
RESOURCE_LABEL = "kratix.io/resource-name"
RESOURCE_NAMESPACE_LABEL = "kratix.io/resource-namespace"
PIPELINE_LABEL = "kratix.io/pipeline-name"
TYPE_LABELS = ("kratix.io/workflow-type", "kratix.io/work-type")  # since 2025-02, before
ACTION_LABELS = ("kratix.io/workflow-action", "kratix.io/work-action")
CLOCK_SKEW_SECONDS = 2.0  # between the controller's clock and the API server's, and its whole seconds


@dataclass(frozen=True)
class PipelineContainer:
    namespace: str
    pod: str
    name: str
    prefix: str  # how its lines are marked in the Port run: [pipeline] or [pipeline/container]
    terminated: bool  # the Pod's status says it ended: what its log holds is all there will be

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.pod}/{self.name}"


def selector(request: RequestRef) -> str:
    """The label selector of a request's pipeline Pods (the labels every Kratix era writes)."""
    return f"{PROMISE_LABEL}={request.promise},{RESOURCE_LABEL}={request.name}"


def pipeline_containers(
    pods: Iterable[Mapping[str, Any]],
    request: RequestRef,
    *,
    operation: Operation | None,
    not_before: str | None,
) -> list[PipelineContainer]:
    """The containers of the request's pipeline Pods among ``pods``, in the order they ran."""
    action = "delete" if operation == "DELETE" else "configure"
    earliest = _epoch(not_before) - CLOCK_SKEW_SECONDS if not_before else None
    chosen = [
        pod
        for pod in pods
        if _of_request(pod, request, action) and (earliest is None or _created(pod) >= earliest)
    ]
    chosen.sort(key=lambda pod: (_created(pod), pod["metadata"]["name"]))
    return [container for pod in chosen for container in _containers(pod)]


def _of_request(pod: Mapping[str, Any], request: RequestRef, action: str) -> bool:
    metadata = pod.get("metadata") or {}
    labels = metadata.get("labels") or {}
    namespace = metadata.get("namespace")
    return (
        labels.get(PROMISE_LABEL) == request.promise
        and labels.get(RESOURCE_LABEL) == request.name
        and request.namespace in (namespace, labels.get(RESOURCE_NAMESPACE_LABEL))
        and all(labels.get(label) in (None, "resource") for label in TYPE_LABELS)
        and all(labels.get(label) in (None, action) for label in ACTION_LABELS)
    )


def _containers(pod: Mapping[str, Any]) -> list[PipelineContainer]:
    metadata, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    pipeline = (metadata.get("labels") or {}).get(PIPELINE_LABEL) or ""
    ended = status.get("phase") in ("Succeeded", "Failed")
    terminated = {
        container_status.get("name")
        for field in ("initContainerStatuses", "containerStatuses")
        for container_status in status.get(field) or ()
        if (container_status.get("state") or {}).get("terminated")
    }
    names = [c.get("name", "") for field in ("initContainers", "containers") for c in spec.get(field) or ()]
    return [
        PipelineContainer(
            namespace=metadata.get("namespace", ""),
            pod=metadata["name"],
            name=name,
            prefix=f"[{name}]" if pipeline in ("", name) else f"[{pipeline}/{name}]",
            terminated=ended or name in terminated,
        )
        for name in names
        if name
    ]


def _created(pod: Mapping[str, Any]) -> float:
    return _epoch((pod.get("metadata") or {}).get("creationTimestamp"))


def _epoch(timestamp: str | None) -> float:
    if not timestamp:
        return 0.0
    parsed = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()
