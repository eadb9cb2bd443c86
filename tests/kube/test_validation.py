from typing import Any

import pytest

from port_bridge.kube.validation import apply_defaults, name_errors, prune, schema_errors

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "env": {"type": "string", "default": "dev", "pattern": "^(dev|prod)$"},
                "replicas": {"type": "integer", "minimum": 1},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "items": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"n": {"type": "string", "default": "x"}}},
                },
                "port": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
            },
            "required": ["env"],
        },
        "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}},
    },
}


@pytest.mark.parametrize(
    ("name", "label", "valid"),
    [
        ("db", True, True),
        ("my-db-1", True, True),
        ("a" * 63, True, True),
        ("a" * 64, True, False),
        ("a.b", True, False),
        ("a.b", False, True),
        ("Db", False, False),
        ("db-", False, False),
        ("", False, False),
        ("é", False, False),
    ],
)
def test_name_rules(name: str, label: bool, valid: bool) -> None:
    assert (name_errors(name, label=label) == []) is valid


def test_defaults_fill_absent_properties_recursively() -> None:
    body = {"spec": {"items": [{}, {"n": "y"}]}}
    assert apply_defaults(body, SCHEMA) == {"spec": {"env": "dev", "items": [{"n": "x"}, {"n": "y"}]}}


def test_prune_drops_undeclared_fields_but_keeps_preserved_and_additional_ones() -> None:
    body = {
        "spec": {"env": "dev", "bogus": 1, "labels": {"a": "b"}, "extra": {"anything": {"goes": 1}}},
        "junk": 2,
    }
    assert prune(body, SCHEMA) == {
        "spec": {"env": "dev", "labels": {"a": "b"}, "extra": {"anything": {"goes": 1}}}
    }


def test_schema_errors_name_the_field_and_rule() -> None:
    errors = dict(
        schema_errors({"metadata": {"name": "a" * 11}, "spec": {"env": "qa", "replicas": 0}}, SCHEMA)
    )
    assert "should match '^(dev|prod)$'" in errors["spec.env"]
    assert "spec.replicas" in errors
    assert "Too long" in errors["metadata.name"]


def test_int_or_string_and_nullable_are_understood() -> None:
    assert schema_errors({"spec": {"env": "dev", "port": "http", "note": None}}, SCHEMA) == []
    assert schema_errors({"spec": {"env": "dev", "port": 8080}}, SCHEMA) == []
    assert schema_errors({"spec": {"env": "dev", "port": 1.5}}, SCHEMA) != []


def test_preserved_arrays_keep_unknown_fields_in_their_items() -> None:
    schema = {
        "type": "object",
        "properties": {
            "pipelines": {
                "type": "array",
                "items": {"type": "object"},
                "x-kubernetes-preserve-unknown-fields": True,
            }
        },
    }
    body = {"pipelines": [{"metadata": {"name": "configure"}, "spec": {"containers": []}}], "unknown": 1}
    assert prune(body, schema) == {
        "pipelines": [{"metadata": {"name": "configure"}, "spec": {"containers": []}}]
    }
