"""Carrying out a plan in an order Port accepts, recording what is created and forgetting what is deleted.

1. Blueprints. A blueprint can only relate to (or aggregate over, or mirror through) blueprints
   that exist, and blueprints may relate to each other in a cycle (``service.dependencies`` to
   ``service``, ``service`` to ``postgresql`` and back). So new blueprints are created first
   without ``relations``, ``mirrorProperties``, ``aggregationProperties`` and an inherited
   ``ownership`` (one POST each), then every blueprint that needs its full body is replaced
   (PUT), targets before the blueprints that point at them. A new blueprint without references
   costs one write, one with references two.
2. Actions (their blueprint exists now), then scorecards (likewise).
3. With ``--prune``: scorecards, actions, then blueprints, each blueprint after those that point
   at it (a cycle is first cut by replacing one member without its references).

Every object created is recorded right after Port accepted it (:mod:`.records`), and a record is
removed right after its object is deleted. The first refusal stops the run with
:class:`ApplyFailed`, which says what was done before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortError
from port_bridge.portmodel.files import Json, ObjectKey
from port_bridge.portmodel.normalise import BOOKKEEPING
from port_bridge.portmodel.plan import Change, Plan, Step, references
from port_bridge.portmodel.records import RECORDS_BLUEPRINT, Records

REFERENCING = ("relations", "mirrorProperties", "aggregationProperties")


class ApplyFailed(Exception):
    """Port refused (or did not answer) a write; ``done`` counts the writes that went through."""

    def __init__(self, what: str, error: PortError, done: int) -> None:
        super().__init__(f"{what}: {error}")
        self.what = what
        self.error = error
        self.done = done


class Executor:
    def __init__(self, port: PortClient, records: Records) -> None:
        self._port = port
        self._records = records
        self.writes = 0

    def run(self, plan: Plan) -> None:
        if plan.create_records_blueprint:
            self._write(f"create blueprint {RECORDS_BLUEPRINT}", self._records.create_blueprint)
        self._blueprints(plan)
        for kind in ("action", "scorecard"):
            for change in plan.of(Step.CREATE, kind):
                self._write(f"create {change.key}", self._create, change)
                self._record(change)
            for change in plan.of(Step.UPDATE, kind):
                self._write(f"change {change.key}", self._update, change.key, _body(change))
        for kind in ("scorecard", "action"):
            for change in plan.of(Step.DELETE, kind):
                self._delete(change.key)
        self._delete_blueprints(plan)
        for key in plan.forget:
            self._write(f"forget the record of {key}", self._records.remove, key)

    def _blueprints(self, plan: Plan) -> None:
        whole: dict[str, Json] = {c.key.identifier: _body(c) for c in plan.of(Step.UPDATE, "blueprint")}
        for change in plan.of(Step.CREATE, "blueprint"):
            body = _body(change)
            first = without_references(body) if has_references(body) else body
            self._write(f"create {change.key}", self._port.create_blueprint, first)
            self._record(change)
            if first is not body:
                whole[change.key.identifier] = body
        for name in _targets_first(whole):
            key = ObjectKey("blueprint", name)
            self._write(f"change {key}", self._update, key, whole[name])

    def _delete_blueprints(self, plan: Plan) -> None:
        doomed = plan.of(Step.DELETE, "blueprint")
        left = dict.fromkeys(c.key.identifier for c in doomed)
        current = {c.key.identifier: c.current or {} for c in doomed}
        while left:
            free = [n for n in left if not any(n in references(current[o]) for o in left if o != n)]
            if not free:  # a cycle: cut it by replacing one member without its references
                name = next(iter(left))
                stripped = without_references(_without_bookkeeping(current[name]))
                self._write(f"cut blueprint {name} loose", self._port.update_blueprint, name, stripped)
                current[name] = stripped
                continue
            for name in free:
                self._delete(ObjectKey("blueprint", name))
                del left[name]

    def _create(self, change: Change) -> Any:
        key, body = change.key, _body(change)
        if key.kind == "action":
            return self._port.create_action(body)
        return self._port.create_scorecard(key.blueprint, body)

    def _update(self, key: ObjectKey, body: Json) -> Any:
        if key.kind == "blueprint":
            return self._port.update_blueprint(key.identifier, body)
        if key.kind == "action":
            return self._port.update_action(key.identifier, body)
        return self._port.update_scorecard(key.blueprint, key.identifier, body)

    def _delete(self, key: ObjectKey) -> None:
        if key.kind == "blueprint":
            self._write(f"delete {key}", self._port.delete_blueprint, key.identifier)
        elif key.kind == "action":
            self._write(f"delete {key}", self._port.delete_action, key.identifier)
        else:
            self._write(f"delete {key}", self._port.delete_scorecard, key.blueprint, key.identifier)
        self._write(f"forget the record of {key}", self._records.remove, key)

    def _record(self, change: Change) -> None:
        if not change.recorded:
            self._write(f"record {change.key}", self._records.add, change.key)

    def _write(self, what: str, call: Callable[..., object], *args: Any) -> None:
        try:
            call(*args)
        except PortError as error:
            raise ApplyFailed(what, error, self.writes) from error
        self.writes += 1


def has_references(blueprint: Json) -> bool:
    inherited = (blueprint.get("ownership") or {}).get("type") == "Inherited"
    return inherited or any(blueprint.get(field) for field in REFERENCING)


def without_references(blueprint: Json) -> Json:
    """The blueprint without what names other blueprints, so it can be created before them."""
    stripped = {k: v for k, v in blueprint.items() if k not in REFERENCING}
    if (blueprint.get("ownership") or {}).get("type") == "Inherited":
        del stripped["ownership"]
    return stripped


def _targets_first(bodies: dict[str, Json]) -> list[str]:
    """The blueprints in an order where each comes after those of the set it references."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return  # done, or a cycle: Port has every member by now, in some form
        visiting.add(name)
        for target in sorted(references(bodies[name]) & set(bodies)):
            visit(target)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(bodies):
        visit(name)
    return ordered


def _body(change: Change) -> Json:
    if change.body is None:
        raise ValueError(f"{change.key} has no body to write")
    return change.body


def _without_bookkeeping(blueprint: Json) -> Json:
    return {k: v for k, v in blueprint.items() if k not in BOOKKEEPING}
