"""Writing what the controller did into ActionRun status: one merge patch, guarded by resourceVersion.

Each write carries the resourceVersion the controller read, so a write based on a stale view is
refused (409) and the run is looked at again from its latest state, instead of undoing what
someone else wrote. Only the fields that changed are sent. What was written is handed to the
watch cache at once, so the next look sees it even before its watch event arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRun, ActionRunStatus
from port_bridge.controller.errors import Conflict
from port_bridge.kube.actionruns import ACTIONRUNS
from port_bridge.kube.objects import KubeObjects, Object


class RunRecords:
    def __init__(
        self,
        objects: KubeObjects,
        *,
        remember: Callable[[Object], object],
        before_write: Callable[[], None],
    ) -> None:
        self._objects, self._remember, self._before_write = objects, remember, before_write

    def write(self, run: ActionRun, status: ActionRunStatus) -> ActionRun:
        """Record ``status``; the ActionRun as it now is (``run`` itself when nothing changed)."""
        changes = status.changed_fields(run.status)
        if not changes:
            return run
        updated = self.write_raw(run.name, run.namespace, run.resource_version, changes)
        version = (updated.get("metadata") or {}).get("resourceVersion")
        return run.model_copy(update={"status": status, "resource_version": version})

    def write_raw(
        self, name: str, namespace: str, resource_version: str | None, changes: Mapping[str, Any]
    ) -> Object:
        """Merge ``changes`` into the status of an object that may not even parse as an ActionRun."""
        self._before_write()
        body = {"metadata": {"resourceVersion": resource_version}, "status": dict(changes)}
        try:
            updated = self._objects.patch_status(ACTIONRUNS, name, body, namespace=namespace)
        except ApiException as error:
            if error.status in (404, 409):  # deleted or changed meanwhile: look again
                raise Conflict(name) from error
            raise
        self._remember(updated)
        return updated

    def delete(self, name: str, namespace: str, uid: str | None) -> None:
        """Collect a finished ActionRun (not a same-named successor: the uid guards that)."""
        self._before_write()
        try:
            self._objects.delete(ACTIONRUNS, name, namespace=namespace, uid=uid)
        except ApiException as error:
            if error.status not in (404, 409):
                raise
