"""apply's checks of a body (port_bridge/portmodel/bodies): what they pass, what they refuse and say.

Each verdict is held against Port's spec (tests/portmodel/oracle.py): what the checks refuse,
the spec refuses too, except where the product is stricter on purpose, listed there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from port_bridge.portmodel.checks import reference_problems
from port_bridge.portmodel.files import load_model
from port_bridge.portmodel.schema import Kind, body_problems
from port_bridge_sandbox.port import PortSpec
from tests.conftest import REPO
from tests.portmodel import examples
from tests.portmodel.examples import with_change
from tests.portmodel.oracle import CORPUS, spec_problems, stricter_on_purpose


@pytest.mark.parametrize(("kind", "name", "body"), CORPUS, ids=[n for _, n, _ in CORPUS])
def test_the_products_checks_pass_every_project_file_and_example(kind: Kind, name: str, body: Any) -> None:
    assert body_problems(kind, body) == []


@pytest.mark.parametrize(("kind", "name", "body"), CORPUS, ids=[n for _, n, _ in CORPUS])
def test_ports_spec_passes_every_project_file_and_example_for_create_and_replace(
    port_spec: PortSpec, kind: Kind, name: str, body: Any
) -> None:
    assert spec_problems(port_spec, kind, body) == []
    assert spec_problems(port_spec, kind, body, method="PUT") == []


def test_the_product_ships_no_schema_files() -> None:
    package = REPO / "port_bridge" / "portmodel"
    assert sorted(p.name for p in package.rglob("*") if p.suffix in (".json", ".yaml", ".yml")) == []


REFUSED: list[tuple[Kind, dict[str, Any], str, str]] = [
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "identifier", ...),
        "(the whole body)",
        "'identifier' is a required",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "identifier", ".."),
        "identifier",
        "does not match Port's rule",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "identifier", "a=b"),
        "identifier",
        "does not match Port's rule",
    ),
    ("blueprint", with_change(examples.BLUEPRINT, "title", ""), "title", "should be non-empty"),
    ("blueprint", with_change(examples.BLUEPRINT, "description", "x" * 201), "description", "is too long"),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "schema.properties.a b", {"type": "string"}),
        "schema.properties",
        "'a b' does not match Port's rule for property",
    ),
    ("blueprint", with_change(examples.BLUEPRINT, "schema.x", {}), "schema", "('x' was unexpected)"),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "schema.properties.size.format", "bytes"),
        "schema.properties.size.format",
        "'bytes' is not one of ['date-time',",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "relations.team.required", ...),
        "relations.team",
        "'required' is a required property",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "mirrorProperties.teamName.path", "title"),
        "mirrorProperties.teamName.path",
        "does not match Port's rule for mirror paths",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "aggregationProperties.services.calculationSpec.property", "size"),
        "aggregationProperties.services.calculationSpec",
        "('property' was unexpected)",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "ownership.path", ...),
        "ownership",
        "'path' is a required property",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "changelogDestination.type", "KAFKA"),
        "changelogDestination",
        "('agent', 'url' were unexpected)",
    ),
    (
        "blueprint",
        with_change(examples.BLUEPRINT, "aggregationProperties.services.query.rules.2.operator", "isBlank"),
        "aggregationProperties.services.query.rules[2].operator",
        "'isBlank' is not one of ['isEmpty', 'isNotEmpty']",
    ),
    (
        "action",
        with_change(examples.create_action(0, {"type": "WEBHOOK"}), "identifier", "a/b"),
        "identifier",
        "does not match Port's rule for action identifiers",
    ),
    (
        "action",
        examples.create_action(0, {"type": "WEBHOOK"}),
        "invocationMethod",
        "'url' is a required property",
    ),
    (
        "action",
        examples.create_action(0, {"type": "GITHUB", "org": "o", "repo": "r"}),
        "invocationMethod",
        "'workflow' is a required property",
    ),
    (
        "action",
        examples.create_action(0, {"type": "GITLAB", "projectName": "p", "groupName": "g", "url": "u"}),
        "invocationMethod",
        "('url' was unexpected)",
    ),
    (
        "action",
        examples.create_action(0, {"type": "JENKINS"}),
        "invocationMethod.type",
        "'JENKINS' is not one of ['WEBHOOK', 'GITHUB', 'GITLAB', 'AZURE_DEVOPS', 'KAFKA', 'INTEGRATION_",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.operation", "CREATE"),
        "trigger.condition",
        "a CREATE action has no entity to select",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.userInputs.order", ["size"]),
        "trigger.userInputs.steps",
        "give order or steps, not both",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.actionCardButtonText", "Resize "),
        "trigger.actionCardButtonText",
        "does not match Port's rule for button texts",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.userInputs.properties.size.type", "integer"),
        "trigger.userInputs.properties.size.type",
        "'integer' is not one of ['string', 'number', 'boolean', 'object', 'array']",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.userInputs.titles.sizing.title", ""),
        "trigger.userInputs.titles.sizing.title",
        "should be non-empty",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "requiredApproval", {"type": "SOME"}),
        "requiredApproval.type",
        "'SOME' is not one of ['ANY', 'ALL']",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "approvalNotification.url", ...),
        "approvalNotification",
        "'url' is a required property",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.condition.rules.0.value.preset", "lastYear"),
        "trigger.condition.rules[0].value.preset",
        "'lastYear' is not one of ['today',",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "rules.0.identifier", "a.b"),
        "rules[0].identifier",
        "does not match Port's rule for property, relation, input and rule identifiers",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "levels.0.color", "mauve"),
        "levels[0].color",
        "'mauve' is not one of ['blue',",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "rules.0.query.conditions.0.operator", "resembles"),
        "rules[0].query.conditions[0].operator",
        "'resembles' is not one of",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "rules.0.query.conditions.1.value.to", "2025-01-01"),
        "rules[0].query.conditions[1].value.to",
        "is not a 'date-time'",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "rules.1.query.conditions", []),
        "rules[1].query.conditions",
        "should be non-empty",
    ),
    (
        "scorecard",
        with_change(examples.SCORECARD, "extra", True),
        "(the whole body)",
        "('extra' was unexpected)",
    ),
]


@pytest.mark.parametrize(("kind", "body", "field", "message"), REFUSED, ids=[r[3][:40] for r in REFUSED])
def test_a_refused_body_names_the_field_and_ports_spec_refuses_it_too(
    port_spec: PortSpec, kind: Kind, body: dict[str, Any], field: str, message: str
) -> None:
    problems = body_problems(kind, body)
    assert any(p.field == field and message in p.message for p in problems), problems
    assert spec_problems(port_spec, kind, body) != []


STRICTER: list[tuple[Kind, dict[str, Any], str, str]] = [
    (
        "action",
        with_change(
            examples.DAY_2_ACTION,
            "trigger",
            {"type": "automation", "event": {"type": "ENTITY_CREATED", "blueprintIdentifier": "service"}},
        ),
        "trigger.type",
        "'automation' is not one of ['self-service']",
    ),
    (
        "action",
        with_change(examples.DAY_2_ACTION, "trigger.blueprintIdentifier", ...),
        "trigger",
        "'blueprintIdentifier' is a dependency of 'condition'",
    ),
    ("blueprint", with_change(examples.BLUEPRINT, "identifier", "service\n"), "identifier", "does not match"),
    (
        "scorecard",
        with_change(examples.SCORECARD, "rules.0.identifier", "fresh\n"),
        "rules[0].identifier",
        "does not match",
    ),
]


@pytest.mark.parametrize(("kind", "body", "field", "message"), STRICTER, ids=[r[2] for r in STRICTER])
def test_where_the_product_is_stricter_than_the_spec_on_purpose(
    port_spec: PortSpec, kind: Kind, body: dict[str, Any], field: str, message: str
) -> None:
    assert stricter_on_purpose(kind, body)
    problems = body_problems(kind, body)
    assert any(p.field == field and message in p.message for p in problems), problems
    assert spec_problems(port_spec, kind, body) == []


def test_a_rule_on_a_level_port_does_not_default_to_is_refused_by_the_reference_checks(
    port_spec: PortSpec, tmp_path: Path
) -> None:
    body = {**with_change(examples.SCORECARD, "rules.0.level", "Basic"), "levels": []}
    body["rules"][1]["level"] = "Gold"
    assert spec_problems(port_spec, "scorecard", body) != []
    assert body_problems("scorecard", body) == []  # the body's check leaves levels to checks.py
    (tmp_path / "scorecards" / "service").mkdir(parents=True)
    (tmp_path / "scorecards" / "service" / "readiness.json").write_text(json.dumps(body))
    model = load_model(tmp_path)
    [problem] = reference_problems(model, {"service": {"identifier": "service"}})
    assert problem.endswith("rules[0].level: 'Basic' is the base level, which owns no rules")
