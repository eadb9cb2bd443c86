"""A deposed leader stops writing before another replica can hold the Lease.

The leader's Port writes are kept failing (503) so a worker is inside a retry loop when the
Lease is taken from under it; from the moment the leader steps down, not one more request may
leave it, and its controller must have stopped within the margin between its renew deadline and
the Lease duration.
"""

from __future__ import annotations

import datetime

import kubernetes
from kubernetes.client import CoordinationV1Api

from tests.conftest import BRIDGE_NAMESPACE, Bridge, StartController
from tests.waiting import wait_for


def test_a_deposed_leader_sends_nothing_more(
    bridge_without_controller: Bridge,
    start_controller: StartController,
    kube_client: kubernetes.client.ApiClient,
) -> None:
    bridge = bridge_without_controller
    # A margin of 4 s (lease 6 s, renew deadline 2 s): wide enough for a loaded machine.
    leader = start_controller(identity="a", lease_seconds=6, lease_renew_deadline_seconds=2.0)
    wait_for(lambda: leader.controllers, what="a to lead")
    controller = leader.controllers[0]
    bridge.port.faults.server_error(503, method="POST", path=r"/v1/actions/runs/.*/logs", times=None)

    def log_attempts() -> int:
        return len(bridge.port.calls_matching("POST", r"/v1/actions/runs/.*/logs"))

    bridge.click("create-redis", {"name": "cache"})
    wait_for(lambda: log_attempts() >= 2, what="a worker to be retrying a log line")
    leases = CoordinationV1Api(kube_client)

    def steal_the_lease() -> bool:  # a renews every 0.2 s: on a conflict, read again and retry
        lease = leases.read_namespaced_lease(leader.settings.lease_name, BRIDGE_NAMESPACE)
        assert lease.spec is not None
        lease.spec.holder_identity = "intruder"
        lease.spec.renew_time = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=5)
        try:
            leases.replace_namespaced_lease(leader.settings.lease_name, BRIDGE_NAMESPACE, lease)
        except kubernetes.client.ApiException as error:
            if error.status != 409:
                raise
            return False
        return True

    wait_for(steal_the_lease, what="the Lease to be taken from a")

    wait_for(lambda: not controller.leading, timeout=10, what="a to step down")
    attempts_when_deposed = log_attempts()
    margin = leader.settings.lease_seconds - leader.settings.lease_renew_deadline_seconds
    assert controller.stopped.wait(margin), "the deposed controller did not stop within the margin"
    assert log_attempts() <= attempts_when_deposed + 1  # at most the request already on the wire
