"""A request's spec as flat form fields: names, nesting, required, order, conditional branches."""

from __future__ import annotations

from typing import Any

import jq

from port_bridge.generate.fields import Form, FormField, spec_form, status_form


def crd(spec: dict[str, Any], **root: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"spec": spec}, **root}


def by_id(form: Form) -> dict[str, FormField]:
    return {f.identifier: f for f in form.fields}


NESTED = crd(
    {
        "type": "object",
        "required": ["db", "size"],
        "properties": {
            "size": {"type": "string"},
            "db": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "owner": {"type": "string"}},
            },
            "backup": {
                "type": "object",
                "required": ["schedule"],
                "properties": {"schedule": {"type": "string"}, "keep": {"type": "integer", "default": 7}},
            },
        },
    }
)


def test_nested_objects_become_fields_named_parent__child() -> None:
    form = spec_form(NESTED)
    assert [f.identifier for f in form.fields] == [
        "backup__keep",
        "backup__schedule",
        "db__name",
        "db__owner",
        "size",
    ]
    assert by_id(form)["db__name"].path == ("db", "name")


def test_a_field_is_required_when_it_and_every_object_above_it_are() -> None:
    fields = by_id(spec_form(NESTED))
    assert {name for name, f in fields.items() if f.required} == {"db__name", "size"}


def test_a_required_field_in_an_optional_object_is_left_to_the_api_server() -> None:
    form = spec_form(NESTED)
    assert not by_id(form)["backup__schedule"].required
    assert "spec.backup.schedule (required once spec.backup is set)" in form.limitations


def test_defaults_inside_an_object_the_request_may_leave_out_are_the_api_servers_to_fill() -> None:
    keep = by_id(spec_form(NESTED))["backup__keep"].leaf.input
    assert "default" not in keep  # a prefilled value would always create spec.backup
    assert keep["description"] == "Defaults to 7 once spec.backup is set."
    present = spec_form(
        crd(
            {
                "type": "object",
                "properties": {
                    "resources": {
                        "type": "object",
                        "default": {"cpu": "1"},
                        "properties": {
                            "cpu": {"type": "string"},
                            "memory": {"type": "string", "default": "1Gi"},
                        },
                    }
                },
            }
        )
    )
    assert by_id(present)["resources__cpu"].leaf.input["default"] == "1"  # from the object's own default
    assert by_id(present)["resources__memory"].leaf.input["default"] == "1Gi"


def test_a_field_named_like_the_requests_metadata_gets_the_spec_prefix() -> None:
    form = spec_form(
        crd({"type": "object", "properties": {"namespace": {"type": "string"}, "x": {"type": "string"}}})
    )
    assert [f.identifier for f in form.fields] == ["spec__namespace", "x"]


def test_a_name_port_cannot_take_is_left_out_and_said() -> None:
    form = spec_form(crd({"type": "object", "properties": {"app.kubernetes.io/name": {"type": "string"}}}))
    assert form.fields == ()
    assert any(line.startswith("spec.app.kubernetes.io/name (") for line in form.limitations)


def test_the_order_annotation_places_fields_first_by_name_path_or_parent() -> None:
    assert [f.identifier for f in spec_form(NESTED, order=["size", "db"]).fields] == [
        "size",
        "db__name",
        "db__owner",
        "backup__keep",
        "backup__schedule",
    ]
    assert [f.identifier for f in spec_form(NESTED, order=["spec.db.owner", "backup__keep"]).fields][:2] == [
        "db__owner",
        "backup__keep",
    ]


def test_the_order_does_not_depend_on_the_schemas_key_order() -> None:
    spec = NESTED["properties"]["spec"]
    reversed_spec = {**spec, "properties": dict(reversed(list(spec["properties"].items())))}
    assert spec_form(crd(reversed_spec)) == spec_form(NESTED)


def test_cel_rules_and_combinators_are_left_to_the_api_server() -> None:
    form = spec_form(
        crd(
            {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "self.a != self.b"}],
                "properties": {
                    "a": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]},
                    "b": {"type": "string", "anyOf": [{"pattern": "^x"}, {"pattern": "^y"}]},
                    "c": {"type": "string", "oneOf": [{"pattern": "^x"}, {"pattern": "^y"}]},
                },
            },
            **{"x-kubernetes-validations": [{"rule": "has(self.spec)"}]},
        )
    )
    assert set(form.limitations) == {
        "the request (CEL validation rules)",
        "spec (CEL validation rules)",
        "spec.a (CEL validation rules)",
        "spec.b (anyOf)",
        "spec.c (one of several shapes: oneOf)",
    }
    assert [f.identifier for f in form.fields] == ["a", "b", "c"]


def test_maps_and_arrays_of_objects_are_whole_inputs_checked_by_the_api_server() -> None:
    form = spec_form(
        crd(
            {
                "type": "object",
                "properties": {
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "env": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                    },
                    "empty": {"type": "object"},
                },
            }
        )
    )
    fields = by_id(form)
    assert fields["labels"].leaf.input["type"] == "object"
    assert fields["env"].leaf.input == {"type": "array", "title": "Env", "items": {"type": "object"}}
    assert "empty" not in fields
    assert set(form.limitations) == {
        "spec.labels (its entries)",
        "spec.env (the shape of each item)",
        "spec.empty (an object that declares no fields: not settable here)",
    }


SELECTED = crd(
    {
        "type": "object",
        "required": ["engine"],
        "properties": {
            "engine": {"type": "string"},
            "mysql": {"type": "object", "properties": {"version": {"type": "string"}}},
            "postgres": {"type": "object", "properties": {"version": {"type": "string"}}},
            "shared": {"type": "string"},
            "size": {"type": "string"},
        },
        "oneOf": [
            {"properties": {"engine": {"enum": ["mysql"]}}, "required": ["mysql"]},
            {
                "properties": {"engine": {"enum": ["postgres"]}, "shared": {"maxLength": 3}},
                "required": ["postgres"],
            },
            {"properties": {"engine": {"enum": ["sqlite"]}, "shared": {}}},
        ],
    }
)


def visible(form: Form, identifier: str, values: dict[str, Any]) -> bool:
    rule = form.visible(by_id(form)[identifier])
    if rule is None:
        return True
    return bool(jq.compile(rule["jqQuery"]).input_value({"form": values}).first())


def test_a_selector_oneof_shows_each_branchs_fields_only_while_it_is_selected() -> None:
    form = spec_form(SELECTED)
    assert form.selector_values == {("engine",): ("mysql", "postgres", "sqlite")}
    assert visible(form, "mysql__version", {"engine": "mysql"})
    assert not visible(form, "mysql__version", {"engine": "postgres"})
    assert not visible(form, "mysql__version", {})
    assert visible(form, "postgres__version", {"engine": "postgres"})
    assert visible(form, "shared", {"engine": "sqlite"}) and visible(form, "shared", {"engine": "postgres"})
    assert not visible(form, "shared", {"engine": "mysql"})
    assert form.visible(by_id(form)["size"]) is None and form.visible(by_id(form)["engine"]) is None


def test_a_selector_branchs_required_fields_are_said_to_be_the_api_servers() -> None:
    form = spec_form(SELECTED)
    assert "spec.mysql (required when spec.engine is mysql)" in form.limitations
    assert "spec.postgres (required when spec.engine is postgres)" in form.limitations
    assert not any("oneOf" in line for line in form.limitations)


def test_a_oneof_whose_branches_pin_no_common_field_is_not_a_selector() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        }
    )
    form = spec_form(schema)
    assert form.selector_values == {}
    assert "spec (one of several shapes: oneOf)" in form.limitations
    assert all(form.visible(f) is None for f in form.fields)


def test_status_fields_skip_kratixs_own_and_step_aside_for_spec_names() -> None:
    schema = crd(
        {"type": "object", "properties": {"url": {"type": "string"}}},
        properties={
            "spec": {"type": "object", "properties": {"url": {"type": "string"}}},
            "status": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "message": {"type": "string"},
                    "conditions": {"type": "array"},
                    "endpoint": {"type": "object", "properties": {"host": {"type": "string"}}},
                },
            },
        },
    )
    status = status_form(schema, taken={"url", "namespace"})
    assert [(f.identifier, f.path) for f in status.fields] == [
        ("endpoint__host", ("endpoint", "host")),
        ("status__url", ("url",)),
    ]
