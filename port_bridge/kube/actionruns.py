"""ActionRuns: the durable record of one Port run, named after the run.

Port may deliver a run more than once, and a controller may die at any moment, so everything
about a run lives in one object in the cluster. Its name is derived from the Port run id: ids
are case-sensitive and not DNS names (``r_QOz6WoOB1Q2lmhZZ``), so the name is the lowercased id
plus a hash of the exact id (two ids differing only in case get different names). The exact id
is kept in ``spec.runId``.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

from port_bridge.actionrun.model import ActionRunSpec
from port_bridge.kube.objects import Resource

ACTIONRUNS = Resource("port-bridge.io", "v1alpha1", "actionruns")
KIND = "ActionRun"
RUN_ID_ANNOTATION = "port-bridge.io/run-id"
RUN_ID_LABEL = "port-bridge.io/run-id"
ACTION_LABEL = "port-bridge.io/action"
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def actionrun_name(run_id: str) -> str:
    """A valid, deterministic object name for a run id; distinct ids give distinct names."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:10]
    readable = re.sub(r"[^a-z0-9]+", "-", run_id.lower()).strip("-")[:40].strip("-")
    return f"{readable}-{digest}" if readable else f"run-{digest}"


def label_value(value: str | None) -> str | None:
    """``value`` if Kubernetes accepts it as a label value, else ``None``."""
    if value and len(value) <= 63 and _LABEL_VALUE.fullmatch(value):
        return value
    return None


def now_rfc3339() -> str:
    """UTC now as RFC 3339 with milliseconds (run timeouts can be a few seconds)."""
    return datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actionrun_manifest(spec: ActionRunSpec, *, namespace: str) -> dict[str, Any]:
    """The ActionRun that records a run (stamped with the time it was received, unless it has one)."""
    labels = {ACTION_LABEL: label_value(spec.action), RUN_ID_LABEL: label_value(spec.run_id)}
    stamped = spec if spec.received_at else spec.model_copy(update={"received_at": now_rfc3339()})
    return {
        "apiVersion": ACTIONRUNS.api_version,
        "kind": KIND,
        "metadata": {
            "name": actionrun_name(spec.run_id),
            "namespace": namespace,
            "labels": {key: value for key, value in labels.items() if value},
            "annotations": {RUN_ID_ANNOTATION: spec.run_id},
        },
        "spec": stamped.to_json(),
    }
