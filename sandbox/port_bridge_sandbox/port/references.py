"""What a blueprint refers to, and what refers to it: the data model's graph as Port guards it.

Port's spec says what one blueprint body may hold; it cannot say that the blueprints it names
exist. Port refuses a blueprint whose relation targets a blueprint it does not have, and the
deletion of a blueprint others still point at (docs: "relate blueprints"; "Before deleting a
blueprint, make sure all associated entities have been deleted", apispec.yaml). These pure
functions find both, over blueprints as the emulator stores them.

Choices where Port's docs are silent: a missing target blueprint is 404 (the spec's "a resource
with the provided identifier was not found"); a mirror property whose path does not lead through
the blueprint's relations to a property is 422; a blueprint may relate to itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from port_bridge_sandbox.port.errors import PortError, invalid, not_found

Blueprint = Mapping[str, Any]
Lookup = Callable[[str], Blueprint | None]
_PROPERTY_KINDS = ("calculationProperties", "mirrorProperties", "aggregationProperties")


def check_references(body: Blueprint, find: Lookup) -> None:
    """Refuse ``body`` if a relation, aggregation or mirror path names what does not exist.

    ``find`` returns a stored blueprint by identifier; ``body`` itself stands for its own
    identifier, so a blueprint may relate to itself and mirror its own relations' properties.
    """

    def lookup(identifier: str) -> Blueprint | None:
        return body if identifier == body["identifier"] else find(identifier)

    for name, target in targets(body):
        if lookup(target) is None:
            raise not_found(f"{name}: blueprint {target!r}")
    for name, mirror in (body.get("mirrorProperties") or {}).items():
        _check_mirror_path(body, f"mirrorProperties.{name}.path", mirror.get("path", ""), lookup)


def targets(blueprint: Blueprint) -> Iterator[tuple[str, str]]:
    """``(field, target blueprint)`` for each relation and aggregation property of ``blueprint``."""
    for name, relation in (blueprint.get("relations") or {}).items():
        yield f"relations.{name}.target", relation["target"]
    for name, aggregation in (blueprint.get("aggregationProperties") or {}).items():
        if isinstance(aggregation.get("target"), str):
            yield f"aggregationProperties.{name}.target", aggregation["target"]


def referrers(identifier: str, blueprints: Mapping[str, Blueprint]) -> list[str]:
    """Each other blueprint's field that points at ``identifier`` (``"service: relations.db.target"``)."""
    return [
        f"{other}: {field}"
        for other, blueprint in blueprints.items()
        if other != identifier
        for field, target in targets(blueprint)
        if target == identifier
    ]


def _check_mirror_path(blueprint: Blueprint, field: str, path: str, lookup: Lookup) -> None:
    *relations, last = path.split(".")
    current = blueprint
    for relation in relations:
        definition = (current.get("relations") or {}).get(relation)
        if definition is None:
            raise invalid(f"{field}: {current['identifier']!r} has no relation {relation!r} (path {path!r})")
        found = lookup(definition["target"])
        if found is None:
            raise not_found(f"{field}: blueprint {definition['target']!r}")
        current = found
    if not relations or not (last.startswith("$") or _has_property(current, last)):
        raise invalid(f"{field}: {path!r} does not lead through relations to a property")


def _has_property(blueprint: Blueprint, name: str) -> bool:
    if name in ((blueprint.get("schema") or {}).get("properties") or {}):
        return True
    return any(name in (blueprint.get(kind) or {}) for kind in _PROPERTY_KINDS)


def refuse_deletion(identifier: str, reasons: list[str]) -> PortError:
    return invalid(f"blueprint {identifier!r} cannot be deleted: " + "; ".join(reasons))
