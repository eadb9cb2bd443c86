"""Lease leader election against the Kubernetes emulator: one leader, renewals, step-down, release,
expiry judged by observed silence (clock-skew safe, as client-go), and the deposed leader's work."""

from __future__ import annotations

import datetime
import logging
import socket
import threading

import kubernetes
import pytest
from kubernetes.client import CoordinationV1Api

from port_bridge.controller.leader import LeaderElector
from port_bridge_sandbox.kube import KubeApiServer
from tests.waiting import wait_for

FAST_LEASE, FAST_DEADLINE, FAST_RETRY = 2, 1.0, 0.1  # seconds
HOUR = datetime.timedelta(hours=1)


class Candidate:
    """An elector campaigning in a thread; its work records its term and, unless told to ignore
    ``lost``, ends when it is set."""

    def __init__(
        self,
        client: kubernetes.client.ApiClient,
        identity: str,
        *,
        journal: list[str] | None = None,
        lease_seconds: int = FAST_LEASE,
        renew_deadline_seconds: float = FAST_DEADLINE,
    ) -> None:
        self.identity = identity
        self.elector = LeaderElector(
            client,
            namespace="default",
            name="bridge",
            identity=identity,
            lease_seconds=lease_seconds,
            renew_deadline_seconds=renew_deadline_seconds,
            retry_seconds=FAST_RETRY,
        )
        self.stop = threading.Event()
        self.terms: list[str] = []
        self.journal = journal if journal is not None else []
        self.ignore_lost = False
        self.release_work = threading.Event()
        self.thread = threading.Thread(
            target=self.elector.run, args=(self.stop,), kwargs={"lead": self._lead}, daemon=True
        )

    def _lead(self, lost: threading.Event) -> None:
        self.terms.append("started")
        self.journal.append(f"{self.identity} leads")
        if self.ignore_lost:
            self.release_work.wait()
        else:
            lost.wait()
            self.journal.append(f"{self.identity} stopped")
        self.terms.append("stopped")

    def start(self) -> Candidate:
        self.thread.start()
        return self

    def shut_down(self) -> None:
        self.release_work.set()
        self.stop.set()
        self.thread.join(5)


class Monotonic:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def leases(client: kubernetes.client.ApiClient) -> CoordinationV1Api:
    return CoordinationV1Api(client)


def lease(client: kubernetes.client.ApiClient) -> kubernetes.client.V1LeaseSpec:
    """The Lease's spec as the API server holds it now."""
    spec = leases(client).read_namespaced_lease("bridge", "default").spec
    assert spec is not None
    return spec


def renewed(client: kubernetes.client.ApiClient) -> datetime.datetime:
    renew_time = lease(client).renew_time
    assert renew_time is not None
    return renew_time


def candidate_with(clock: Monotonic, client: kubernetes.client.ApiClient) -> LeaderElector:
    """Candidate ``b``, whose sense of elapsed time is ``clock``, not time passing."""
    return LeaderElector(
        client,
        namespace="default",
        name="bridge",
        identity="b",
        lease_seconds=FAST_LEASE,
        renew_deadline_seconds=FAST_DEADLINE,
        retry_seconds=FAST_RETRY,
        monotonic=clock,
    )


def hold_as(client: kubernetes.client.ApiClient, holder: str, *, renew_time: datetime.datetime) -> None:
    """Write the Lease as another replica would, with whatever its clock says."""
    spec = kubernetes.client.V1LeaseSpec(
        holder_identity=holder, lease_duration_seconds=2, renew_time=renew_time
    )
    try:
        leases(client).read_namespaced_lease("bridge", "default")  # is there one to write over?
    except kubernetes.client.ApiException:
        metadata = kubernetes.client.V1ObjectMeta(name="bridge")
        leases(client).create_namespaced_lease(
            "default", kubernetes.client.V1Lease(metadata=metadata, spec=spec)
        )
        return

    def replace() -> bool:  # the holder may renew between our read and our write: read again then
        latest = leases(client).read_namespaced_lease("bridge", "default")
        latest.spec = spec
        try:
            leases(client).replace_namespaced_lease("bridge", "default", latest)
        except kubernetes.client.ApiException as error:
            if error.status != 409:
                raise
            return False
        return True

    wait_for(replace, what="the Lease to be written over")


def test_one_of_two_candidates_leads_and_keeps_renewing(kube_client: kubernetes.client.ApiClient) -> None:
    a, b = Candidate(kube_client, "a").start(), Candidate(kube_client, "b").start()
    try:
        leader = wait_for(lambda: next((c for c in (a, b) if c.elector.leading.is_set()), None))
        other = b if leader is a else a
        assert leader is not None
        first = renewed(kube_client)
        wait_for(lambda: renewed(kube_client) > first, what="a renewal")
        assert lease(kube_client).holder_identity == leader.identity
        assert not other.elector.leading.is_set() and other.terms == []
    finally:
        a.shut_down()
        b.shut_down()


def test_shutdown_releases_the_lease_so_a_successor_takes_over_at_once(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    a = Candidate(kube_client, "a", lease_seconds=30, renew_deadline_seconds=20).start()
    wait_for(a.elector.leading.is_set)
    a.shut_down()
    assert a.terms == ["started", "stopped"]
    assert lease(kube_client).holder_identity is None
    b = Candidate(kube_client, "b", lease_seconds=30, renew_deadline_seconds=20).start()
    try:
        wait_for(b.elector.leading.is_set, timeout=2)  # far sooner than the 30 s lease
        assert lease(kube_client).lease_transitions == 1
    finally:
        b.shut_down()


def test_a_leader_that_cannot_renew_steps_down(kube_client: kubernetes.client.ApiClient) -> None:
    a = Candidate(kube_client, "a").start()
    try:
        wait_for(a.elector.leading.is_set)
        hold_as(kube_client, "intruder", renew_time=datetime.datetime.now(tz=datetime.UTC))
        wait_for(lambda: a.terms == ["started", "stopped"], timeout=5)
        assert not a.elector.leading.is_set()
    finally:
        a.shut_down()


def test_a_holder_whose_clock_is_behind_is_not_taken_over_while_it_renews(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    clock = Monotonic()
    candidate = candidate_with(clock, kube_client)
    holder_clock = datetime.datetime.now(tz=datetime.UTC) - HOUR  # an hour behind: "expired" by wall time
    hold_as(kube_client, "a", renew_time=holder_clock)
    for _ in range(5):  # five lease durations in which the holder renews every 1.5 s
        assert not candidate.try_acquire_or_renew()
        clock.advance(1.5)
        holder_clock += datetime.timedelta(seconds=1.5)
        hold_as(kube_client, "a", renew_time=holder_clock)
    assert not candidate.try_acquire_or_renew()
    clock.advance(1.9)  # the holder died after its last renewal: silence, but not a lease duration yet
    assert not candidate.try_acquire_or_renew()
    clock.advance(0.2)
    assert candidate.try_acquire_or_renew()
    assert lease(kube_client).holder_identity == "b"


def test_a_dead_holder_whose_clock_was_ahead_is_taken_over_after_a_lease_of_silence(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    clock = Monotonic()
    candidate = candidate_with(clock, kube_client)
    hold_as(kube_client, "a", renew_time=datetime.datetime.now(tz=datetime.UTC) + HOUR)  # then dies
    assert not candidate.try_acquire_or_renew()
    clock.advance(1.9)
    assert not candidate.try_acquire_or_renew()
    clock.advance(0.2)
    assert candidate.try_acquire_or_renew()  # by wall time it would wait for another hour
    assert (lease(kube_client).holder_identity, lease(kube_client).lease_transitions) == ("b", 1)


def test_an_expired_lease_of_a_dead_leader_is_taken_over(kube_client: kubernetes.client.ApiClient) -> None:
    hold_as(kube_client, "dead", renew_time=datetime.datetime.now(tz=datetime.UTC) - 5 * HOUR)
    a = Candidate(kube_client, "a").start()
    try:
        wait_for(a.elector.leading.is_set, timeout=5)  # after 2 s of observed silence
        assert lease(kube_client).holder_identity == "a"
    finally:
        a.shut_down()


def client_of_its_own(
    kube: KubeApiServer,
) -> tuple[kubernetes.client.ApiClient, kubernetes.client.Configuration]:
    """A client and the configuration it reads on every request: change its host to cut it off."""
    configuration = kubernetes.client.Configuration()
    configuration.host = kube.url
    configuration.retries = False
    return kubernetes.client.ApiClient(configuration), configuration


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_deposed_leader_stops_before_another_replica_leads(
    kube: KubeApiServer, kube_client: kubernetes.client.ApiClient
) -> None:
    journal: list[str] = []
    a_client, a_configuration = client_of_its_own(kube)
    # A margin of 3 s (lease 4 s, renew deadline 1 s): wide enough for a loaded machine.
    a = Candidate(a_client, "a", journal=journal, lease_seconds=4).start()
    b = Candidate(kube_client, "b", journal=journal, lease_seconds=4)
    try:
        wait_for(a.elector.leading.is_set)
        b.start()
        a_configuration.host = closed_port_url()  # a loses the API server; b still reaches it
        wait_for(lambda: "b leads" in journal, timeout=15)
        assert journal == ["a leads", "a stopped", "b leads"]
        assert a.elector.stop_margin_seconds == 3.0
    finally:
        a.shut_down()
        b.shut_down()
        a_client.close()  # type: ignore[no-untyped-call]


def test_work_that_does_not_stop_is_reported_and_not_doubled(
    kube_client: kubernetes.client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="port_bridge.controller.leader")
    a = Candidate(kube_client, "a")
    a.ignore_lost = True
    a.start()
    try:
        wait_for(a.elector.leading.is_set)
        hold_as(kube_client, "intruder", renew_time=datetime.datetime.now(tz=datetime.UTC))  # then silent
        wait_for(lambda: "did not stop within" in caplog.text, timeout=5)
        assert not a.elector.leading.is_set() and a.terms == ["started"]
        a.ignore_lost = False  # from its next term on
        a.release_work.set()
        wait_for(lambda: a.terms == ["started", "stopped", "started"], timeout=5)  # the intruder expired
        assert lease(kube_client).holder_identity == "a"
    finally:
        a.shut_down()


def test_shutdown_keeps_the_lease_while_the_work_is_still_running(
    kube_client: kubernetes.client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="port_bridge.controller.leader")
    a = Candidate(kube_client, "a")
    a.ignore_lost = True
    a.start()
    wait_for(a.elector.leading.is_set)
    a.stop.set()
    a.thread.join(5)
    assert not a.thread.is_alive() and "did not stop within" in caplog.text
    assert lease(kube_client).holder_identity == "a"  # a successor waits for the lease to expire
    a.release_work.set()


def test_timings_must_nest() -> None:
    with pytest.raises(ValueError, match="retry < renew deadline < lease duration"):
        LeaderElector(None, namespace="d", name="n", identity="i", lease_seconds=5, renew_deadline_seconds=6)  # type: ignore[arg-type]
