"""Leader election on a ``coordination.k8s.io/v1`` Lease: one active controller per cluster.

Several controller replicas may run; only the Lease holder acts, the others wait to take over.
Writes use the Lease's resourceVersion, so two candidates can never both win one round.

Time is judged as client-go judges it, by this process's monotonic clock, never by comparing the
``renewTime`` another replica wrote with the local wall clock (their clocks may differ by hours):

* a candidate remembers when it last *saw* the holder's record change; the Lease has expired
  once ``leaseDurationSeconds`` have passed since then with no change (observed silence). A
  holder that keeps renewing is never taken over, whatever time its clock writes; a dead one is
  taken over one lease duration after this candidate last saw it renew.
* the holder renews every ``retry_seconds`` and steps down once ``renew_deadline_seconds`` have
  passed since the start of its last successful renewal.

Fencing the deposed leader's work: no other replica can see a renewal before it was sent, so none
can hold the Lease sooner than ``lease_seconds`` after the start of the holder's last successful
renewal, while the holder steps down ``renew_deadline_seconds`` after it. When it steps down (or
is shut down) the elector sets the ``lost`` event it gave ``lead``; from then on the work has
``lease_seconds - renew_deadline_seconds`` (:attr:`LeaderElector.stop_margin_seconds`, 5 s with
the defaults) to stop writing. The elector waits that long for ``lead`` to return, and logs an
error if it did not: from then on another replica may act too. It does not campaign again, nor
release the Lease on shutdown, before the work has ended; the election loop's heartbeat stops
meanwhile, so the liveness probe restarts a replica whose work never ends.

On shutdown the holder releases the Lease so a successor need not wait for expiry. The
``kubernetes`` client's own elector cannot release on shutdown and exits the process on a bad
configuration (research/peers.md §4.3), hence this small one.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes
from kubernetes.client import ApiException, CoordinationV1Api, V1Lease, V1LeaseSpec, V1ObjectMeta

log = logging.getLogger(__name__)

Lead = Callable[[threading.Event], None]
"""The leader's work: runs while this replica leads; must return soon after its argument is set."""

LeadershipListener = Callable[[str, bool], None]
"""Told ``(identity, leading)`` once when the election starts (``False``) and at every change."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


@dataclass(frozen=True)
class _Record:
    """What a candidate compares to notice that the holder has written (client-go's raw record)."""

    holder: str | None
    renew_time: datetime.datetime | None
    acquire_time: datetime.datetime | None
    lease_seconds: int | None
    transitions: int | None

    @classmethod
    def of(cls, spec: V1LeaseSpec) -> _Record:
        return cls(
            spec.holder_identity,
            spec.renew_time,
            spec.acquire_time,
            spec.lease_duration_seconds,
            spec.lease_transitions,
        )


class LeaderElector:
    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_seconds: int = 15,
        renew_deadline_seconds: float = 10.0,
        retry_seconds: float = 2.0,
        on_change: LeadershipListener | None = None,
        clock: Callable[[], datetime.datetime] = _now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not retry_seconds < renew_deadline_seconds < lease_seconds:
            raise ValueError("leader election needs retry < renew deadline < lease duration")
        self._leases = CoordinationV1Api(api_client)
        self._namespace, self._name, self.identity = namespace, name, identity
        self._lease_seconds, self._deadline, self._retry = (
            lease_seconds,
            renew_deadline_seconds,
            retry_seconds,
        )
        self._on_change = on_change
        self._clock, self._monotonic = clock, monotonic  # wall time is only written, for people
        self._observed: _Record | None = None
        self._observed_at = 0.0  # when this candidate last saw the record change
        self._renewed_at = 0.0  # when its last successful acquire or renew set out
        self.leading = threading.Event()
        self.last_beat = monotonic()  # the election loop's last sign of life, for the liveness probe

    @property
    def stop_margin_seconds(self) -> float:
        """How long the work has, once ``lost`` is set, before another replica may hold the Lease."""
        return self._lease_seconds - self._deadline

    def run(self, stop: threading.Event, *, lead: Lead) -> None:
        """Campaign until ``stop``; while leading, ``lead(lost)`` runs in a thread until ``lost`` is set."""
        self._notify(leading=False)
        while not stop.is_set():
            self.last_beat = self._monotonic()
            if self.try_acquire_or_renew():
                self._lead_one_term(stop, lead)
            else:
                stop.wait(self._retry)

    def try_acquire_or_renew(self) -> bool:
        """One round: take the Lease if it is free or has expired, renew it if held; whether held."""
        return self._round(until=None)

    def _round(self, *, until: float | None) -> bool:
        """:meth:`try_acquire_or_renew`, its requests cut short at the monotonic time ``until``."""
        started = self._monotonic()
        try:
            lease: Any = self._leases.read_namespaced_lease(
                self._name, self._namespace, _request_timeout=self._request_timeout(until)
            )
        except ApiException as error:
            if error.status != 404:
                log.warning("cannot read the lease: %s", error.reason)
                return False
            return self._create(started, until=until)
        except Exception as error:  # the API server is unreachable: not leading, keep campaigning
            log.warning("cannot read the lease: %s", type(error).__name__)
            return False
        spec: V1LeaseSpec = lease.spec or V1LeaseSpec()
        self._observe(_Record.of(spec))
        holder = spec.holder_identity
        if holder and holder != self.identity and not self._expired():
            return False
        now = self._clock()
        if holder != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity, spec.renew_time, spec.lease_duration_seconds = (
            self.identity,
            now,
            self._lease_seconds,
        )
        lease.spec = spec
        try:
            self._leases.replace_namespaced_lease(
                self._name, self._namespace, lease, _request_timeout=self._request_timeout(until)
            )
        except Exception as error:  # 409: someone else wrote first; anything else: not renewed
            log.debug("lease not renewed: %s", error)
            return False
        self._held(spec, started)
        return True

    def _lead_one_term(self, stop: threading.Event, lead: Lead) -> None:
        log.info("became the leader (lease %s/%s)", self._namespace, self._name)
        lost = threading.Event()
        self._notify(leading=True)
        self.leading.set()
        work = threading.Thread(target=lead, args=(lost,), name="leader-work", daemon=True)
        work.start()
        self._hold(stop)
        lost.set()
        self.leading.clear()
        self._notify(leading=False)
        if not stop.is_set():
            log.warning("lost the lease %s/%s; stepped down", self._namespace, self._name)
        if self._wait_for(work, stop) and stop.is_set():
            self._release()

    def _hold(self, stop: threading.Event) -> None:
        """Renew every ``retry_seconds`` until ``stop``, or until the renew deadline has passed."""
        while True:
            deadline = self._renewed_at + self._deadline
            if stop.wait(max(0.0, min(self._retry, deadline - self._monotonic()))):
                return
            self.last_beat = self._monotonic()
            if self.last_beat >= deadline:
                return
            self._round(until=deadline)  # a renewal still under way at the deadline is given up

    def _wait_for(self, work: threading.Thread, stop: threading.Event) -> bool:
        """Wait for the work to end, past the margin too unless ``stop`` comes; whether it ended."""
        margin = max(0.0, self._renewed_at + self._lease_seconds - self._monotonic())
        work.join(margin)
        if not work.is_alive():
            return True
        log.error(
            "the leader's work did not stop within %.1fs of giving up the lease %s/%s: another "
            "replica may hold the lease now and act at the same time; not campaigning until it stops",
            margin,
            self._namespace,
            self._name,
        )
        while work.is_alive() and not stop.is_set():
            work.join(self._retry)
        return not work.is_alive()

    def _observe(self, record: _Record) -> None:
        if record != self._observed:
            self._observed, self._observed_at = record, self._monotonic()

    def _expired(self) -> bool:
        """Whether the holder has been silent for its lease duration, as this candidate saw it."""
        duration = (self._observed.lease_seconds if self._observed else None) or self._lease_seconds
        return self._monotonic() >= self._observed_at + duration

    def _held(self, spec: V1LeaseSpec, started: float) -> None:
        self._observed, self._observed_at = _Record.of(spec), self._monotonic()
        self._renewed_at = started

    def _create(self, started: float, *, until: float | None) -> bool:
        now = self._clock()
        spec = V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=self._lease_seconds,
            acquire_time=now,
            renew_time=now,
            lease_transitions=0,
        )
        lease = V1Lease(metadata=V1ObjectMeta(name=self._name, namespace=self._namespace), spec=spec)
        try:
            self._leases.create_namespaced_lease(
                self._namespace, lease, _request_timeout=self._request_timeout(until)
            )
        except Exception as error:
            log.debug("lease not created: %s", error)
            return False
        self._held(spec, started)
        return True

    def _release(self) -> None:
        """Give the lease up so a successor can take over at once (client-go's ReleaseOnCancel)."""
        try:
            lease: Any = self._leases.read_namespaced_lease(
                self._name, self._namespace, _request_timeout=self._retry
            )
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = None
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time = self._clock()
            self._leases.replace_namespaced_lease(
                self._name, self._namespace, lease, _request_timeout=self._retry
            )
            log.info("released the lease %s/%s", self._namespace, self._name)
        except Exception as error:
            log.warning("could not release the lease: %s", error)

    def _request_timeout(self, until: float | None) -> float:
        if until is None:
            return self._retry
        return max(0.01, min(self._retry, until - self._monotonic()))

    def _notify(self, *, leading: bool) -> None:
        if self._on_change is not None:
            self._on_change(self.identity, leading)
