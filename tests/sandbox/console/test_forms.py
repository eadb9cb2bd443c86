"""The console's forms as pure functions: each input type's widget, and what a submitted form sends."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge_sandbox.console.forms import FormField, form_fields, read_form

USER_INPUTS: dict[str, Any] = {
    "properties": {
        "replicas": {"type": "number", "minimum": 1, "maximum": 5, "default": 2},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "hosts": {"type": "array"},
        "labels": {"type": "object"},
        "notes": {"type": "string", "format": "multi-line"},
        "database": {"type": "string", "format": "entity", "blueprint": "postgresql"},
        "public": {"type": "boolean"},
        "owner": {"type": "string", "default": {"jqQuery": ".user.email"}},
    },
    "required": ["replicas"],
}


def fields(**options: Any) -> dict[str, FormField]:
    drawn = form_fields(
        USER_INPUTS,
        entity={},
        user_email="dev@example.com",
        choices=lambda blueprint: [f"{blueprint}-1", f"{blueprint}-2"],
        **options,
    )
    return {field.name: field for field in drawn}


def test_each_type_gets_the_widget_port_draws_and_its_default() -> None:
    drawn = fields()
    assert {name: field.widget for name, field in drawn.items()} == {
        "replicas": "number",
        "tags": "multiselect",
        "hosts": "lines",
        "labels": "json",
        "notes": "textarea",
        "database": "select",
        "public": "tristate",
        "owner": "text",
    }
    assert (drawn["replicas"].value, drawn["replicas"].minimum, drawn["replicas"].maximum) == ("2", 1, 5)
    assert drawn["tags"].options == ("a", "b", "c")
    assert drawn["database"].options == ("postgresql-1", "postgresql-2")
    assert drawn["owner"].value == "dev@example.com"  # a jqQuery default, evaluated as the form opens


def test_a_filled_form_sends_typed_values_and_leaves_empty_inputs_out() -> None:
    form = {
        "replicas": ["3"],
        "tags": ["a", "c"],
        "hosts": ["one\n\n two \n"],
        "labels": ['{"team": "x"}'],
        "notes": [""],
        "public": ["false"],
        "owner": [""],
    }
    submission, _ = read_form(USER_INPUTS, form)
    assert submission.errors == {}
    assert submission.inputs == {
        "replicas": 3,
        "tags": ["a", "c"],
        "hosts": ["one", "two"],
        "labels": {"team": "x"},
        "public": False,
    }


@pytest.mark.parametrize(
    ("form", "problems"),
    [
        ({"replicas": ["many"]}, {"replicas": "must be a number, not 'many'"}),
        ({"replicas": ["9"]}, {"replicas": "must be at most 5"}),
        ({"replicas": ["1"], "tags": ["d"]}, {"tags": "must be one of a, b, c"}),
        ({"replicas": ["1"], "labels": ["{"]}, {"labels": "must be JSON: Expecting property name"}),
        ({"replicas": ["1"], "labels": ["[1]"]}, {"labels": "must be of type object"}),
        ({}, {"replicas": "is required"}),
    ],
)
def test_a_form_breaking_its_rules_names_each_input_and_why(
    form: dict[str, list[str]], problems: dict[str, str]
) -> None:
    submission, typed = read_form(USER_INPUTS, form)
    assert set(submission.errors) == set(problems)
    for name, message in problems.items():
        assert submission.errors[name].startswith(message)
    redrawn = fields(typed=typed, errors=submission.errors)
    assert all(redrawn[name].error == submission.errors[name] for name in problems)
