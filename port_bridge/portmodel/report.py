"""The plan as a person reads it: one line per object that changes, the fields that differ, a count.

    + blueprint service  (blueprints/service.json)
    ~ blueprint postgresql  (blueprints/postgresql.json)
        ~ title: "PostgreSQL" -> "Postgres"
        + schema.properties.port: {"type": "number"}
    - action old-action  (port-bridge created it; the files no longer have it)
    1 to create, 1 to change, 1 to delete, 11 unchanged.

Unchanged objects are only counted. ``+`` creates, ``~`` changes, ``-`` deletes, ``!`` is a
deletion ``--prune`` cannot make, ``=`` an object kept because ``--prune`` was not given.
"""

from __future__ import annotations

from port_bridge.portmodel.files import KINDS
from port_bridge.portmodel.plan import Change, Plan, Step
from port_bridge.portmodel.records import RECORDS_BLUEPRINT

_MARKS = {Step.CREATE: "+", Step.UPDATE: "~", Step.DELETE: "-", Step.BLOCKED: "!", Step.KEEP: "="}
_GONE = "port-bridge created it; the files no longer have it"


def render_plan(plan: Plan) -> list[str]:
    lines = []
    if plan.create_records_blueprint:
        lines.append(
            f"+ blueprint {RECORDS_BLUEPRINT}  (port-bridge's record of what apply creates, for --prune)"
        )
    for change in sorted(plan.changes, key=lambda c: (KINDS.index(c.key.kind), c.key.name)):
        if change.step is not Step.UNCHANGED:
            lines += _lines(change)
    lines += [f"- the record of {key}  (Port no longer has it)" for key in plan.forget]
    lines.append(summary(plan))
    return lines


def summary(plan: Plan) -> str:
    counts = {step: len(plan.of(step)) for step in Step}
    if not plan.writes_anything and not counts[Step.BLOCKED]:
        kept = f"; {counts[Step.KEEP]} kept (apply --prune deletes them)" if counts[Step.KEEP] else ""
        return f"No changes: Port matches the files ({counts[Step.UNCHANGED]} objects){kept}."
    parts = [
        f"{counts[Step.CREATE]} to create",
        f"{counts[Step.UPDATE]} to change",
        f"{counts[Step.DELETE]} to delete",
        f"{counts[Step.UNCHANGED]} unchanged",
    ]
    if counts[Step.KEEP]:
        parts.append(f"{counts[Step.KEEP]} kept (apply --prune deletes them)")
    if counts[Step.BLOCKED]:
        parts.append(f"{counts[Step.BLOCKED]} that --prune cannot delete")
    return ", ".join(parts) + "."


def _lines(change: Change) -> list[str]:
    head = f"{_MARKS[change.step]} {change.key}"
    if change.step in (Step.CREATE, Step.UPDATE):
        foreign = "" if change.recorded or change.step is Step.CREATE else "; not created by port-bridge"
        return [f"{head}  ({change.source}{foreign})", *(f"    {d.describe()}" for d in change.differences)]
    if change.step is Step.BLOCKED:
        return [f"{head}  ({_GONE}) is not deleted: {change.reason}"]
    if change.step is Step.KEEP:
        return [f"{head}  ({_GONE}; apply --prune deletes it)"]
    return [f"{head}  ({_GONE})"]
