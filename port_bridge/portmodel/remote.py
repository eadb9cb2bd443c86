"""What Port has now, read once before ``apply`` decides anything: the other side of the diff.

Reads only (GET): every blueprint and action, the scorecards of the blueprints the files or the
records name, the records of what ``apply`` created, and, for ``--prune``, how many entities
each blueprint it would delete still holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from port_bridge.port.client import PortClient
from port_bridge.portmodel.files import Json, Model, ObjectKey
from port_bridge.portmodel.records import RECORDS_BLUEPRINT, Records


@dataclass(frozen=True)
class Snapshot:
    """Port's objects by key, what ``apply`` created (``created``), and entity counts for pruning."""

    objects: Mapping[ObjectKey, Json]
    created: frozenset[ObjectKey]
    records_blueprint: bool
    entities: Mapping[str, int] = field(default_factory=dict)

    def blueprints(self) -> dict[str, Json]:
        return {key.identifier: body for key, body in self.objects.items() if key.kind == "blueprint"}


def read_snapshot(port: PortClient, model: Model, records: Records, *, prune: bool) -> Snapshot:
    objects: dict[ObjectKey, Json] = {}
    records_blueprint = False
    for body in port.list_blueprints():
        if body.get("identifier") == RECORDS_BLUEPRINT:
            records_blueprint = True
        elif isinstance(body.get("identifier"), str):
            objects[ObjectKey("blueprint", body["identifier"])] = body
    for action in port.list_actions():
        if isinstance(action.get("identifier"), str):
            objects[ObjectKey("action", action["identifier"])] = action
    created = frozenset(records.read(blueprint_exists=records_blueprint))
    wanted = {key.blueprint for key in [*model.objects, *created] if key.kind == "scorecard"}
    pruned = {key.identifier for key in created - set(model.objects) if key.kind == "blueprint"}
    for blueprint in sorted(
        (wanted | pruned) & {key.identifier for key in objects if key.kind == "blueprint"}
    ):
        objects.update(_scorecards(blueprint, port.list_scorecards(blueprint)))
    entities = {}
    if prune:
        for blueprint in sorted(pruned):
            if ObjectKey("blueprint", blueprint) in objects:
                entities[blueprint] = port.count_entities(blueprint)
    return Snapshot(objects, created, records_blueprint, entities)


def _scorecards(blueprint: str, scorecards: Iterable[Json]) -> dict[ObjectKey, Json]:
    return {
        ObjectKey("scorecard", scorecard["identifier"], blueprint=blueprint): scorecard
        for scorecard in scorecards
        if isinstance(scorecard.get("identifier"), str)
    }
