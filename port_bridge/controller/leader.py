"""Leader election on a ``coordination.k8s.io/v1`` Lease: one active controller per cluster.

Several controller replicas may run; only the Lease holder acts, the others wait to take over.
The holder renews the Lease every ``retry_seconds``; if it cannot renew within
``renew_deadline_seconds`` it steps down (its work is stopped before another replica's Lease
can be valid), and on shutdown it releases the Lease so a successor need not wait for expiry.
Writes use the Lease's resourceVersion, so two candidates can never both win one round.

The ``kubernetes`` client's own elector cannot release on shutdown and exits the process on a
bad configuration (research/peers.md §4.3), hence this small one, with the same semantics as
client-go's.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import kubernetes
from kubernetes.client import ApiException, CoordinationV1Api, V1Lease, V1LeaseSpec, V1ObjectMeta

log = logging.getLogger(__name__)


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


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
        clock: Callable[[], datetime.datetime] = _now,
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
        self._clock = clock
        self.leading = threading.Event()
        self.last_beat = time.monotonic()  # the election loop's last sign of life, for the liveness probe

    def run(self, stop: threading.Event, *, lead: Callable[[threading.Event], None]) -> None:
        """Campaign until ``stop``; while leading, ``lead(lost)`` runs in a thread until ``lost`` is set."""
        while not stop.is_set():
            self.last_beat = time.monotonic()
            if not self._try_acquire_or_renew():
                stop.wait(self._retry)
                continue
            log.info("became the leader (lease %s/%s)", self._namespace, self._name)
            lost = threading.Event()
            self.leading.set()
            worker = threading.Thread(target=lead, args=(lost,), name="leader-work", daemon=True)
            worker.start()
            self._hold(stop)
            lost.set()
            self.leading.clear()
            worker.join()
            if stop.is_set():
                self._release()
            else:
                log.warning("lost the lease %s/%s; stepped down", self._namespace, self._name)

    def _hold(self, stop: threading.Event) -> None:
        """Renew until ``stop`` or until renewing has failed for longer than the deadline."""
        last_renewal = self._clock()
        while not stop.wait(self._retry):
            self.last_beat = time.monotonic()
            if self._try_acquire_or_renew():
                last_renewal = self._clock()
            elif (self._clock() - last_renewal).total_seconds() >= self._deadline:
                return

    def _try_acquire_or_renew(self) -> bool:
        now = self._clock()
        try:
            lease: Any = self._leases.read_namespaced_lease(
                self._name, self._namespace, _request_timeout=self._retry
            )
        except ApiException as error:
            if error.status != 404:
                log.warning("cannot read the lease: %s", error.reason)
                return False
            return self._create(now)
        except Exception as error:  # the API server is unreachable: not leading, keep campaigning
            log.warning("cannot read the lease: %s", type(error).__name__)
            return False
        spec: V1LeaseSpec = lease.spec or V1LeaseSpec()
        holder = spec.holder_identity
        if holder and holder != self.identity and not self._expired(spec, now):
            return False
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
                self._name, self._namespace, lease, _request_timeout=self._retry
            )
        except Exception as error:  # 409: someone else wrote first; anything else: not renewed
            log.debug("lease not renewed: %s", error)
            return False
        return True

    def _expired(self, spec: V1LeaseSpec, now: datetime.datetime) -> bool:
        renewed = spec.renew_time or spec.acquire_time
        if renewed is None:
            return True
        return (now - renewed).total_seconds() > (spec.lease_duration_seconds or self._lease_seconds)

    def _create(self, now: datetime.datetime) -> bool:
        lease = V1Lease(
            metadata=V1ObjectMeta(name=self._name, namespace=self._namespace),
            spec=V1LeaseSpec(
                holder_identity=self.identity,
                lease_duration_seconds=self._lease_seconds,
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            self._leases.create_namespaced_lease(self._namespace, lease, _request_timeout=self._retry)
        except Exception as error:
            log.debug("lease not created: %s", error)
            return False
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
