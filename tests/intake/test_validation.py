"""Input, request and name checks, in the order a developer can act on them."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.intake.validation import FieldProblem, input_problems, inputs_schema, request_problems
from port_bridge.kratix.promise import PromiseApi
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import RenderedRequest


@pytest.fixture
def postgres_inputs(project_actions: dict[str, ActionConfig]) -> dict[str, Any]:
    return project_actions["create-postgresql"].action.trigger.user_inputs


def fields(problems: list[FieldProblem]) -> list[str]:
    return sorted(problem.field for problem in problems)


def test_valid_inputs_pass(postgres_inputs: dict[str, Any]) -> None:
    assert input_problems(postgres_inputs, {"name": "orders", "env": "prod", "backupEnabled": True}) == []


def test_unset_optional_inputs_may_arrive_as_null(postgres_inputs: dict[str, Any]) -> None:
    assert input_problems(postgres_inputs, {"name": "orders", "env": "dev", "dbName": None}) == []


def test_each_problem_names_its_input(postgres_inputs: dict[str, Any]) -> None:
    problems = input_problems(
        postgres_inputs, {"name": "Orders DB", "env": "qa", "backupEnabled": "yes", "extra": 1}
    )
    assert fields(problems) == ["inputs.backupEnabled", "inputs.env", "inputs.extra", "inputs.name"]
    by_field = {problem.field: problem.message for problem in problems}
    assert "is not an input of this action" in by_field["inputs.extra"]
    assert "'qa' is not one of" in by_field["inputs.env"]


def test_required_inputs(postgres_inputs: dict[str, Any]) -> None:
    problems = input_problems(postgres_inputs, {"env": "dev"})
    assert [(p.field, p.message) for p in problems] == [("inputs.name", "is required")]


def test_port_only_keywords_and_formats_translate() -> None:
    schema = inputs_schema(
        {
            "properties": {
                "owner": {"type": "string", "format": "email", "title": "Owner", "icon": "User"},
                "service": {"type": "string", "format": "entity", "blueprint": "service"},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "visible": True},
            },
            "required": {"jqQuery": "true"},
        }
    )
    assert schema["properties"]["owner"] == {"type": "string", "format": "email"}
    assert schema["properties"]["service"]["type"] == ["string", "object"]
    assert schema["required"] == []
    user_inputs = {"properties": schema["properties"]}
    assert fields(input_problems(user_inputs, {"owner": "not-an-email", "tags": ["c"]})) == [
        "inputs.owner",
        "inputs.tags.0",
    ]
    assert input_problems(user_inputs, {"service": {"identifier": "checkout"}}) == []


@pytest.fixture
def postgres(promises: dict[str, dict[str, Any]]) -> PromiseApi:
    return PromiseApi.from_promise(promises["postgresql"])


@pytest.fixture
def namespace_promise(promises: dict[str, dict[str, Any]]) -> PromiseApi:
    return PromiseApi.from_promise(promises["namespace"])


@pytest.mark.parametrize(
    ("name", "namespace", "expected"),
    [
        ("orders", "default", []),
        ("Orders", "default", ["kratix.name"]),
        ("a" * 64, "default", ["kratix.name"]),
        ("orders.v2", "default", ["kratix.name"]),  # a label, not a subdomain: Kratix caps names at 63
        ("orders", "Team_A", ["kratix.namespace"]),
    ],
)
def test_kubernetes_name_rules(postgres: PromiseApi, name: str, namespace: str, expected: list[str]) -> None:
    rendered = RenderedRequest(namespace=namespace, name=name, spec={"env": "dev"})
    assert (
        fields(request_problems(rendered, postgres, operation="CREATE", allowed_namespaces=None)) == expected
    )


def test_namespace_allow_list(postgres: PromiseApi) -> None:
    rendered = RenderedRequest(namespace="kube-system", name="orders", spec={})
    [problem] = request_problems(
        rendered, postgres, operation="CREATE", allowed_namespaces=("default", "team-a")
    )
    assert problem.field == "kratix.namespace"
    assert "allowed: default, team-a" in problem.message


def test_spec_is_checked_against_the_promise_crd(postgres: PromiseApi) -> None:
    rendered = RenderedRequest(
        namespace="default", name="orders", spec={"env": "qa", "backupEnabled": "no", "size": 3}
    )
    problems = request_problems(rendered, postgres, operation="CREATE", allowed_namespaces=None)
    assert fields(problems) == ["spec.backupEnabled", "spec.env", "spec.size"]
    assert any("is not a field of postgresql" in p.message for p in problems)


def test_required_spec_fields_apply_to_creates_not_to_partial_changes(namespace_promise: PromiseApi) -> None:
    rendered = RenderedRequest(namespace="default", name="ns", spec={"clusterName": "worker-2"})
    assert fields(
        request_problems(rendered, namespace_promise, operation="CREATE", allowed_namespaces=None)
    ) == ["spec"]
    assert request_problems(rendered, namespace_promise, operation="DAY-2", allowed_namespaces=None) == []


def test_deletes_carry_no_spec_to_check(postgres: PromiseApi) -> None:
    rendered = RenderedRequest(namespace="default", name="orders", spec=None)
    assert request_problems(rendered, postgres, operation="DELETE", allowed_namespaces=None) == []
