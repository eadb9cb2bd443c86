"""Mappings build requests and entities only from what the action file places."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_entity, render_request


def document(**inputs: Any) -> dict[str, Any]:
    return {
        "run": {"id": "r_1"},
        "action": {"identifier": "create-postgresql"},
        "operation": "CREATE",
        "inputs": inputs,
        "entity": None,
        "trigger": {"by": {"email": "dev@example.com"}},
    }


def test_only_mapped_inputs_reach_the_spec(project_actions: dict[str, ActionConfig]) -> None:
    rendered = render_request(
        project_actions["create-postgresql"],
        document(name="orders", env="prod", status={"forged": True}, apiVersion="v9"),
    )
    assert (rendered.namespace, rendered.name) == ("default", "orders")
    assert rendered.spec == {"env": "prod"}


def test_deletes_render_no_spec(project_actions: dict[str, ActionConfig]) -> None:
    doc = {**document(), "entity": {"properties": {"namespace": "team-a", "requestName": "orders"}}}
    rendered = render_request(project_actions["delete-postgresql"], doc)
    assert (rendered.namespace, rendered.name, rendered.spec) == ("team-a", "orders", None)


def test_a_name_that_renders_to_nothing_is_a_mapping_failure(
    project_actions: dict[str, ActionConfig],
) -> None:
    with pytest.raises(MappingFailed) as failed:
        render_request(project_actions["create-postgresql"], document(env="dev"))
    assert failed.value.field == "kratix.name"
    assert "must produce a non-empty string, produced None" in failed.value.message


def test_the_entity_from_the_finished_request(project_actions: dict[str, ActionConfig]) -> None:
    config = project_actions["create-postgresql"]
    assert config.entity is not None
    request = {
        "metadata": {"namespace": "default", "name": "orders"},
        "spec": {"env": "prod", "teamId": "payments", "dbName": "postgres", "backupEnabled": True},
        "status": {"message": "10Gi instance", "connectionDetails": {"host": "orders.default.svc"}},
    }
    entity = render_entity(config.entity, {**document(), "request": request})
    assert entity == {
        "identifier": "default.orders",
        "title": "orders",
        "icon": "Postgres",
        "properties": {
            "namespace": "default",
            "requestName": "orders",
            "environment": "prod",
            "team": "payments",
            "database": "postgres",
            "backupEnabled": True,
            "host": "orders.default.svc",
            "kratixMessage": "10Gi instance",
            "requestedBy": "dev@example.com",
        },
    }


def test_properties_kratix_did_not_publish_are_left_out(project_actions: dict[str, ActionConfig]) -> None:
    config = project_actions["create-postgresql"]
    assert config.entity is not None
    request = {"metadata": {"namespace": "default", "name": "orders"}, "spec": {}, "status": {}}
    properties = render_entity(config.entity, {**document(), "request": request})["properties"]
    assert "host" not in properties and "kratixMessage" not in properties
