"""References the schema cannot check: to blueprints, through mirror paths, to scorecard levels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from port_bridge.portmodel.checks import reference_problems
from port_bridge.portmodel.files import Model, ModelObject, ObjectKey

SERVICE: dict[str, Any] = {
    "identifier": "service",
    "title": "Service",
    "schema": {"properties": {"tier": {"type": "string"}}},
    "calculationProperties": {"label": {"title": "Label", "calculation": ".title", "type": "string"}},
}


def blueprint(identifier: str, **fields: Any) -> ModelObject:
    body = {"identifier": identifier, "title": identifier, "schema": {"properties": {}}, **fields}
    return ModelObject(ObjectKey("blueprint", identifier), body, Path(f"blueprints/{identifier}.json"))


def model(*objects: ModelObject) -> Model:
    return Model(Path("."), {found.key: found for found in objects})


def test_mirror_paths_must_lead_through_relations_to_a_property() -> None:
    relation = {"service": {"title": "Service", "target": "service", "required": False, "many": False}}
    mirrors = {
        "tier": {"path": "service.tier"},
        "label": {"path": "service.label"},
        "name": {"path": "service.$title"},
        "owner": {"path": "owner.tier"},
        "size": {"path": "service.size"},
        "flat": {"path": "tier"},
    }
    problems = reference_problems(
        model(blueprint("database", relations=relation, mirrorProperties=mirrors)), {"service": SERVICE}
    )
    where = "blueprints/database.json: mirrorProperties"
    assert problems == [
        f"{where}.owner.path: 'owner.tier': blueprint 'database' has no relation 'owner'",
        f"{where}.size.path: 'service.size': blueprint 'service' has no property 'size'",
        f"{where}.flat.path: 'tier' must start with a relation of the blueprint (relation.property)",
    ]


def test_aggregations_and_entity_inputs_name_blueprints_that_must_exist() -> None:
    aggregation = {
        "services": {
            "title": "Services",
            "target": "service",
            "calculationSpec": {"func": "count", "calculationBy": "entities"},
        }
    }
    action = {
        "identifier": "pick",
        "trigger": {
            "type": "self-service",
            "operation": "CREATE",
            "userInputs": {
                "properties": {
                    "env": {"type": "string", "format": "entity", "blueprint": "environment"},
                    "many": {
                        "type": "array",
                        "items": {"type": "string", "format": "entity", "blueprint": "region"},
                    },
                }
            },
        },
    }
    found = model(
        blueprint("team", aggregationProperties=aggregation),
        ModelObject(ObjectKey("action", "pick"), action, Path("actions/pick.yaml"), field_prefix="action."),
    )
    missing = "which neither blueprints/ nor Port has"
    assert reference_problems(found, {"environment": {"identifier": "environment"}}) == [
        f"blueprints/team.json: aggregationProperties.services.target: names blueprint 'service', {missing}",
        "actions/pick.yaml: action.trigger.userInputs.properties.many.items.blueprint: "
        f"names blueprint 'region', {missing}",
    ]
