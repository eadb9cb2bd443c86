"""The simulator writes what each Kratix era writes, driven only through the official client."""

from __future__ import annotations

import copy
import time
from typing import Any

import kubernetes
import pytest
from kubernetes.client import ApiException, CustomObjectsApi

from port_bridge_sandbox.kratix import Behaviour, Era, Timings
from port_bridge_sandbox.kratix.behaviour import WorksOutcome
from port_bridge_sandbox.kube import KubeApiServer
from tests.conftest import StartKratix
from tests.kubeclient import json_object
from tests.waiting import wait_for

PG = ("marketplace.kratix.io", "v1alpha2", "postgresqls")
RDS = ("aws.marketplace.kratix.io", "v1alpha1", "rds")
NAMESPACE = ("marketplace.kratix.io", "v1alpha1", "namespaces")


@pytest.fixture
def objects(kube_client: kubernetes.client.ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(kube_client)


def install(objects: CustomObjectsApi, promise: dict[str, Any]) -> None:
    objects.create_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", copy.deepcopy(promise))


def request(
    objects: CustomObjectsApi, resource: tuple[str, str, str], body: dict[str, Any]
) -> dict[str, Any]:
    return json_object(
        objects.create_namespaced_custom_object(*resource[:2], "default", resource[2], copy.deepcopy(body))
    )


def read(objects: CustomObjectsApi, resource: tuple[str, str, str], name: str = "example") -> dict[str, Any]:
    return json_object(objects.get_namespaced_custom_object(*resource[:2], "default", resource[2], name))


def conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in (obj.get("status") or {}).get("conditions", [])}


def statuses(
    kube: KubeApiServer, resource: tuple[str, str, str], name: str = "example"
) -> list[dict[str, Any]]:
    history = kube.call(kube.emulator.object_history, *resource, "default", name)
    return [version.get("status") or {} for version in history if version is not None]


def condition_trail(kube: KubeApiServer, resource: tuple[str, str, str], kind: str) -> list[str]:
    """The successive values of one condition, without repeats."""
    trail: list[str] = []
    for status in statuses(kube, resource):
        found = next(
            (f"{c['status']}/{c['reason']}" for c in status.get("conditions", []) if c["type"] == kind), None
        )
        if found and (not trail or trail[-1] != found):
            trail.append(found)
    return trail


def jobs(objects: CustomObjectsApi, selector: str) -> list[dict[str, Any]]:
    listed = objects.list_namespaced_custom_object("batch", "v1", "default", "jobs", label_selector=selector)
    return [json_object(job) for job in json_object(listed)["items"]]


FINAL = {
    Era.LEGACY: ("PipelineCompleted", ("True", "PipelineExecutedSuccessfully")),
    Era.Y2024: ("ConfigureWorkflowCompleted", ("True", "PipelinesExecutedSuccessfully")),
    Era.CURRENT: ("Reconciled", ("True", "Reconciled")),
}


@pytest.mark.parametrize("era", list(Era))
def test_postgresql_request_reaches_its_final_state_in_each_era(
    era: Era,
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix(era=era)
    install(objects, promises["postgresql"])
    wait_for(
        lambda: (read_promise(objects).get("status") or {}).get("status") == "Available",
        what="Promise available",
    )
    request(objects, PG, sample_requests["postgresql"])
    kind, final = FINAL[era]
    done = wait_for(
        lambda: (
            conditions(read(objects, PG)).get(kind) == final
            and read(objects, PG)["status"].get("observedGeneration") == 1
            and read(objects, PG)
        ),
        what=f"{kind} {final} for generation 1",
    )
    assert done["metadata"]["labels"]["kratix.io/promise-name"] == "postgresql"
    assert "kratix.io/work-cleanup" in done["metadata"]["finalizers"]
    assert done["status"]["observedGeneration"] == 1
    assert done["status"]["message"] == "1Gi instance v16 deployed successfully without backups"
    assert done["status"]["connectionDetails"]["host"].endswith(".default.svc.cluster.local")
    messages = [status.get("message") for status in statuses(kube, PG) if status.get("message")]
    assert messages[0] == "Pending"
    if era is Era.CURRENT:
        assert conditions(done)["WorksSucceeded"] == ("True", "WorksSucceeded")
        assert done["status"]["workflows"] == done["status"]["workflowsSucceeded"] == 1
        assert done["status"]["kratix"]["workflows"]["pipelines"][0]["phase"] == "Succeeded"
        assert done["status"]["kratix"]["workflows"]["lastSuccessfulConfigureWorkflowTime"]
        assert "kratix.io/resource-binding-cleanup" in done["metadata"]["finalizers"]
    else:
        assert "Reconciled" not in conditions(done) and "WorksSucceeded" not in conditions(done)
        assert "kratix" not in done["status"]
    if era is Era.LEGACY:
        assert "ConfigureWorkflowCompleted" not in conditions(done)
        assert condition_trail(kube, PG, "PipelineCompleted") == [
            "False/PipelineNotCompleted",
            "True/PipelineExecutedSuccessfully",
        ]


def read_promise(objects: CustomObjectsApi, name: str = "postgresql") -> dict[str, Any]:
    return json_object(objects.get_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", name))


def test_current_era_passes_through_the_states_a_client_must_not_take_for_success(
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    wait_for(lambda: conditions(read(objects, PG)).get("Reconciled") == ("True", "Reconciled"))
    history = statuses(kube, PG)
    # The configure workflow has completed but the Works are not known yet: not a success.
    assert any(
        conditions({"status": s}).get("ConfigureWorkflowCompleted", ("", ""))[0] == "True"
        and "WorksSucceeded" not in conditions({"status": s})
        for s in history
    )
    assert condition_trail(kube, PG, "Reconciled") == ["Unknown/WorkflowPending", "True/Reconciled"]


@pytest.mark.parametrize("era", [Era.Y2024, Era.CURRENT])
def test_pipeline_failure_is_reported_with_the_failing_pipeline(
    era: Era,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix(era=era)
    kratix.behave(Behaviour(configure="fail"), promise="postgresql")
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    failed = wait_for(
        lambda: (
            conditions(read(objects, PG)).get("ConfigureWorkflowCompleted", ("", ""))[1]
            == "ConfigureWorkflowFailed"
            and read(objects, PG)
        )
    )
    cwc = next(c for c in failed["status"]["conditions"] if c["type"] == "ConfigureWorkflowCompleted")
    assert cwc["message"] == "A Configure Pipeline has failed: instance-configure"
    assert "observedGeneration" not in failed["status"]
    if era is Era.CURRENT:
        assert conditions(failed)["Reconciled"] == ("False", "ConfigureWorkflowFailed")
        assert failed["status"]["workflowsFailed"] == 1
        assert failed["status"]["kratix"]["workflows"]["pipelines"][0]["phase"] == "Failed"


def test_legacy_pipeline_failure_shows_only_on_the_job(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix(era=Era.LEGACY)
    kratix.behave(Behaviour(configure="fail"), promise="postgresql")
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    selector = (
        "kratix.io/promise-name=postgresql,kratix.io/resource-name=example,kratix.io/work-action=configure"
    )
    [job] = wait_for(lambda: [j for j in jobs(objects, selector) if j.get("status", {}).get("conditions")])
    assert job["status"]["conditions"][0]["type"] == "Failed"
    assert conditions(read(objects, PG)) == {"PipelineCompleted": ("False", "PipelineNotCompleted")}


def test_multi_pipeline_workflow_counts_and_completes_only_after_the_last(
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    marketplace_promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    install(objects, marketplace_promises["aws-rds"])
    request(objects, RDS, sample_requests["aws-rds"])
    done = wait_for(
        lambda: (
            conditions(read(objects, RDS)).get("Reconciled") == ("True", "Reconciled") and read(objects, RDS)
        )
    )
    assert done["status"]["workflows"] == 2 and done["status"]["workflowsSucceeded"] == 2
    assert [p["phase"] for p in done["status"]["kratix"]["workflows"]["pipelines"]] == [
        "Succeeded",
        "Succeeded",
    ]
    assert done["status"]["endpoint"].endswith(".rds.amazonaws.com:5432")
    assert condition_trail(kube, RDS, "ConfigureWorkflowCompleted") == [
        "False/PipelinesInProgress",
        "True/PipelinesExecutedSuccessfully",
    ]
    progress = [s["workflowsSucceeded"] for s in statuses(kube, RDS) if "workflowsSucceeded" in s]
    assert progress == sorted(progress) and 1 in progress  # pipeline 1 of 2 was visible
    selector = "kratix.io/resource-name=example,kratix.io/workflow-action=configure"
    assert {j["metadata"]["labels"]["kratix.io/pipeline-name"] for j in jobs(objects, selector)} == {
        "rds-configure",
        "rds-wait",
    }


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            "pending",
            {"WorksSucceeded": ("Unknown", "WorksPending"), "Reconciled": ("Unknown", "WorksPending")},
        ),
        ("failing", {"WorksSucceeded": ("False", "WorksFailing"), "Reconciled": ("False", "WorksFailing")}),
    ],
)
def test_works_that_never_schedule_or_fail_to_write(
    outcome: WorksOutcome,
    expected: dict[str, tuple[str, str]],
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix()
    kratix.behave(Behaviour(works=outcome))
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    settled = wait_for(lambda: conditions(read(objects, PG)).get("WorksSucceeded") and read(objects, PG))
    assert {k: v for k, v in conditions(settled).items() if k in expected} == expected
    assert conditions(settled)["ConfigureWorkflowCompleted"] == ("True", "PipelinesExecutedSuccessfully")


def test_spec_update_reruns_and_observed_generation_catches_up_after(
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    wait_for(lambda: conditions(read(objects, PG)).get("Reconciled") == ("True", "Reconciled"))
    updated = json_object(
        objects.patch_namespaced_custom_object(
            *PG[:2], "default", PG[2], "example", {"spec": {"env": "prod"}}
        )
    )
    assert updated["metadata"]["generation"] == 2
    done = wait_for(
        lambda: (
            read(objects, PG)["status"].get("observedGeneration") == 2
            and conditions(read(objects, PG)).get("Reconciled") == ("True", "Reconciled")
            and read(objects, PG)
        )
    )
    assert done["status"]["message"] == "10Gi instance v16 deployed successfully with backups"
    after_update = [s for s in statuses(kube, PG) if s.get("observedGeneration") == 1]
    assert any(
        conditions({"status": s}).get("ConfigureWorkflowCompleted") == ("False", "PipelinesInProgress")
        for s in after_update
    )


def test_periodic_rerun_flips_a_finished_request_back_to_in_progress(
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix(timings=Timings(pickup=0.005, pipeline=0.02, works=0.01, reconcile_interval=0.15))
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    wait_for(
        lambda: condition_trail(kube, PG, "Reconciled").count("True/Reconciled") >= 2,
        what="two reconciliations",
    )
    trail = condition_trail(kube, PG, "Reconciled")
    assert trail[:4] == [
        "Unknown/WorkflowPending",
        "True/Reconciled",
        "Unknown/WorkflowPending",
        "True/Reconciled",
    ]
    assert {s.get("observedGeneration") for s in statuses(kube, PG)} <= {None, 1}


def test_deletion_runs_through_the_finalizers(
    kube: KubeApiServer,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    wait_for(lambda: conditions(read(objects, PG)).get("Reconciled") == ("True", "Reconciled"))
    marked = json_object(objects.delete_namespaced_custom_object(*PG[:2], "default", PG[2], "example"))
    assert marked["metadata"]["deletionTimestamp"]

    def gone() -> bool:
        try:
            read(objects, PG)
        except ApiException as error:
            status: int = error.status
            return status == 404
        return False

    wait_for(gone, what="request deleted")
    assert jobs(objects, "kratix.io/resource-name=example") == []
    assert kube.call(kube.emulator.object_history, *PG, "default", "example")[-1] is None


def test_failed_delete_pipeline_leaves_the_request_stuck_and_says_so(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    marketplace_promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix()
    kratix.behave(Behaviour(delete="fail"), promise="aws-rds")
    install(objects, marketplace_promises["aws-rds"])
    request(objects, RDS, sample_requests["aws-rds"])
    wait_for(lambda: conditions(read(objects, RDS)).get("Reconciled") == ("True", "Reconciled"))
    objects.delete_namespaced_custom_object(*RDS[:2], "default", RDS[2], "example")
    stuck = wait_for(
        lambda: "DeleteWorkflowCompleted" in conditions(read(objects, RDS)) and read(objects, RDS)
    )
    assert conditions(stuck)["DeleteWorkflowCompleted"] == ("False", "DeleteWorkflowFailed")
    assert (
        stuck["metadata"]["deletionTimestamp"]
        and "kratix.io/delete-workflows" in stuck["metadata"]["finalizers"]
    )


def test_paused_requests_run_nothing(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    install(objects, promises["postgresql"])
    body = copy.deepcopy(sample_requests["postgresql"])
    body["metadata"]["labels"] = {"kratix.io/paused": "true"}
    request(objects, PG, body)
    paused = wait_for(lambda: conditions(read(objects, PG)).get("Reconciled") and read(objects, PG))
    assert conditions(paused)["Reconciled"] == ("Unknown", "PausedReconciliation")
    assert jobs(objects, "kratix.io/resource-name=example") == []


def test_unavailable_promise_holds_requests_until_it_recovers(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix()
    install(objects, promises["postgresql"])
    wait_for(lambda: (read_promise(objects).get("status") or {}).get("status") == "Available")
    kratix.set_promise_available("postgresql", False)
    wait_for(lambda: read_promise(objects)["status"]["status"] == "Unavailable")
    request(objects, PG, sample_requests["postgresql"])
    held = wait_for(lambda: "PromiseAvailable" in conditions(read(objects, PG)) and read(objects, PG))
    assert conditions(held)["PromiseAvailable"] == ("False", "PromiseRequirementsNotInstalled")
    assert held["status"]["message"] == "Pending"
    kratix.set_promise_available("postgresql", True)
    done = wait_for(
        lambda: (
            conditions(read(objects, PG)).get("Reconciled") == ("True", "Reconciled") and read(objects, PG)
        )
    )
    assert conditions(done)["PromiseAvailable"] == ("True", "PromiseAvailable")


def test_suspended_pipeline_labels_the_request_and_says_why(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix()
    kratix.behave(Behaviour(configure="suspend", suspend_message="waiting for approval"))
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    suspended = wait_for(
        lambda: (
            conditions(read(objects, PG)).get("Reconciled", ("", ""))[0] == "Unknown"
            and conditions(read(objects, PG))["Reconciled"][1] == "WorkflowSuspended"
            and read(objects, PG)
        )
    )
    assert suspended["metadata"]["labels"]["kratix.io/workflow-suspended"] == "true"
    pipeline = suspended["status"]["kratix"]["workflows"]["pipelines"][0]
    assert (pipeline["phase"], pipeline["message"]) == ("Suspended", "waiting for approval")


def test_a_hung_pipeline_never_finishes(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix()
    kratix.behave(Behaviour(configure="hang"), name="example")
    install(objects, promises["postgresql"])
    request(objects, PG, sample_requests["postgresql"])
    wait_for(lambda: jobs(objects, "kratix.io/resource-name=example"))
    # A request made after the hung pipeline started goes all the way through; the simulator runs
    # its steps in the order they fall due, so the hung pipeline would have ended before that.
    request(objects, PG, {**sample_requests["postgresql"], "metadata": {"name": "control"}})
    wait_for(lambda: conditions(read(objects, PG, "control")).get("Reconciled") == ("True", "Reconciled"))
    assert conditions(read(objects, PG))["ConfigureWorkflowCompleted"] == ("False", "PipelinesInProgress")
    [job] = jobs(objects, "kratix.io/resource-name=example")
    assert job["status"] == {"active": 1, "startTime": job["status"]["startTime"]}


def test_promise_without_a_configure_workflow_only_observes_the_generation(
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    start_kratix()
    bare = copy.deepcopy(promises["namespace"])
    bare["spec"].pop("workflows", None)
    install(objects, bare)
    request(objects, NAMESPACE, sample_requests["namespace"])
    done = wait_for(lambda: read(objects, NAMESPACE).get("status"))
    assert done == {"observedGeneration": 1}


@pytest.mark.parametrize("era", list(Era))
def test_milestones_record_when_the_final_condition_was_written(
    era: Era,
    objects: CustomObjectsApi,
    start_kratix: StartKratix,
    promises: dict[str, Any],
    sample_requests: dict[str, Any],
) -> None:
    kratix = start_kratix(era=era)
    kratix.behave(Behaviour(configure="hang"), name="stuck")
    install(objects, promises["postgresql"])
    wait_for(lambda: (read_promise(objects).get("status") or {}).get("status") == "Available")
    before = time.time()
    request(objects, PG, sample_requests["postgresql"])
    request(objects, PG, {**sample_requests["postgresql"], "metadata": {"name": "stuck"}})
    kind, final = FINAL[era]
    wait_for(lambda: conditions(read(objects, PG)).get(kind) == final, what=f"{kind} {final}")

    finished = wait_for(lambda: kratix.milestones.get(("postgresql", "default", "example")))
    assert before <= finished <= time.time()
    assert list(kratix.milestones) == [("postgresql", "default", "example")]  # "stuck" never finishes
