"""Which mapping mirrors a Promise, the entity a request becomes, and when Port already holds it."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.catalogsync.mirror import EntityBuilder, choose_mirrors, fingerprint, seen_as, sync_document
from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES, RequestRef
from port_bridge.kube.objects import Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_entity
from port_bridge.scorecards.files import load_scorecard_dir
from tests.conftest import REPO

SERVICES = Resource("platform.port-bridge.io", "v1alpha1", "services")


def service(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "default",
            "generation": 1,
            "annotations": {"port-bridge.io/run-id": "r_1", "port-bridge.io/requested-by": "dev@example.com"},
        },
        "spec": {"language": "Go", "tier": "standard", "owner": "dev@example.com"},
        "status": status,
    }


def test_each_promise_is_mirrored_through_a_create_action_of_its_own(
    project_actions: dict[str, ActionConfig],
) -> None:
    chosen = {
        promise: (mirror.action, mirror.request_id)
        for promise, mirror in choose_mirrors(project_actions).items()
    }
    assert chosen == {
        "namespace": ("create-namespace", "main"),
        "postgresql": ("create-postgresql", "main"),  # not create-service's database
        "redis": ("create-redis", "main"),
        "service": ("create-service", "main"),
    }
    only_services = {"create-service": project_actions["create-service"]}
    assert {p: (m.action, m.request_id) for p, m in choose_mirrors(only_services).items()} == {
        "postgresql": ("create-service", "database"),
        "service": ("create-service", "main"),
    }


def test_the_mapping_sees_what_the_request_tells_of_the_run_that_made_it(
    project_actions: dict[str, ActionConfig],
) -> None:
    mirror = choose_mirrors(project_actions)["service"]
    document = sync_document(mirror, service())
    assert document["run"] == {"id": "r_1"} and document["trigger"] == {"by": {"email": "dev@example.com"}}
    assert document["requests"] == {"main": document["request"]} and document["inputs"] == {}
    plain = sync_document(mirror, {"metadata": {"name": "x", "namespace": "default"}})
    assert plain["run"] is None and plain["trigger"] == {"by": {"email": None}}


def test_the_entity_has_the_state_the_blueprint_defines_and_readiness_computed(
    project_actions: dict[str, ActionConfig],
) -> None:
    mirror = choose_mirrors(project_actions)["service"]
    builder = EntityBuilder(load_scorecard_dir(REPO / "scorecards"))
    ref = RequestRef.of(SERVICES, "default", "web")
    ready = service(
        readme="https://git.example.com/web#readme",
        message="ok",
        observedGeneration=1,
        conditions=[
            {
                "type": "ConfigureWorkflowCompleted",
                "status": "True",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    )
    body = builder.build(
        mirror,
        ref,
        ready,
        has_configure_workflow=True,
        defined=set(BLUEPRINT_PROPERTIES),
        mark=lambda _: True,
    )
    properties = body["properties"]
    assert body["identifier"] == "default.web" and "relations" not in body
    assert (properties["kratixState"], properties["kratixRequest"]) == ("Ready", ref.text)
    assert properties["productionReadiness"] == 34  # Bronze (a README), as a run computes it
    asked: list[str] = []

    def mark(identifier: str) -> bool:
        asked.append(identifier)
        return True

    bare = builder.build(mirror, ref, ready, has_configure_workflow=True, defined={"kratixState"}, mark=mark)
    assert "kratixDetail" not in bare["properties"] and "kratixRequest" not in bare["properties"]
    assert asked == []  # a blueprint without the marker never gets it, whatever mark() would say


def test_unchanged_is_judged_on_what_the_sync_writes_in_ports_own_forms() -> None:
    body = {
        "identifier": "default.web",
        "title": "web",
        "team": "platform",
        "properties": {"replicas": 3, "kratixLastReconciled": None, "tier": "gold"},
    }
    stored: dict[str, Any] = {
        "identifier": "default.web",
        "title": "web",
        "team": ["platform"],
        "icon": "Other",  # not written by the sync: not compared
        "properties": {"replicas": 3.0, "tier": "gold", "requestedBy": "someone@example.com"},
        "relations": {"database": "default.db"},
        "scorecards": {},
    }
    assert fingerprint(seen_as(stored, body)) == fingerprint(body)
    stored["properties"]["kratixLastReconciled"] = "2026-01-01T00:00:00Z"  # to be cleared by the write
    assert fingerprint(seen_as(stored, body)) != fingerprint(body)
    assert fingerprint({**body, "title": "web2"}) != fingerprint(body)


def test_one_jq_program_renders_what_the_run_mapping_renders(
    project_actions: dict[str, ActionConfig],
) -> None:
    builder = EntityBuilder({})
    requests = [
        service(readme="https://git.example.com/web#readme"),
        {
            "metadata": {"name": "orders", "namespace": "team-a"},
            "spec": {"env": "prod", "teamId": "payments"},
        },
        {"metadata": {"name": "c", "namespace": "default"}, "spec": {}, "status": {"message": "Pending"}},
    ]
    for mirror in choose_mirrors(project_actions).values():
        for request in requests:
            document = sync_document(mirror, request)
            assert builder.render(mirror.entity, document) == render_entity(mirror.entity, document)
    mirror = choose_mirrors(project_actions)["redis"]
    odd = {"metadata": {"name": "c", "namespace": 5}, "spec": {}}  # the identifier cannot be built
    with pytest.raises(MappingFailed) as failed:
        builder.render(mirror.entity, sync_document(mirror, odd))
    assert failed.value.field == "entity.identifier"
