"""The emulator's action form: typed inputs win, the rest take literal or jqQuery defaults."""

from __future__ import annotations

from port_bridge_sandbox.port.forms import fill_form

ENTITY = {"identifier": "default.orders", "properties": {"size": "large", "replicas": 3, "tags": ["a"]}}
USER = {"email": "dev@example.com"}


def test_a_typed_input_wins_over_its_default() -> None:
    form = {"properties": {"size": {"type": "string", "default": {"jqQuery": ".entity.properties.size"}}}}
    assert fill_form(form, {"size": "small"}, entity=ENTITY, user=USER) == {"size": "small"}


def test_jq_defaults_read_the_entity_and_the_user() -> None:
    form = {
        "properties": {
            "size": {"type": "string", "default": {"jqQuery": ".entity.properties.size"}},
            "replicas": {"type": "number", "default": {"jqQuery": ".entity.properties.replicas"}},
            "tags": {"type": "array", "default": {"jqQuery": ".entity.properties.tags"}},
            "owner": {"type": "string", "default": {"jqQuery": ".user.email"}},
        }
    }
    assert fill_form(form, {}, entity=ENTITY, user=USER) == {
        "size": "large",
        "replicas": 3,
        "tags": ["a"],
        "owner": "dev@example.com",
    }


def test_literal_defaults_fill_empty_inputs_and_a_null_default_leaves_it_empty() -> None:
    form = {
        "properties": {
            "env": {"type": "string", "default": "dev"},
            "backups": {"type": "boolean", "default": False},
            "missing": {"type": "string", "default": {"jqQuery": ".entity.properties.nothing"}},
            "plain": {"type": "string"},
        }
    }
    assert fill_form(form, {}, entity=ENTITY, user=USER) == {"env": "dev", "backups": False}


def test_a_default_reads_inputs_above_it_in_the_forms_order() -> None:
    form = {
        "properties": {
            "repository": {"type": "string", "default": {"jqQuery": '.form.service + "-repo"'}},
            "service": {"type": "string"},
        },
        "order": ["service", "repository"],
    }
    assert fill_form(form, {"service": "orders"}, entity={}, user=USER) == {
        "service": "orders",
        "repository": "orders-repo",
    }


def test_typed_inputs_the_form_does_not_declare_are_still_sent() -> None:
    assert fill_form({"properties": {}}, {"extra": 1}, entity={}, user=USER) == {"extra": 1}
