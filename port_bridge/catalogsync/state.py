"""A request's Kratix state as catalog properties, and the property that marks an entity as mirrored.

What a developer reads in the catalog is where Kratix stands with the request *now*, whoever made
it: :func:`state_properties` reads it with the same classifier runs use
(:func:`port_bridge.kratix.status.classify`, every Kratix era), bound to the request's current
generation, so an older generation's success does not show as Ready while a change is applied.

* ``kratixState``: Pending (not picked up yet), Reconciling (pipelines or works in progress, a
  change being applied, a periodic re-run), Ready, Failed (a pipeline, a state store write, a
  delete pipeline), Deleting, or Waiting (paused, suspended, the Promise unavailable);
* ``kratixDetail``: the short label runs show in Port (``Pipeline 1 of 2 running``, ``Paused``);
* ``kratixLastReconciled``: when the configure workflow last succeeded;
* ``kratixGeneration`` and ``kratixObservedGeneration``: the request's generation and the last one
  Kratix finished (Kratix from 2024-05);
* ``kratixRequest``: which request the entity mirrors (``postgresqls.marketplace.kratix.io/default/orders``).
  It is written only on entities port-bridge created (by a run, or by the sync itself), and only
  entities carrying it are ever deleted by the sync (:mod:`.mirror`).

A legacy Kratix (up to v0.125) shows a failed pipeline only on its Job, which the sync does not
read: such a request shows Reconciling until Kratix runs it again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge.kratix.status import Phase, classify
from port_bridge.kube.objects import Resource

STATE = "kratixState"
DETAIL = "kratixDetail"
LAST_RECONCILED = "kratixLastReconciled"
GENERATION = "kratixGeneration"
OBSERVED_GENERATION = "kratixObservedGeneration"
REQUEST = "kratixRequest"


class CatalogState(enum.StrEnum):
    PENDING = "Pending"
    RECONCILING = "Reconciling"
    READY = "Ready"
    FAILED = "Failed"
    DELETING = "Deleting"
    WAITING = "Waiting"


_BY_PHASE = {
    Phase.PENDING: CatalogState.PENDING,
    Phase.IN_PROGRESS: CatalogState.RECONCILING,
    Phase.WAITING: CatalogState.WAITING,
    Phase.SUCCEEDED: CatalogState.READY,
    Phase.FAILED: CatalogState.FAILED,
    Phase.DELETING: CatalogState.DELETING,
    Phase.DELETED: CatalogState.DELETING,
    Phase.MISSING: CatalogState.DELETING,
}
_COLOURS = {
    CatalogState.PENDING: "lightGray",
    CatalogState.RECONCILING: "blue",
    CatalogState.READY: "green",
    CatalogState.FAILED: "red",
    CatalogState.DELETING: "orange",
    CatalogState.WAITING: "yellow",
}

# The blueprint properties, as blueprints/*.json and generated blueprints define them.
BLUEPRINT_PROPERTIES: dict[str, dict[str, Any]] = {
    STATE: {
        "type": "string",
        "title": "Kratix state",
        "description": "Where Kratix stands with the request now, kept current by port-bridge",
        "enum": [state.value for state in CatalogState],
        "enumColors": {state.value: colour for state, colour in _COLOURS.items()},
    },
    DETAIL: {"type": "string", "title": "Kratix detail", "description": "What Kratix is doing, in short"},
    LAST_RECONCILED: {
        "type": "string",
        "format": "date-time",
        "title": "Last reconciled",
        "description": "When Kratix's configure workflow last succeeded",
    },
    GENERATION: {
        "type": "number",
        "title": "Generation",
        "description": "metadata.generation of the request",
    },
    OBSERVED_GENERATION: {
        "type": "number",
        "title": "Observed generation",
        "description": "The last generation Kratix finished reconciling",
    },
    REQUEST: {
        "type": "string",
        "title": "Kratix request",
        "description": "The request this entity mirrors; port-bridge deletes the entity once it is gone",
    },
}


@dataclass(frozen=True, order=True)
class RequestRef:
    """One request of a mapped Promise, wherever it came from."""

    group: str
    version: str
    plural: str
    namespace: str
    name: str

    @property
    def resource(self) -> Resource:
        return Resource(self.group, self.version, self.plural)

    @property
    def text(self) -> str:
        """How ``kratixRequest`` names it: ``<plural>.<group>/<namespace>/<name>`` (as kubectl does)."""
        return f"{self.plural}.{self.group}/{self.namespace}/{self.name}"

    @classmethod
    def of(cls, resource: Resource, namespace: str, name: str) -> RequestRef:
        return cls(resource.group, resource.version, resource.plural, namespace, name)


def parse_request(text: Any) -> tuple[str, str, str, str] | None:
    """``(group, plural, namespace, name)`` from a ``kratixRequest`` value, or ``None`` if malformed."""
    if not isinstance(text, str):
        return None
    parts = text.split("/")
    if len(parts) != 3 or not all(parts):
        return None
    plural, dot, group = parts[0].partition(".")
    if not dot or not plural or not group:
        return None
    return group, plural, parts[1], parts[2]


def state_properties(request: Mapping[str, Any], *, has_configure_workflow: bool) -> dict[str, Any]:
    """The Kratix state properties of a request as it is (``None`` for what it does not show)."""
    metadata, status = request.get("metadata") or {}, request.get("status") or {}
    generation = metadata.get("generation")
    generation = generation if isinstance(generation, int) else 1
    kratix = classify(
        request,
        submitted_generation=generation,
        operation="CREATE",
        has_configure_workflow=has_configure_workflow,
    )
    observed = status.get("observedGeneration")
    return {
        STATE: _BY_PHASE[kratix.phase].value,
        DETAIL: kratix.label,
        LAST_RECONCILED: last_reconciled(status),
        GENERATION: generation,
        OBSERVED_GENERATION: observed if isinstance(observed, int) else None,
    }


def last_reconciled(status: Mapping[str, Any]) -> str | None:
    """When the configure workflow last succeeded: Kratix's own field, else its condition's time."""
    workflows = (status.get("kratix") or {}).get("workflows") or {}
    for value in (
        workflows.get("lastSuccessfulConfigureWorkflowTime"),
        status.get("lastSuccessfulConfigureWorkflowTime"),
    ):
        if isinstance(value, str) and value:
            return value
    for condition in status.get("conditions") or ():
        if (
            isinstance(condition, Mapping)
            and condition.get("type") in ("ConfigureWorkflowCompleted", "PipelineCompleted")
            and condition.get("status") == "True"
            and isinstance(condition.get("lastTransitionTime"), str)
        ):
            return str(condition["lastTransitionTime"])
    return None
