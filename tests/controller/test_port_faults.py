"""Port misbehaving: rate limits, 5xx storms, an outage of several seconds, expiring tokens.

Whatever Port does, every run ends with exactly one terminal report and every request the
bridge sends conforms to Port's spec.
"""

from __future__ import annotations

from kubernetes.client import ApiClient

from port_bridge.kube.objects import KubeObjects, Resource
from tests.conftest import Bridge
from tests.waiting import wait_for

REDIS = Resource("marketplace.kratix.io", "v1alpha1", "redis")


def test_rate_limits_on_every_route_are_waited_out(bridge: Bridge) -> None:
    bridge.port.faults.rate_limit(retry_after=0.2, times=6)
    bridge.port.faults.rate_limit(
        method="POST",
        path=r"/v1/actions/runs/.*/logs",
        retry_after=None,
        reset_after=0.3,
        reset_format="seconds",
        times=4,
    )
    run = bridge.run_to_end("create-redis", {"name": "cache"})
    assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
    assert sum(1 for call in bridge.port.calls if call.status == 429) == 10
    assert bridge.port.spec_violations == []


def test_a_storm_of_server_errors_and_dropped_connections(bridge: Bridge) -> None:
    bridge.port.faults.server_error(503, times=4)
    bridge.port.faults.server_error(502, method="PATCH", times=2)
    bridge.port.faults.drop_connection(method="POST", path=r"/v1/blueprints/.*/entities", times=2)
    run = bridge.run_to_end("create-redis", {"name": "cache"})
    assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
    assert bridge.port.entity("redis", "default.cache") is not None
    assert bridge.port.spec_violations == []


def test_reports_go_out_when_port_comes_back(bridge: Bridge, kube_client: ApiClient) -> None:
    bridge.port.faults.port_down()
    run_ids = [bridge.click("create-redis", {"name": f"cache-{n}"}) for n in range(3)]
    objects = KubeObjects(kube_client)

    def all_reconciled() -> bool:
        items = objects.list(REDIS, namespace="default")["items"]
        return len(items) == 3 and all(
            any(
                c["type"] == "Reconciled" and c["status"] == "True"
                for c in item.get("status", {}).get("conditions", [])
            )
            for item in items
        )

    def refused() -> int:
        return sum(1 for call in bridge.port.calls if call.status == 503)

    wait_for(all_reconciled, timeout=15)  # Kratix finished while Port was unreachable
    refused_then = refused()
    wait_for(lambda: refused() >= refused_then + 3, what="Port to refuse the bridge three more times")
    assert {bridge.port.run(run_id).status for run_id in run_ids} == {"IN_PROGRESS"}
    bridge.port.faults.port_up()
    for run_id in run_ids:
        run = bridge.finished(run_id, timeout=30)
        assert run.status == "SUCCESS" and len(run.terminal_reports) == 1
        assert run.logs[0].message.startswith("port-bridge received the run")
    assert bridge.port.spec_violations == []


def test_one_token_for_many_runs_and_a_fresh_one_when_it_expires(bridge: Bridge) -> None:
    first = bridge.run_to_end("create-redis", {"name": "cache-a"})
    second = bridge.run_to_end("create-redis", {"name": "cache-b"})
    assert (first.status, second.status) == ("SUCCESS", "SUCCESS")
    assert bridge.port.token_requests == 1
    bridge.port.expire_token()
    third = bridge.run_to_end("create-redis", {"name": "cache-c"})
    assert third.status == "SUCCESS" and len(third.terminal_reports) == 1
    assert bridge.port.token_requests == 2
    assert any(call.status == 401 for call in bridge.port.calls)  # the stale token was refused, then replaced
