"""Deciding a pass: what to write, what to delete, what to leave to runs, what is port-bridge's."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.catalogsync.memory import Known, Memory, request_name
from port_bridge.catalogsync.mirror import EntityBuilder, Mirror, choose_mirrors, fingerprint
from port_bridge.catalogsync.plan import Blueprint, Plan, Planner, write_order
from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES, RequestRef
from port_bridge.kube.objects import Resource
from port_bridge.mapping.actions import ActionConfig

REDIS = Resource("marketplace.kratix.io", "v1alpha1", "redis")
BLUEPRINTS = {
    "redis": Blueprint(frozenset({"size", "namespace", "requestName", *BLUEPRINT_PROPERTIES}), frozenset())
}


def redis(name: str, *, size: str = "small", by_a_run: bool = False) -> dict[str, Any]:
    labels = {"app.kubernetes.io/managed-by": "port-bridge"} if by_a_run else {}
    return {
        "metadata": {"name": name, "namespace": "default", "generation": 1, "labels": labels},
        "spec": {"size": size},
    }


@pytest.fixture
def mirror(project_actions: dict[str, ActionConfig]) -> Mirror:
    return choose_mirrors(project_actions)["redis"]


def planner(
    memory: Memory, *, followed: frozenset[str] = frozenset(), refused: dict[Any, str] | None = None
) -> Planner:
    return Planner(
        memory=memory,
        builder=EntityBuilder({}),
        blueprints=BLUEPRINTS,
        followed=lambda ref: ref.name in followed,
        has_configure_workflow=lambda _promise: True,
        refused=refused or {},
    )


def ref(name: str) -> RequestRef:
    return RequestRef.of(REDIS, "default", name)


def test_a_new_request_is_written_with_the_marker_and_then_known_unchanged(mirror: Mirror) -> None:
    memory, plan = Memory(), Plan()
    planner(memory).look(plan, mirror, ref("cache"), redis("cache"))
    [upsert] = plan.upserts["redis"]
    assert upsert.key == ("redis", "default.cache") and upsert.mirrors == request_name(ref("cache"))
    assert upsert.body["properties"]["kratixRequest"] == "redis.marketplace.kratix.io/default/cache"
    memory.wrote(upsert.key, upsert.fingerprint, upsert.mirrors)
    again = Plan()
    planner(memory).look(again, mirror, ref("cache"), redis("cache"))
    assert (again.writes, again.unchanged) == (0, 1)
    planner(memory).look(again, mirror, ref("cache"), redis("cache", size="large"))
    assert again.writes == 1


def test_a_request_a_run_follows_is_left_to_the_run(mirror: Mirror) -> None:
    memory = Memory()
    memory.wrote(("redis", "default.cache"), "old", request_name(ref("cache")))
    plan = Plan()
    look = planner(memory, followed=frozenset({"cache"}))
    look.look(plan, mirror, ref("cache"), redis("cache"))
    look.look(plan, mirror, ref("cache"), None)  # a DELETE run deleting it: the run removes its entity
    assert (plan.writes, plan.deletes, plan.left_to_runs) == (0, {}, 2)


def test_only_entities_port_bridge_made_are_marked(mirror: Mirror) -> None:
    memory = Memory()
    memory.replace(
        {("redis", "default.theirs"): Known(None, None), ("redis", "default.ran"): Known(None, None)}
    )
    plan = Plan()
    planner(memory).look(
        plan, mirror, ref("theirs"), redis("theirs")
    )  # someone else's entity, kubectl's request
    planner(memory).look(plan, mirror, ref("ran"), redis("ran", by_a_run=True))  # a run made the request
    theirs, ran = plan.upserts["redis"]
    assert theirs.mirrors is None and "kratixRequest" not in theirs.body["properties"]
    assert ran.mirrors == request_name(ref("ran"))


def test_deletes_only_of_entities_port_bridge_mirrors(mirror: Mirror) -> None:
    memory = Memory()
    memory.replace(
        {
            ("redis", "default.ours"): Known("x", request_name(ref("ours"))),
            ("redis", "default.theirs"): Known("y", None),
        }
    )
    plan = Plan()
    planner(memory).look(plan, mirror, ref("ours"), None)
    planner(memory).look(plan, mirror, ref("theirs"), None)
    assert list(plan.deletes) == [("redis", "default.ours")]


def test_a_mapping_that_now_gives_another_identifier_deletes_the_old_entity(mirror: Mirror) -> None:
    memory = Memory()
    memory.replace({("redis", "cache-in-default"): Known("x", request_name(ref("cache")))})
    plan = Plan()
    planner(memory).look(plan, mirror, ref("cache"), redis("cache"))
    assert [upsert.key for upsert in plan.upserts["redis"]] == [("redis", "default.cache")]
    assert list(plan.deletes) == [("redis", "cache-in-default")]


def test_what_port_refused_is_not_sent_again_until_it_changes(mirror: Mirror) -> None:
    memory, first = Memory(), Plan()
    planner(memory).look(first, mirror, ref("cache"), redis("cache"))
    [upsert] = first.upserts["redis"]
    refused = {upsert.key: upsert.fingerprint}
    again = Plan()
    planner(memory, refused=refused).look(again, mirror, ref("cache"), redis("cache"))
    assert again.writes == 0
    planner(memory, refused=refused).look(again, mirror, ref("cache"), redis("cache", size="large"))
    assert again.writes == 1 and fingerprint(again.upserts["redis"][0].body) != upsert.fingerprint


def test_a_failing_mapping_leaves_the_entity_alone(mirror: Mirror) -> None:
    memory = Memory()
    memory.replace({("redis", "default.cache"): Known("x", request_name(ref("cache")))})
    plan = Plan()
    odd = redis("cache")
    odd["metadata"]["namespace"] = 5  # the identifier mapping fails on it: a number plus a string
    planner(memory).look(plan, mirror, ref("cache"), odd)
    assert (plan.writes, plan.deletes) == (0, {}) and len(plan.failed) == 1


def test_relation_targets_are_written_first() -> None:
    blueprints = {
        "service": Blueprint(frozenset(), frozenset({"postgresql", "redis", "service"})),
        "postgresql": Blueprint(frozenset(), frozenset()),
        "redis": Blueprint(frozenset(), frozenset()),
    }
    assert write_order(blueprints, ["service", "redis", "postgresql"]) == ["postgresql", "redis", "service"]
    assert write_order(blueprints, ["service"]) == ["service"]
