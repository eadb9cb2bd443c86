"""The Kratix side of a run: apply its change to the request, and read where Kratix stands.

Applying is idempotent across crashes: a CREATE that finds its own request (annotated with the
run id) adopts it; a DELETE of a request already gone is done. A refusal by the API server that
retrying cannot change (a name someone else took, a namespace that does not exist, a forbidden
verb) raises :class:`~port_bridge.controller.errors.PermanentError` naming it; the API server being
away raises as it is, a temporary error.

Reading prefers the watch cache, but never concludes from the cache alone that a request is gone
(a cache can lag behind our own create, and "gone" ends runs): absence is confirmed with the API
server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRun, ActionRunSpec, ActionRunStatus, RequestProgress, RequestRef
from port_bridge.controller import messages
from port_bridge.controller.errors import PermanentError
from port_bridge.kratix.catalog import PromiseCatalog, PromiseNotInstalled
from port_bridge.kratix.promise import PromiseWithoutApi
from port_bridge.kratix.status import KratixState, Phase, classify
from port_bridge.kube.actionruns import ACTION_LABEL, RUN_ID_ANNOTATION, label_value
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects, Object, Resource

ACTIONRUN_ANNOTATION = "port-bridge.io/actionrun"
REQUESTED_BY_ANNOTATION = "port-bridge.io/requested-by"
MANAGED_BY = {"app.kubernetes.io/managed-by": "port-bridge"}
JOBS = Resource("batch", "v1", "jobs")

RequestLookup = Callable[[Resource, str, str], Object | bool | None]
"""The watch cache: the request, ``None`` if it does not exist, ``True`` if the kind is not cached yet."""


@dataclass(frozen=True)
class Applied:
    """What applying did: the generation submitted, the request's uid, the line for the run's log."""

    generation: int
    uid: str | None
    line: str


class KratixRequests:
    def __init__(
        self,
        *,
        objects: KubeObjects,
        promises: PromiseCatalog,
        lookup: RequestLookup,
        remember: Callable[[Resource, Object], None],
    ) -> None:
        self._objects, self._promises, self._lookup, self._remember = objects, promises, lookup, remember

    def apply(self, run: ActionRun, request: RequestRef, *, before_write: Callable[[], None]) -> Applied:
        """Create, change or delete one of the run's requests; ``before_write`` runs before each change."""
        operation = run.spec.operation or "CREATE"
        try:
            if operation == "CREATE":
                return self._create(run, request, before_write)
            if operation == "DAY-2":
                return self._change(run, request, before_write)
            return self._delete(request, before_write)
        except ApiException as error:
            if is_unavailable(error):
                raise
            raise PermanentError(
                messages.kubernetes_refused(error, request, operation), label="Cannot apply"
            ) from None

    def observe(self, spec: ActionRunSpec, status: ActionRunStatus) -> dict[str, KratixState]:
        """Where Kratix stands with each request (by id), for the generation this run submitted."""
        return {
            request.id: self._observe(spec, request, status.progress(request.id)) for request in spec.requests
        }

    def _observe(self, spec: ActionRunSpec, request: RequestRef, progress: RequestProgress) -> KratixState:
        operation = spec.operation or "CREATE"
        try:
            current = self.current(request, progress.request_uid)
            state = classify(
                current,
                submitted_generation=int(progress.submitted_generation or 0),
                operation=operation,
                has_configure_workflow=self._has_configure_workflow(request.promise),
                applied_at=progress.applied_at,
                jobs=self._legacy_jobs(request, current),
            )
        except ApiException as error:
            if is_unavailable(error):
                raise
            raise PermanentError(messages.kubernetes_refused(error, request, "read")) from None
        if operation != "DELETE" and state.phase is Phase.DELETING:
            return KratixState(
                Phase.MISSING, "Request deleted", "Kratix: the request is being deleted outside this run"
            )
        return state

    def current(self, request: RequestRef, uid: str | None) -> Object | None:
        """The request as it is now (see the module doc); ``None`` if gone or replaced by another."""
        resource = request.resource
        found = self._lookup(resource, request.namespace, request.name)
        if not isinstance(found, dict) or (uid and _uid(found) != uid):
            try:
                found = self._objects.get(resource, request.name, namespace=request.namespace)
            except ApiException as error:
                if error.status != 404:
                    raise
                return None
            self._remember(resource, found)
        if uid and _uid(found) != uid:  # deleted and re-created by someone else
            return None
        return found

    def _create(self, run: ActionRun, request: RequestRef, before_write: Callable[[], None]) -> Applied:
        labels = {**request.labels, **MANAGED_BY}
        if action_label := label_value(run.spec.action):
            labels[ACTION_LABEL] = action_label
        body = {
            "apiVersion": request.api_version,
            "kind": request.kind,
            "metadata": {
                "name": request.name,
                "namespace": request.namespace,
                "labels": labels,
                "annotations": _annotations(run),
            },
            "spec": request.spec or {},
        }
        before_write()
        try:
            created = self._objects.create(request.resource, body, namespace=request.namespace)
        except ApiException as error:
            if error.status != 409:
                raise
            created = self._objects.get(request.resource, request.name, namespace=request.namespace)
            owner = ((created.get("metadata") or {}).get("annotations") or {}).get(RUN_ID_ANNOTATION)
            if owner != run.spec.run_id:
                raise PermanentError(messages.taken(request, owner), label="Cannot apply") from None
        self._remember(request.resource, created)  # the watch may not have brought it yet
        metadata = created["metadata"]
        return Applied(metadata.get("generation", 1), metadata.get("uid"), messages.requested(request))

    def _change(self, run: ActionRun, request: RequestRef, before_write: Callable[[], None]) -> Applied:
        before_write()
        try:
            patched = self._objects.patch(
                request.resource,
                request.name,
                {"metadata": {"annotations": _annotations(run)}, "spec": request.spec or {}},
                namespace=request.namespace,
            )
        except ApiException as error:
            if error.status == 404:
                raise PermanentError(messages.missing_for_change(request), label="Cannot apply") from None
            raise
        self._remember(request.resource, patched)
        generation = int(patched["metadata"].get("generation", 1))
        return Applied(generation, patched["metadata"].get("uid"), messages.changed(request, generation))

    def _delete(self, request: RequestRef, before_write: Callable[[], None]) -> Applied:
        try:
            current = self._objects.get(request.resource, request.name, namespace=request.namespace)
        except ApiException as error:
            if error.status == 404:
                return Applied(0, None, messages.already_gone(request))
            raise
        uid = _uid(current) or None
        before_write()
        try:
            self._objects.delete(request.resource, request.name, namespace=request.namespace, uid=uid)
        except ApiException as error:
            if error.status != 404:
                raise
        generation = int(current["metadata"].get("generation", 1))
        return Applied(generation, uid, messages.deletion_requested(request))

    def _has_configure_workflow(self, promise: str) -> bool:
        """Whether the Promise runs a configure workflow; assumed when the Promise is gone (its
        requests go with it, which the run will see)."""
        try:
            return bool(self._promises.get(promise).configure_pipelines)
        except (PromiseNotInstalled, PromiseWithoutApi):
            return True

    def _legacy_jobs(self, request: RequestRef, current: Object | None) -> list[Object]:
        """A legacy Kratix shows a failed pipeline only on its Job: read those Jobs when it matters."""
        conditions = {c.get("type"): c for c in ((current or {}).get("status") or {}).get("conditions") or ()}
        legacy_running = (
            "PipelineCompleted" in conditions and conditions["PipelineCompleted"].get("status") != "True"
        )
        if not legacy_running:
            return []
        selector = f"kratix.io/promise-name={request.promise},kratix.io/resource-name={request.name}"
        items: list[Object] = self._objects.list(JOBS, namespace=request.namespace, label_selector=selector)[
            "items"
        ]
        return items


def _annotations(run: ActionRun) -> dict[str, str]:
    return {
        RUN_ID_ANNOTATION: run.spec.run_id,
        ACTIONRUN_ANNOTATION: f"{run.namespace}/{run.name}",
        REQUESTED_BY_ANNOTATION: run.spec.trigger.by.email or "",
    }


def _uid(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")
