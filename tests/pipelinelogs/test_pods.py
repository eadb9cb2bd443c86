"""Which Pods are a request's pipeline Pods, by Kratix's labels in each era, and in which order."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.actionrun.model import RequestRef
from port_bridge.pipelinelogs.pods import pipeline_containers, selector
from port_bridge_sandbox.kratix import Era
from port_bridge_sandbox.kratix.eras import job_labels

ORDERS = RequestRef(
    promise="postgresql",
    api_version="marketplace.kratix.io/v1alpha2",
    kind="postgresql",
    plural="postgresqls",
    namespace="default",
    name="orders",
)
APPLIED = "2026-03-01T10:00:00.500Z"


def pod(
    name: str,
    labels: dict[str, str],
    *,
    namespace: str = "default",
    created: str = "2026-03-01T10:00:05Z",
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "creationTimestamp": created},
        "spec": {
            "initContainers": [{"name": "reader"}, {"name": "instance-configure"}, {"name": "work-writer"}],
            "containers": [{"name": "status-writer"}],
        },
        "status": status or {},
    }


def labels(era: Era = Era.CURRENT, *, action: str = "configure", request: str = "orders") -> dict[str, str]:
    return job_labels(
        era, promise="postgresql", request=request, pipeline="instance-configure", action=action
    )


@pytest.mark.parametrize("era", list(Era))
def test_every_eras_labels_find_the_pipeline_pod(era: Era) -> None:
    found = pipeline_containers([pod("p", labels(era))], ORDERS, operation="CREATE", not_before=APPLIED)
    assert [(c.key, c.prefix) for c in found] == [
        ("default/p/reader", "[instance-configure/reader]"),
        ("default/p/instance-configure", "[instance-configure]"),
        ("default/p/work-writer", "[instance-configure/work-writer]"),
        ("default/p/status-writer", "[instance-configure/status-writer]"),
    ]


def test_the_selector_uses_the_labels_every_era_writes() -> None:
    assert selector(ORDERS) == "kratix.io/promise-name=postgresql,kratix.io/resource-name=orders"


def test_other_requests_actions_namespaces_and_older_runs_are_left_out() -> None:
    pods = [
        pod("other", labels(request="carts")),
        pod("delete", labels(action="delete")),
        pod("legacy-delete", labels(Era.LEGACY, action="delete")),
        pod("promise", {**labels(), "kratix.io/workflow-type": "promise"}),
        pod("elsewhere", labels(), namespace="team-a"),
        pod("before", labels(), created="2026-03-01T09:59:00Z"),  # the run before this one
        pod("mine", labels()),
    ]
    found = pipeline_containers(pods, ORDERS, operation="DAY-2", not_before=APPLIED)
    assert {c.pod for c in found} == {"mine"}
    deleting = pipeline_containers(pods, ORDERS, operation="DELETE", not_before=APPLIED)
    assert {c.pod for c in deleting} == {"delete", "legacy-delete"}  # work-action before 2025-02


def test_a_pipeline_namespace_pod_is_found_by_its_resource_namespace_label() -> None:
    moved = pod("moved", {**labels(), "kratix.io/resource-namespace": "default"}, namespace="pipelines")
    found = pipeline_containers([moved], ORDERS, operation="CREATE", not_before=APPLIED)
    assert {c.namespace for c in found} == {"pipelines"}


def test_pods_come_oldest_first_and_their_status_says_which_containers_ended() -> None:
    first = pod(
        "b-first",
        labels(),
        created="2026-03-01T10:00:02Z",
        status={"initContainerStatuses": [{"name": "reader", "state": {"terminated": {"exitCode": 0}}}]},
    )
    second = pod("a-second", labels(), created="2026-03-01T10:00:09Z", status={"phase": "Succeeded"})
    found = pipeline_containers([second, first], ORDERS, operation="CREATE", not_before=APPLIED)
    assert [(c.pod, c.name, c.terminated) for c in found][:2] == [
        ("b-first", "reader", True),
        ("b-first", "instance-configure", False),
    ]
    assert all(c.terminated for c in found if c.pod == "a-second")
    assert [c.pod for c in found][-1] == "a-second"


def test_a_pod_created_just_before_the_recorded_apply_is_kept_within_the_clock_allowance() -> None:
    early = pod("early", labels(), created="2026-03-01T10:00:00Z")  # whole seconds, before .500
    assert pipeline_containers([early], ORDERS, operation="CREATE", not_before=APPLIED)
