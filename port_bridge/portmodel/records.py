"""What port-bridge created in Port, remembered in Port itself, so ``--prune`` deletes only that.

``apply`` runs from CI and from laptops, so what it created cannot live in a local state file.
Port keeps no free-form marker on the objects themselves: a scorecard body admits no field
beyond its schema, a blueprint's ``description`` (200 characters) and an action's are shown to
every user, and ``createdBy`` names the credentials, not the tool (CI and a laptop use different
ones, and a person may use the same ones by hand). So each object ``apply`` creates gets one
entity of the blueprint ``port-bridge-managed``, written right after Port accepted the object
and deleted right after the object is:

    identifier  apply:scorecard:postgresql/production-readiness
    properties  {manager: apply, kind: scorecard, identifier: production-readiness, blueprint: postgresql}

One entity per object means no read-modify-write: two runs at once cannot lose each other's
records. ``manager`` lets other parts of port-bridge that create objects in Port keep their own
records in the same blueprint without one pruning the other's. A crash between creating an
object and recording it leaves the object unrecorded, so it is never pruned: the safe side.
The blueprint is created, without a catalog page, the first time ``apply`` creates something.
"""

from __future__ import annotations

from typing import Any

from port_bridge.port.client import PortClient
from port_bridge.portmodel.files import KINDS, ObjectKey

RECORDS_BLUEPRINT = "port-bridge-managed"
APPLY = "apply"
BLUEPRINT_BODY: dict[str, Any] = {
    "identifier": RECORDS_BLUEPRINT,
    "title": "Managed by port-bridge",
    "icon": "Lock",
    "description": "What port-bridge created in Port (port-bridge apply --prune deletes only these).",
    "schema": {
        "properties": {
            "manager": {"type": "string", "title": "Created by"},
            "kind": {"type": "string", "title": "Kind", "enum": list(KINDS)},
            "identifier": {"type": "string", "title": "Identifier"},
            "blueprint": {"type": "string", "title": "Blueprint (of a scorecard)"},
        },
        "required": ["manager", "kind", "identifier"],
    },
}


class Records:
    """The records of one manager (``apply`` by default) in the ``port-bridge-managed`` blueprint."""

    def __init__(self, port: PortClient, *, manager: str = APPLY) -> None:
        self._port = port
        self.manager = manager

    def read(self, *, blueprint_exists: bool) -> set[ObjectKey]:
        if not blueprint_exists:
            return set()
        return {key for entity in self._port.list_entities(RECORDS_BLUEPRINT) if (key := self._key(entity))}

    def create_blueprint(self) -> None:
        self._port.create_blueprint(BLUEPRINT_BODY, catalog_page=False)

    def add(self, key: ObjectKey) -> None:
        properties = {"manager": self.manager, "kind": key.kind, "identifier": key.identifier}
        if key.blueprint:
            properties["blueprint"] = key.blueprint
        entity = {"identifier": self.entity_identifier(key), "title": str(key), "properties": properties}
        self._port.upsert_entity(RECORDS_BLUEPRINT, entity, merge=False)

    def remove(self, key: ObjectKey) -> None:
        self._port.delete_entity(RECORDS_BLUEPRINT, self.entity_identifier(key))

    def entity_identifier(self, key: ObjectKey) -> str:
        return f"{self.manager}:{key.kind}:{key.name}"

    def _key(self, entity: dict[str, Any]) -> ObjectKey | None:
        properties = entity.get("properties") or {}
        kind, identifier = properties.get("kind"), properties.get("identifier")
        if properties.get("manager") != self.manager or kind not in KINDS or not isinstance(identifier, str):
            return None
        blueprint = properties.get("blueprint") if kind == "scorecard" else ""
        return ObjectKey(kind, identifier, blueprint if isinstance(blueprint, str) else "")
