"""Lease leader election against the Kubernetes emulator: one leader, renewals, step-down, release."""

from __future__ import annotations

import datetime
import threading
import time

import kubernetes
import pytest
from kubernetes.client import CoordinationV1Api

from port_bridge.controller.leader import LeaderElector
from tests.waiting import wait_for

FAST = {"lease_seconds": 2, "renew_deadline_seconds": 1.0, "retry_seconds": 0.1}


class Candidate:
    def __init__(self, client: kubernetes.client.ApiClient, identity: str, **options: float) -> None:
        self.elector = LeaderElector(
            client, namespace="default", name="bridge", identity=identity, **{**FAST, **options}
        )
        self.stop = threading.Event()
        self.terms: list[str] = []
        self.thread = threading.Thread(
            target=self.elector.run, args=(self.stop,), kwargs={"lead": self._lead}, daemon=True
        )

    def _lead(self, lost: threading.Event) -> None:
        self.terms.append("started")
        lost.wait()
        self.terms.append("stopped")

    def start(self) -> Candidate:
        self.thread.start()
        return self

    def shut_down(self) -> None:
        self.stop.set()
        self.thread.join(5)


def lease(client: kubernetes.client.ApiClient) -> kubernetes.client.V1Lease:
    return CoordinationV1Api(client).read_namespaced_lease("bridge", "default")


def test_one_of_two_candidates_leads_and_keeps_renewing(kube_client: kubernetes.client.ApiClient) -> None:
    a, b = Candidate(kube_client, "a").start(), Candidate(kube_client, "b").start()
    try:
        leader = wait_for(lambda: next((c for c in (a, b) if c.elector.leading.is_set()), None))
        other = b if leader is a else a
        first = lease(kube_client).spec.renew_time
        time.sleep(0.6)
        assert lease(kube_client).spec.holder_identity == leader.elector.identity
        assert lease(kube_client).spec.renew_time > first
        assert not other.elector.leading.is_set() and other.terms == []
    finally:
        a.shut_down()
        b.shut_down()


def test_shutdown_releases_the_lease_so_a_successor_takes_over_at_once(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    a = Candidate(kube_client, "a", lease_seconds=30, renew_deadline_seconds=20, retry_seconds=0.1).start()
    wait_for(a.elector.leading.is_set)
    a.shut_down()
    assert a.terms == ["started", "stopped"]
    assert lease(kube_client).spec.holder_identity is None
    b = Candidate(kube_client, "b", lease_seconds=30, renew_deadline_seconds=20, retry_seconds=0.1).start()
    try:
        wait_for(b.elector.leading.is_set, timeout=2)  # far sooner than the 30 s lease
        assert lease(kube_client).spec.lease_transitions == 1
    finally:
        b.shut_down()


def test_a_leader_that_cannot_renew_steps_down(kube_client: kubernetes.client.ApiClient) -> None:
    a = Candidate(kube_client, "a").start()
    try:
        wait_for(a.elector.leading.is_set)
        stolen = lease(kube_client)
        stolen.spec.holder_identity = "intruder"
        stolen.spec.renew_time = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=60)
        CoordinationV1Api(kube_client).replace_namespaced_lease("bridge", "default", stolen)
        wait_for(lambda: a.terms == ["started", "stopped"], timeout=5)
        assert not a.elector.leading.is_set()
    finally:
        a.shut_down()


def test_an_expired_lease_of_a_dead_leader_is_taken_over(kube_client: kubernetes.client.ApiClient) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    CoordinationV1Api(kube_client).create_namespaced_lease(
        "default",
        kubernetes.client.V1Lease(
            metadata=kubernetes.client.V1ObjectMeta(name="bridge"),
            spec=kubernetes.client.V1LeaseSpec(
                holder_identity="dead",
                lease_duration_seconds=1,
                renew_time=now - datetime.timedelta(seconds=5),
            ),
        ),
    )
    a = Candidate(kube_client, "a").start()
    try:
        wait_for(a.elector.leading.is_set, timeout=3)
        assert lease(kube_client).spec.holder_identity == "a"
    finally:
        a.shut_down()


def test_timings_must_nest() -> None:
    with pytest.raises(ValueError, match="retry < renew deadline < lease duration"):
        LeaderElector(None, namespace="d", name="n", identity="i", lease_seconds=5, renew_deadline_seconds=6)  # type: ignore[arg-type]
