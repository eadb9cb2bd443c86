"""A full pass's reading of Port: the mirrored blueprints as Port has them, and all their entities.

Two calls a blueprint: the blueprint (which of the Kratix state properties it defines, whether it
has the marker, which blueprints its relations point to) and its entities. The sync's memory is
rebuilt from the entities (:class:`~.memory.Memory`); the entities themselves are only kept for
the pass, to compare what each request's entity would be with what Port holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge.catalogsync.memory import EntityKey, Known
from port_bridge.catalogsync.plan import Blueprint
from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES, REQUEST, parse_request
from port_bridge.port.client import PortClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortView:
    blueprints: dict[str, Blueprint]  # those Port has, of the wanted ones
    entities: dict[EntityKey, Mapping[str, Any]]
    known: dict[EntityKey, Known]  # what the memory starts the pass with


def read_port(port: PortClient, wanted: Collection[str], *, warn: Callable[[str], None]) -> PortView:
    """What Port holds of the ``wanted`` blueprints; ``warn`` hears of blueprints that cannot be mirrored
    (fully)."""
    blueprints: dict[str, Blueprint] = {}
    entities: dict[EntityKey, Mapping[str, Any]] = {}
    known: dict[EntityKey, Known] = {}
    for blueprint in sorted(wanted):
        definition = port.get_blueprint(blueprint)
        if definition is None:
            warn(f"blueprint {blueprint} is not in Port: its requests are not mirrored")
            continue
        properties = frozenset(((definition.get("schema") or {}).get("properties") or {}).keys())
        relations = (definition.get("relations") or {}).values()
        targets = frozenset(str(r["target"]) for r in relations if isinstance(r, Mapping) and r.get("target"))
        lacking = [name for name in BLUEPRINT_PROPERTIES if name not in properties]
        if lacking:
            never = " (and never deleted)" if REQUEST in lacking else ""
            warn(f"blueprint {blueprint} lacks {', '.join(lacking)}: its entities go without them{never}")
        blueprints[blueprint] = Blueprint(properties, targets)
        for entity in port.list_entities(blueprint):
            key = (blueprint, str(entity.get("identifier")))
            entities[key] = entity
            known[key] = Known(None, parse_request((entity.get("properties") or {}).get(REQUEST)))
    return PortView(blueprints, entities, known)
