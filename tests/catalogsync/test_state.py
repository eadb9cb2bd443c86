"""A request's Kratix state as the catalog shows it, in every Kratix era (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.catalogsync.state import RequestRef, parse_request, state_properties
from port_bridge.kube.objects import Resource

WHEN = "2026-05-01T10:00:00Z"


def request(generation: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "orders", "namespace": "default", "generation": generation},
        "status": status,
    }


def condition(kind: str, state: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": state, "reason": reason, "message": message, "lastTransitionTime": WHEN}


RECONCILED = [
    condition("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully"),
    condition("WorksSucceeded", "True", "WorksSucceeded"),
    condition("Reconciled", "True", "Reconciled"),
]


@pytest.mark.parametrize(
    ("obj", "state", "detail"),
    [
        (request(), "Pending", "Waiting for Kratix"),
        (
            request(
                conditions=[condition("ConfigureWorkflowCompleted", "False", "PipelinesInProgress")],
                workflows=2,
                workflowsSucceeded=1,
            ),
            "Reconciling",
            "Pipeline 2 of 2 running",
        ),
        (request(2, conditions=RECONCILED, observedGeneration=2), "Ready", "Reconciled"),
        (request(3, conditions=RECONCILED, observedGeneration=2), "Reconciling", "Applying change"),
        (
            request(conditions=[condition("ConfigureWorkflowCompleted", "False", "ConfigureWorkflowFailed")]),
            "Failed",
            "Pipeline failed",
        ),
        (
            request(conditions=[*RECONCILED[:2], condition("Reconciled", "Unknown", "PausedReconciliation")]),
            "Waiting",
            "Paused",
        ),
        (request(conditions=[condition("PromiseAvailable", "False")]), "Waiting", "Promise unavailable"),
        (
            request(
                conditions=[condition("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully")]
            ),
            "Ready",
            "Reconciled",
        ),  # Kratix of 2024: no WorksSucceeded yet
        (request(conditions=[condition("PipelineCompleted", "True")]), "Ready", "Reconciled"),  # up to v0.125
    ],
)
def test_the_state_in_every_era(obj: dict[str, Any], state: str, detail: str) -> None:
    properties = state_properties(obj, has_configure_workflow=True)
    assert (properties["kratixState"], properties["kratixDetail"]) == (state, detail)


def test_a_request_being_deleted_and_one_whose_delete_pipeline_failed() -> None:
    deleting = request(conditions=RECONCILED)
    deleting["metadata"] |= {"deletionTimestamp": WHEN, "finalizers": ["kratix.io/work-cleanup"]}
    assert state_properties(deleting, has_configure_workflow=True)["kratixState"] == "Deleting"
    deleting["status"]["conditions"].append(
        condition("DeleteWorkflowCompleted", "False", "DeleteWorkflowFailed")
    )
    failed = state_properties(deleting, has_configure_workflow=True)
    assert (failed["kratixState"], failed["kratixDetail"]) == ("Failed", "Delete failed")


def test_times_and_generations() -> None:
    ready = request(
        4,
        conditions=RECONCILED,
        observedGeneration=4,
        lastSuccessfulConfigureWorkflowTime="2026-05-01T09:00:00Z",
        kratix={"workflows": {"lastSuccessfulConfigureWorkflowTime": "2026-05-01T09:30:00Z"}},
    )
    properties = state_properties(ready, has_configure_workflow=True)
    assert properties["kratixLastReconciled"] == "2026-05-01T09:30:00Z"  # Kratix's own copy first
    assert (properties["kratixGeneration"], properties["kratixObservedGeneration"]) == (4, 4)
    del ready["status"]["kratix"]
    assert (
        state_properties(ready, has_configure_workflow=True)["kratixLastReconciled"] == "2026-05-01T09:00:00Z"
    )
    legacy = request(conditions=[condition("PipelineCompleted", "True")])
    assert state_properties(legacy, has_configure_workflow=True)["kratixLastReconciled"] == WHEN
    fresh = state_properties(request(), has_configure_workflow=True)
    assert (fresh["kratixLastReconciled"], fresh["kratixObservedGeneration"]) == (None, None)


def test_a_promise_without_a_configure_workflow_is_ready_once_observed() -> None:
    plain = request(observedGeneration=1)
    assert state_properties(plain, has_configure_workflow=False)["kratixState"] == "Ready"
    assert state_properties(plain, has_configure_workflow=True)["kratixState"] == "Pending"


def test_the_marker_names_the_request_as_kubectl_does() -> None:
    ref = RequestRef.of(Resource("marketplace.kratix.io", "v1alpha2", "postgresqls"), "team-a", "orders")
    assert ref.text == "postgresqls.marketplace.kratix.io/team-a/orders"
    assert parse_request(ref.text) == ("marketplace.kratix.io", "postgresqls", "team-a", "orders")
    for malformed in (None, 3, "", "postgresqls/team-a/orders", "a.b/c", "a.b/c/d/e", "a.b//d"):
        assert parse_request(malformed) is None
