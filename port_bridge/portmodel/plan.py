"""What ``apply`` will do, decided from the files and what Port has, before anything is written.

Every object of the files is created, changed (with the fields that differ) or left as it is.
Objects port-bridge created that the files no longer have are kept unless ``--prune``, and then
deleted, except a blueprint something else still needs (entities, someone else's actions or
scorecards on it, a blueprint that relates to it): Port would refuse, and deleting those would
delete what port-bridge did not create, so it is reported as blocked. Objects port-bridge did
not create are never deleted. A record of an object Port no longer has (someone deleted it by
hand) is dropped by any run that writes, so a later object of that name, someone else's, is
never taken for port-bridge's. Pure functions: the plan is printed as the diff, and
:mod:`.execute` carries it out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from port_bridge.portmodel.diff import Difference, differences
from port_bridge.portmodel.files import Json, Model, ObjectKey
from port_bridge.portmodel.normalise import normalised
from port_bridge.portmodel.remote import Snapshot


class Step(enum.Enum):
    CREATE = "create"
    UPDATE = "change"
    UNCHANGED = "unchanged"
    KEEP = "keep"  # port-bridge created it, the files no longer have it, no --prune
    DELETE = "delete"
    BLOCKED = "blocked"  # --prune would delete it, but something else still needs it


@dataclass(frozen=True)
class Change:
    key: ObjectKey
    step: Step
    body: Json | None = None  # what the files say, for CREATE and UPDATE
    current: Json | None = None  # what Port has
    source: Path | None = None
    differences: tuple[Difference, ...] = ()
    recorded: bool = False  # port-bridge created it (its record is in Port)
    reason: str = ""  # why a deletion is blocked


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    create_records_blueprint: bool = False
    forget: tuple[ObjectKey, ...] = ()  # records of objects Port no longer has

    def of(self, step: Step, kind: str | None = None) -> list[Change]:
        return [c for c in self.changes if c.step is step and (kind is None or c.key.kind == kind)]

    @property
    def writes_anything(self) -> bool:
        busy = (Step.CREATE, Step.UPDATE, Step.DELETE)
        return bool(self.forget) or any(change.step in busy for change in self.changes)


def make_plan(model: Model, snapshot: Snapshot, *, prune: bool) -> Plan:
    changes = [_change(key, model, snapshot) for key in sorted(model.objects)]
    gone = sorted(snapshot.created - set(model.objects))
    forget = tuple(key for key in gone if key not in snapshot.objects)
    leaving = [key for key in gone if key in snapshot.objects]
    blocked = _blocked(model, snapshot, leaving) if prune else {}
    for key in leaving:
        current = snapshot.objects[key]
        if not prune:
            changes.append(Change(key, Step.KEEP, current=current, recorded=True))
        elif key in blocked:
            reason = "; ".join(blocked[key])
            changes.append(Change(key, Step.BLOCKED, current=current, recorded=True, reason=reason))
        else:
            changes.append(Change(key, Step.DELETE, current=current, recorded=True))
    creates = any(c.step is Step.CREATE and not c.recorded for c in changes)
    return Plan(tuple(changes), creates and not snapshot.records_blueprint, forget)


def references(blueprint: Json) -> set[str]:
    """The blueprints ``blueprint`` relates to or aggregates over (itself excluded)."""
    found = {relation["target"] for relation in (blueprint.get("relations") or {}).values()}
    aggregations = (blueprint.get("aggregationProperties") or {}).values()
    found |= {a["target"] for a in aggregations if isinstance(a.get("target"), str)}
    return found - {blueprint.get("identifier")}


def _change(key: ObjectKey, model: Model, snapshot: Snapshot) -> Change:
    wanted = model.objects[key]
    recorded = key in snapshot.created
    current = snapshot.objects.get(key)
    if current is None:
        return Change(key, Step.CREATE, wanted.body, source=wanted.source, recorded=recorded)
    found = tuple(differences(normalised(key.kind, current), normalised(key.kind, wanted.body)))
    step = Step.UPDATE if found else Step.UNCHANGED
    return Change(
        key, step, wanted.body, current=current, source=wanted.source, differences=found, recorded=recorded
    )


def _blocked(model: Model, snapshot: Snapshot, leaving: list[ObjectKey]) -> dict[ObjectKey, list[str]]:
    """Why each blueprint among ``leaving`` cannot go; grows until no kept blueprint needs a deleted one."""
    candidates = {key.identifier for key in leaving if key.kind == "blueprint"}
    blocked: dict[ObjectKey, list[str]] = {}
    while True:
        going = candidates - {key.identifier for key in blocked}
        found = {
            ObjectKey("blueprint", name): reasons
            for name in sorted(going)
            if (reasons := list(_needs(name, model, snapshot, going, set(leaving))))
        }
        if not found:
            return blocked
        blocked.update(found)


def _needs(
    name: str, model: Model, snapshot: Snapshot, going: set[str], leaving: set[ObjectKey]
) -> Iterator[str]:
    if snapshot.entities.get(name):
        yield f"it still has {snapshot.entities[name]} entities (apply never deletes catalog data)"
    for found in model.objects.values():
        if _names(found.key, found.body, name):
            yield f"{found.source} names it"
    for key, body in sorted(snapshot.objects.items()):
        if key in model.objects or key in leaving or (key.kind == "blueprint" and key.identifier in going):
            continue
        if _names(key, body, name):
            yield f"{key} (not created by port-bridge) names it"


def _names(key: ObjectKey, body: Json, blueprint: str) -> bool:
    """Whether the object needs ``blueprint``: relates to it, belongs to it, or sits on it."""
    if key.kind == "blueprint":
        return key.identifier != blueprint and blueprint in references(body)
    if key.kind == "action":
        return (body.get("trigger") or {}).get("blueprintIdentifier") == blueprint
    return key.blueprint == blueprint
