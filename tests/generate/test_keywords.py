"""A CRD leaf as a Port input: every validation keyword carried over means the same thing.

The oracle is two validators that know nothing of the generator: jsonschema's Draft 4 reads the
CRD leaf as the API server does (OpenAPI v3.0: boolean ``exclusiveMinimum``), Draft 2020-12
reads the generated input as Port's form does (JSON Schema: numeric ``exclusiveMinimum``). On
every probe value both must agree, except where the generator says they do not.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from port_bridge.generate.keywords import convert_leaf, humanize

PORT_ONLY = ("title", "description", "default", "visible")
PROBES: list[Any] = [
    None, True, False, -1, 0, 0.5, 1, 2, 2.5, 3, 4, 10, 11, "", "a", "ab", "abc", "abcd", "dev", "prod",
    "DEV", "x" * 64, "2024-01-01T00:00:00Z", "not a date", "a@example.com", "10.0.0.1", "http://x.io",
    [], ["a"], ["a", "b"], ["a", "b", "c"], ["dev", "zzz"], [1, 2], {}, {"k": "v"},
]  # fmt: skip

CASES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "enum": {"type": "string", "enum": ["dev", "prod"]},
    "pattern": {"type": "string", "pattern": "^(dev|prod)$"},
    "lengths": {"type": "string", "minLength": 2, "maxLength": 3},
    "boolean": {"type": "boolean"},
    "number bounds": {"type": "number", "minimum": 1, "maximum": 10},
    "exclusive bounds": {
        "type": "number",
        "minimum": 1,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    },
    "exclusive flags off": {
        "type": "number",
        "minimum": 1,
        "exclusiveMinimum": False,
        "maximum": 3,
        "exclusiveMaximum": False,
    },
    "number enum": {"type": "number", "enum": [1, 2, 2.5]},
    "array of strings": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    "array lengths": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
    "date-time": {"type": "string", "format": "date-time"},
    "email": {"type": "string", "format": "email"},
}


def port_schema(port_input: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in port_input.items() if key not in PORT_ONLY}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_form_accepts_exactly_what_the_api_server_accepts(case: str) -> None:
    crd = CASES[case]
    leaf = convert_leaf(crd, ("field",))
    assert leaf is not None
    api_server = Draft4Validator(crd, format_checker=Draft4Validator.FORMAT_CHECKER)
    form = Draft202012Validator(port_schema(leaf.input), format_checker=Draft202012Validator.FORMAT_CHECKER)
    disagreements = [value for value in PROBES if api_server.is_valid(value) != form.is_valid(value)]
    assert disagreements == []
    assert any(not api_server.is_valid(value) for value in PROBES)  # the case constrains something


def test_exclusive_bounds_take_json_schemas_numeric_form() -> None:
    leaf = convert_leaf(CASES["exclusive bounds"], ("replicas",))
    assert leaf is not None
    assert leaf.input["exclusiveMinimum"] == 1 and leaf.input["exclusiveMaximum"] == 10
    assert "minimum" not in leaf.input and "maximum" not in leaf.input


def test_an_integer_becomes_a_number_and_says_a_fraction_is_the_api_servers_to_refuse() -> None:
    crd = {"type": "integer", "minimum": 1, "maximum": 5}
    leaf = convert_leaf(crd, ("replicas",))
    assert leaf is not None
    assert leaf.input["type"] == "number" and leaf.property["type"] == "number"
    form = Draft202012Validator(port_schema(leaf.input))
    assert form.is_valid(2.5) and not Draft4Validator(crd).is_valid(2.5)
    assert "a whole number" in leaf.limitations
    assert [v for v in PROBES if isinstance(v, int) and not isinstance(v, bool) and form.is_valid(v)] == [
        1,
        2,
        3,
        4,
    ]


def test_titles_and_descriptions_are_kept_or_made_readable() -> None:
    declared = convert_leaf(
        {"type": "string", "title": "Database", "description": "The name of the database\nto create.\n"},
        ("dbName",),
    )
    assert declared is not None
    assert declared.input["title"] == declared.property["title"] == "Database"
    assert declared.input["description"] == "The name of the database to create."
    made = convert_leaf({"type": "string"}, ("resources", "cpuLimit"))
    assert (
        made is not None and made.input["title"] == "Resources: cpu limit" and "description" not in made.input
    )
    assert humanize(("backupEnabled",)) == "Backup enabled"


def test_defaults_are_kept_and_a_parents_default_fills_in() -> None:
    own = convert_leaf({"type": "integer", "default": 3}, ("replicas",), default=5)
    inherited = convert_leaf({"type": "string"}, ("size",), default="small")
    none = convert_leaf({"type": "boolean"}, ("backups",))
    assert own is not None and own.input["default"] == 3
    assert inherited is not None and inherited.input["default"] == "small"
    assert none is not None and "default" not in none.input


def test_a_false_default_is_kept() -> None:
    leaf = convert_leaf({"type": "boolean", "default": False}, ("backupEnabled",))
    assert leaf is not None and leaf.input["default"] is False


def test_the_blueprint_property_mirrors_type_enum_and_format_but_not_the_form_checks() -> None:
    leaf = convert_leaf(
        {"type": "string", "enum": ["dev", "prod"], "pattern": "^(dev|prod)$", "maxLength": 4}, ("env",)
    )
    url = convert_leaf({"type": "string", "format": "uri"}, ("homepage",))
    assert leaf is not None and url is not None
    assert leaf.property == {"type": "string", "title": "Env", "enum": ["dev", "prod"]}
    assert url.input["format"] == url.property["format"] == "url"


def test_arrays_of_scalars_keep_their_item_checks() -> None:
    leaf = convert_leaf(
        {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}},
        ("tags",),
    )
    assert leaf is not None
    assert leaf.input["items"] == {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}
    assert leaf.input["minItems"] == 1 and leaf.property["items"] == {"type": "string"}
    assert leaf.limitations == ()


def test_what_a_form_cannot_check_is_named() -> None:
    objects = convert_leaf({"type": "array", "items": {"type": "object"}}, ("env",))
    mapping = convert_leaf({"type": "object", "additionalProperties": {"type": "string"}}, ("labels",))
    free = convert_leaf({"x-kubernetes-preserve-unknown-fields": True}, ("values",))
    port = convert_leaf({"x-kubernetes-int-or-string": True}, ("port",))
    odd = convert_leaf({"type": "integer", "multipleOf": 5, "format": "int32"}, ("step",))
    cidr = convert_leaf({"type": "string", "format": "cidr"}, ("range",))
    assert objects is not None and objects.input["items"] == {"type": "object"}
    assert "the shape of each item" in objects.limitations
    assert mapping is not None and mapping.input["type"] == "object" and "its entries" in mapping.limitations
    assert free is not None and free.input["type"] == "object"
    assert port is not None and port.input["type"] == "string" and port.int_or_string
    assert odd is not None and "a multiple of 5" in odd.limitations and "format int32" not in odd.limitations
    assert cidr is not None and "format cidr" in cidr.limitations and "format" not in cidr.input


def test_a_leaf_without_a_type_port_knows_is_none() -> None:
    assert convert_leaf({"description": "anything"}, ("x",)) is None
