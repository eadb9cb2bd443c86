"""The schemas apply ships are Port's, and what they accept Port's spec accepts.

The oracle is Port's OpenAPI spec itself, read by the emulator's own loader and validator
(``port_bridge.sandbox.port.spec``), which shares no code with ``port_bridge.portmodel.schema``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from port_bridge.portmodel.schema import ROUTES, Kind, body_problems, schema_document
from port_bridge.sandbox.port import PortSpec
from tests.conftest import REPO
from tests.portmodel.refresh_schemas import expected

PUT_ROUTES: dict[Kind, str] = {
    "blueprint": "/v1/blueprints/{identifier}",
    "action": "/v1/actions/{action_identifier}",
    "scorecard": "/v1/blueprints/{blueprint_identifier}/scorecards/{scorecard_identifier}",
}


@pytest.fixture(scope="module")
def spec(port_spec_path: Path) -> PortSpec:
    return PortSpec.load(port_spec_path)


def project_bodies() -> list[tuple[Kind, str, dict[str, Any]]]:
    bodies: list[tuple[Kind, str, dict[str, Any]]] = []
    bodies += [
        ("blueprint", p.name, json.loads(p.read_text())) for p in sorted((REPO / "blueprints").glob("*.json"))
    ]
    bodies += [
        ("action", p.name, yaml.safe_load(p.read_text())["action"])
        for p in sorted((REPO / "actions").glob("*.yaml"))
    ]
    bodies += [
        ("scorecard", p.name, json.loads(p.read_text()))
        for p in sorted((REPO / "scorecards").glob("*/*.json"))
    ]
    return bodies


PROJECT = project_bodies()


def spec_problems(spec: PortSpec, kind: Kind, body: Any, *, method: str = "POST") -> list[str]:
    template = ROUTES[kind][1] if method == "POST" else PUT_ROUTES[kind]
    return spec.validate_body(method, template, body)


@pytest.mark.parametrize("kind", list(ROUTES))
def test_the_shipped_schemas_are_the_ones_in_ports_spec(spec: PortSpec, kind: Kind) -> None:
    assert schema_document(kind) == expected(kind, spec), (
        "Port's spec changed: run python -m tests.portmodel.refresh_schemas and review the diff"
    )


@pytest.mark.parametrize(("kind", "name", "body"), PROJECT, ids=[name for _, name, _ in PROJECT])
def test_every_project_file_passes_both_checks_for_create_and_replace(
    spec: PortSpec, kind: Kind, name: str, body: dict[str, Any]
) -> None:
    assert body_problems(kind, body) == []
    assert spec_problems(spec, kind, body) == []
    assert spec_problems(spec, kind, body, method="PUT") == []


@pytest.mark.parametrize(
    ("kind", "body", "field", "message"),
    [
        (
            "blueprint",
            {"title": "X", "schema": {"properties": {}}},
            "(the whole body)",
            "'identifier' is a required",
        ),
        (
            "blueprint",
            {"identifier": "..", "title": "X", "schema": {"properties": {}}},
            "identifier",
            "does not match",
        ),
        (
            "blueprint",
            {"identifier": "ünïcode-ok", "title": "", "schema": {"properties": {}}},
            "title",
            "should be non-empty",
        ),
        (
            "blueprint",
            {"identifier": "x", "title": "X", "schema": {"properties": {"a b": {"type": "string"}}}},
            "schema.properties",
            "does not match",
        ),
        (
            "blueprint",
            {
                "identifier": "x",
                "title": "X",
                "schema": {"properties": {}},
                "relations": {"r": {"target": "y"}},
            },
            "relations.r",
            "'required' is a required property",
        ),
        (
            "action",
            {
                "identifier": "a",
                "trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}},
                "invocationMethod": {"type": "WEBHOOK"},
            },
            "invocationMethod",
            "'url' is a required property",
        ),
        (
            "scorecard",
            {
                "identifier": "s",
                "title": "S",
                "rules": [
                    {
                        "identifier": "r",
                        "title": "R",
                        "level": "Gold",
                        "query": {
                            "combinator": "and",
                            "conditions": [{"property": "p", "operator": "resembles", "value": 1}],
                        },
                    }
                ],
            },
            "rules[0].query.conditions[0].operator",
            "'resembles' is not one of",
        ),
    ],
)
def test_a_refused_body_names_the_field_and_ports_spec_refuses_it_too(
    spec: PortSpec, kind: Kind, body: dict[str, Any], field: str, message: str
) -> None:
    problems = body_problems(kind, body)
    assert any(p.field == field and message in p.message for p in problems), problems
    assert spec_problems(spec, kind, body) != []


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value: dict keys and list indexes, outermost first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(["", "x", "..", "é", "CREATE", "string", "Gold"]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["type", "title", "x"]), inner, max_size=2)
    ),
    max_leaves=4,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Kind, Any]:
    """A project body with one place removed, replaced by another JSON value, or given a new key."""
    kind, _, body = draw(st.sampled_from(PROJECT))
    body = copy.deepcopy(body)
    where = draw(st.sampled_from(list(paths(body))))
    parent = body
    for part in where[:-1]:
        parent = parent[part]
    how = draw(st.sampled_from(["remove", "replace", "add"]))
    if how == "remove":
        del parent[where[-1]]
    elif how == "replace":
        parent[where[-1]] = draw(JSON_VALUES)
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "ünïcode", "a b", "required"]))] = draw(JSON_VALUES)
    return kind, body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_what_apply_accepts_ports_spec_accepts_and_the_other_way_round(
    spec: PortSpec, case: tuple[Kind, Any]
) -> None:
    kind, body = case
    accepted = body_problems(kind, body) == []
    assert accepted == (spec_problems(spec, kind, body) == [])
    if accepted:
        assert spec_problems(spec, kind, body, method="PUT") == []
