"""What Port refuses that no schema can say: references to blueprints, and scorecard levels.

A relation, an aggregation, an action or a scorecard may only name a blueprint that exists once
the blueprints are written: one in ``blueprints/``, or one Port has (``--prune`` keeps a
blueprint a file still names, see :mod:`.plan`). A mirror property's path must lead through
relations to a property. A scorecard rule must sit on one of the scorecard's levels, and not on
the first (the base level owns no rules; research/port.md §4.3). Each problem names the file
and the field, and all are found before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from port_bridge.portmodel.files import Json, Model, ModelObject
from port_bridge.portmodel.normalise import DEFAULT_LEVELS
from port_bridge.portmodel.records import RECORDS_BLUEPRINT

_PROPERTY_KINDS = ("calculationProperties", "mirrorProperties", "aggregationProperties")


def reference_problems(model: Model, port_blueprints: Mapping[str, Json]) -> list[str]:
    """Problems of the model against the blueprints there will be: the files' and Port's."""
    available = {**port_blueprints, **{o.key.identifier: o.body for o in model.of_kind("blueprint")}}
    problems: list[str] = []
    for found in model.of_kind("blueprint"):
        problems += _blueprint_problems(found, available)
    for found in model.of_kind("action"):
        for field, target in _action_targets(found.body):
            problems += _missing(found, field, target, available)
    for found in model.of_kind("scorecard"):
        problems += _missing(found, "", found.key.blueprint, available)
        problems += _level_problems(found)
    return problems


def _blueprint_problems(found: ModelObject, available: Mapping[str, Json]) -> list[str]:
    body = found.body
    if found.key.identifier == RECORDS_BLUEPRINT:
        return [f"{found.where('identifier')}: {RECORDS_BLUEPRINT} is port-bridge's own blueprint"]
    problems = []
    for name, relation in (body.get("relations") or {}).items():
        problems += _missing(found, f"relations.{name}.target", relation["target"], available)
    for name, aggregation in (body.get("aggregationProperties") or {}).items():
        if isinstance(aggregation.get("target"), str):
            field = f"aggregationProperties.{name}.target"
            problems += _missing(found, field, aggregation["target"], available)
    for name, mirror in (body.get("mirrorProperties") or {}).items():
        problem = _mirror_problem(body, mirror["path"], available)
        if problem:
            problems.append(f"{found.where(f'mirrorProperties.{name}.path')}: {problem}")
    return problems


def _missing(found: ModelObject, field: str, target: str, available: Mapping[str, Any]) -> list[str]:
    if target in available:
        return []
    where = found.where(field) if field else f"{found.where()}: its directory scorecards/{target}/"
    return [f"{where}: names blueprint {target!r}, which neither blueprints/ nor Port has"]


def _action_targets(action: Json) -> Iterator[tuple[str, str]]:
    trigger = action.get("trigger") or {}
    if isinstance(trigger.get("blueprintIdentifier"), str):
        yield "trigger.blueprintIdentifier", trigger["blueprintIdentifier"]
    inputs = (trigger.get("userInputs") or {}).get("properties") or {}
    for name, spec in inputs.items():
        for where, schema in ((name, spec), (f"{name}.items", spec.get("items"))):
            if (
                isinstance(schema, dict)
                and schema.get("format") == "entity"
                and isinstance(schema.get("blueprint"), str)
            ):
                yield f"trigger.userInputs.properties.{where}.blueprint", schema["blueprint"]


def _mirror_problem(blueprint: Json, path: str, available: Mapping[str, Json]) -> str | None:
    *relations, last = path.split(".")
    current = blueprint
    for relation in relations:
        definition = (current.get("relations") or {}).get(relation)
        if definition is None:
            return f"{path!r}: blueprint {current.get('identifier')!r} has no relation {relation!r}"
        target = available.get(definition["target"])
        if target is None:
            return None  # reported on the relation itself
        current = target
    if not relations:
        return f"{path!r} must start with a relation of the blueprint (relation.property)"
    if last.startswith("$") or _has_property(current, last):
        return None
    return f"{path!r}: blueprint {current.get('identifier')!r} has no property {last!r}"


def _has_property(blueprint: Json, name: str) -> bool:
    if name in ((blueprint.get("schema") or {}).get("properties") or {}):
        return True
    return any(name in (blueprint.get(kind) or {}) for kind in _PROPERTY_KINDS)


def _level_problems(found: ModelObject) -> list[str]:
    levels = [level["title"] for level in found.body.get("levels") or DEFAULT_LEVELS]
    problems = []
    for index, rule in enumerate(found.body.get("rules") or []):
        where = found.where(f"rules[{index}].level")
        if rule["level"] not in levels:
            problems.append(f"{where}: {rule['level']!r} is not one of the scorecard's levels {levels}")
        elif rule["level"] == levels[0]:
            problems.append(f"{where}: {rule['level']!r} is the base level, which owns no rules")
    return problems
