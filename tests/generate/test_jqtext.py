"""The generated ``kratix.spec`` jq puts flat inputs back into the request's nested spec."""

from __future__ import annotations

from typing import Any

from port_bridge.generate.jqtext import as_text, key, path, spec_from_inputs
from port_bridge.mapping.jq import Jq

FIELDS = {
    ("size",): "size",
    ("db", "name"): "db__name",
    ("db", "owner"): "db__owner",
    ("db", "backup", "keep"): "db__backup__keep",
    ("my-field",): "my-field",
    ("and",): "and",
    ("namespace",): "spec__namespace",
}


def spec(inputs: dict[str, Any]) -> Any:
    return Jq(spec_from_inputs(FIELDS)).first({"inputs": inputs})


def test_every_input_lands_at_its_path() -> None:
    inputs = {
        "size": "large",
        "db__name": "orders",
        "db__owner": "team-a",
        "db__backup__keep": 7,
        "my-field": True,
        "and": 0,
        "spec__namespace": "pg",
    }
    assert spec(inputs) == {
        "size": "large",
        "db": {"name": "orders", "owner": "team-a", "backup": {"keep": 7}},
        "my-field": True,
        "and": 0,
        "namespace": "pg",
    }


def test_empty_inputs_and_objects_left_empty_are_dropped_but_false_and_zero_are_kept() -> None:
    assert spec({"db__name": "orders", "db__owner": None, "and": False}) == {
        "db": {"name": "orders"},
        "and": False,
    }
    assert spec({}) == {}
    assert spec({"db__backup__keep": None, "size": "small"}) == {"size": "small"}


def test_a_spec_without_fields_is_an_empty_object() -> None:
    assert Jq(spec_from_inputs({})).first({"inputs": {"anything": 1}}) == {}


def test_paths_and_keys_quote_what_jq_cannot_read_bare() -> None:
    assert path(".request.spec", ("db", "my-field", "if")) == '.request.spec.db["my-field"]["if"]'
    assert key("dbName") == "dbName" and key("my-field") == '"my-field"'
    assert Jq(path(".a", ("my-field", "if"))).first({"a": {"my-field": {"if": 1}}}) == 1


def test_int_or_string_values_become_text_and_null_stays_null() -> None:
    expression = Jq(as_text(".port"))
    assert expression.first({"port": 8080}) == "8080"
    assert expression.first({"port": "http"}) == "http"
    assert expression.first({}) is None


def test_a_conditional_field_is_sent_only_while_its_branch_is_selected() -> None:
    expression = spec_from_inputs(
        {("engine",): "engine", ("mysql", "version"): "mysql__version"},
        conditions={("mysql", "version"): '(.inputs["engine"] == "mysql")'},
    )
    both = {"engine": "postgres", "mysql__version": "8.0"}
    assert Jq(expression).first({"inputs": both}) == {"engine": "postgres"}
    assert Jq(expression).first({"inputs": {**both, "engine": "mysql"}}) == {
        "engine": "mysql",
        "mysql": {"version": "8.0"},
    }
