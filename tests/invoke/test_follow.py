"""Following a run's ActionRun in the Kubernetes emulator while something else (here: the test, in
the follower's waits) plays the controller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes
import pytest

from port_bridge.actionrun.model import ActionRunSpec, JournalLine
from port_bridge.invoke.follow import Followed, RunFollower
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_manifest, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge_sandbox.kube import KubeApiServer
from tests.conftest import BRIDGE_NAMESPACE

RUN_ID = "r_follow"
NAME = actionrun_name(RUN_ID)


@pytest.fixture
def objects(cluster: KubeApiServer, kube_client: kubernetes.client.ApiClient) -> KubeObjects:
    objects = KubeObjects(kube_client)
    spec = ActionRunSpec(run_id=RUN_ID, action="create-redis")
    objects.create(
        ACTIONRUNS, actionrun_manifest(spec, namespace=BRIDGE_NAMESPACE), namespace=BRIDGE_NAMESPACE
    )
    return objects


def lines(*messages: str) -> list[dict[str, Any]]:
    return [{"message": message} for message in messages]


def follow(
    objects: KubeObjects, steps: list[Callable[[], object]], *, budget: float = 100.0
) -> tuple[Followed, list[str]]:
    """Follow with a clock that moves one second per wait; each wait carries out the next step."""
    now, seen = [0.0], []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if steps:
            steps.pop(0)()

    def shown(line: JournalLine) -> None:
        seen.append(line.message)

    follower = RunFollower(
        objects, namespace=BRIDGE_NAMESPACE, name=NAME, interval=1.0, clock=lambda: now[0], sleep=sleep
    )
    return follower.follow(deadline=budget, on_line=shown), seen


def status(objects: KubeObjects, **fields: Any) -> Callable[[], object]:
    return lambda: objects.patch_status(ACTIONRUNS, NAME, {"status": fields}, namespace=BRIDGE_NAMESPACE)


def test_each_line_is_shown_once_in_order_until_port_has_the_end(objects: KubeObjects) -> None:
    followed, seen = follow(
        objects,
        [
            status(objects, journal=lines("requested")),
            lambda: None,  # nothing new
            status(objects, journal=lines("requested", "running", "ready"), reported={"terminal": False}),
            status(
                objects,
                journal=lines("requested", "running", "ready"),
                outcome={"result": "SUCCESS", "summary": "ready", "label": "Ready"},
                reported={"terminal": True},
                phase="Succeeded",
            ),
        ],
    )
    assert seen == ["requested", "running", "ready"]
    assert followed.ended and followed.run is not None and followed.run.status.phase == "Succeeded"


def test_a_decided_outcome_is_not_the_end_until_port_has_it(objects: KubeObjects) -> None:
    decided = status(objects, outcome={"result": "FAILURE", "summary": "failed", "label": "Failed"})
    followed, _ = follow(objects, [decided], budget=5.0)
    assert not followed.ended and followed.run is not None and followed.run.status.outcome is not None


def test_an_actionrun_that_goes_away_is_gone(objects: KubeObjects) -> None:
    followed, _ = follow(objects, [lambda: objects.delete(ACTIONRUNS, NAME, namespace=BRIDGE_NAMESPACE)])
    assert followed.gone and followed.run is not None and followed.run.spec.run_id == RUN_ID


def test_an_unavailable_api_is_waited_for_and_a_refusal_stops(
    cluster: KubeApiServer, objects: KubeObjects
) -> None:
    cluster.emulator.faults.unavailable(verb="get", plural="actionruns", times=3)
    followed, _ = follow(objects, [status(objects, reported={"terminal": True}, phase="Failed")])
    assert followed.ended
    cluster.emulator.faults.refuse(
        403, "Forbidden", "actionruns is forbidden", verb="get", plural="actionruns"
    )
    refused, _ = follow(objects, [])
    assert refused.refused is not None and "403: actionruns is forbidden" in refused.refused


def test_the_deadline_ends_following(objects: KubeObjects) -> None:
    followed, _ = follow(objects, [], budget=3.0)
    assert not followed.ended and not followed.gone and followed.run is not None
