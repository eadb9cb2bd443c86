"""The simulator runs a pipeline as a process under Kratix's contract and does with what it wrote
what Kratix does (research/kratix.md §2.5, §3.1, §3.3).

The pipeline here is a test program (any interpreter runs it, so these tests need no
.venv-pipelines) that writes the contract's files itself, without the SDK, at the directories
the KRATIX_SDK_* variables name; it also records what it was given. The oracles are the
contract and what the program wrote: the request, Works, Jobs, Pods and Pod logs are read back
through the Kubernetes API.
"""

from __future__ import annotations

import base64
import gzip
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kubernetes.client import CoreV1Api, CustomObjectsApi

from port_bridge_sandbox.kratix import KratixSimulator, Timings
from port_bridge_sandbox.kratix.pipeline_process import PROJECT_IMAGE, go_duration, local_program
from port_bridge_sandbox.kube import KubeApiServer
from tests.kubeclient import json_object
from tests.sandbox.kratix.test_simulator import conditions, statuses
from tests.waiting import wait_for

WIDGETS = ("test.port-bridge.io", "v1alpha1", "widgets")
TIMINGS = Timings(pickup=0.005, pipeline=0.02, works=0.01, delete_pipeline=0.02)
NESTED = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nested\n"

PROGRAM = textwrap.dedent(
    """
    import os, pathlib, sys, time
    import yaml

    inputs, outputs, metadata = (
        pathlib.Path(os.environ[f"KRATIX_SDK_{name}_DIR"]) for name in ("INPUT", "OUTPUT", "METADATA")
    )
    request = yaml.safe_load((inputs / "object.yaml").read_text())
    name, mode = request["metadata"]["name"], request["spec"]["mode"]
    print(f"widget {name}: mode {mode}", flush=True)
    print("a line on stderr", file=sys.stderr, flush=True)
    if os.environ["KRATIX_WORKFLOW_ACTION"] == "delete":
        print("unmaking the widget")
        sys.exit(4 if mode == "fail-delete" else 0)
    given = {k: v for k, v in os.environ.items() if k.startswith("KRATIX_") and "_SDK_" not in k}
    (outputs / "seen.yaml").write_text(yaml.safe_dump({"env": given, "object": request}))
    (outputs / "nested" / "dir").mkdir(parents=True)
    (outputs / "nested" / "dir" / "configmap.yaml").write_bytes(NESTED)
    counter = pathlib.Path(__file__).with_name(f"attempts-{name}")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    if mode == "fail":
        print("cannot make the widget")
        sys.exit(3)
    if mode == "sleep":
        time.sleep(60)
    control = metadata / "workflow-control.yaml"
    if mode == "suspend" and attempt == 1:
        control.write_text(yaml.safe_dump({"suspend": True, "message": "awaiting approval"}))
    if mode == "retry" and attempt == 1:
        control.write_text(yaml.safe_dump({"retryAfter": "300ms", "message": "db not ready"}))
    made = {"type": "WidgetMade", "status": "True", "reason": "Made", "message": "made",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}
    status = {"message": f"widget made on attempt {attempt}", "attempt": attempt, "conditions": [made]}
    (metadata / "status.yaml").write_text(yaml.safe_dump([status] if mode == "bad-status" else status))
    """
).replace("NESTED", repr(NESTED))


def widget_promise() -> dict[str, Any]:
    image = "ghcr.io/port-bridge/widget-pipeline:v1"
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"mode": {"type": "string"}}}},
    }
    return {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Promise",
        "metadata": {"name": "widget"},
        "spec": {
            "api": {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.test.port-bridge.io"},
                "spec": {
                    "group": "test.port-bridge.io",
                    "scope": "Namespaced",
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                    "versions": [
                        {
                            "name": "v1alpha1",
                            "served": True,
                            "storage": True,
                            "schema": {"openAPIV3Schema": schema},
                        }
                    ],
                },
            },
            "workflows": {
                "resource": {
                    "configure": [_pipeline("widget-configure", "make-widget", image)],
                    "delete": [_pipeline("widget-delete", "unmake-widget", image)],
                }
            },
        },
    }


def _pipeline(name: str, container: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Pipeline",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": container, "image": image}]},
    }


@pytest.fixture
def objects(kube_client: kubernetes.client.ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(kube_client)


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> Path:
    program = tmp_path / "widget" / "pipeline.py"
    program.parent.mkdir()
    program.write_text(PROGRAM)
    return tmp_path


@pytest.fixture
def kratix(
    kube: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    objects: CustomObjectsApi,
    pipelines_dir: Path,
) -> Iterator[KratixSimulator]:
    simulator = KratixSimulator(
        kube_client,
        timings=TIMINGS,
        pipelines_python=Path(sys.executable),
        pipelines_dir=pipelines_dir,
        pipeline_timeout=3.0,
        pod_logs=kube.emulator.pod_logs,
    )
    with simulator:
        assert simulator.runs_pipelines
        objects.create_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", widget_promise())
        yield simulator
    assert simulator.errors == []


def make(objects: CustomObjectsApi, name: str, mode: str) -> None:
    body = {"apiVersion": "test.port-bridge.io/v1alpha1", "kind": "Widget", "metadata": {"name": name}}
    wait_for(lambda: _create(objects, {**body, "spec": {"mode": mode}}), what="the Widget CRD to be served")


def _create(objects: CustomObjectsApi, body: dict[str, Any]) -> bool:
    try:
        objects.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], body)
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def read(objects: CustomObjectsApi, name: str) -> dict[str, Any]:
    return json_object(objects.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], name))


def listed(
    objects: CustomObjectsApi, group: str, version: str, plural: str, name: str
) -> list[dict[str, Any]]:
    found = objects.list_namespaced_custom_object(
        group, version, "default", plural, label_selector=f"kratix.io/resource-name={name}"
    )
    return [json_object(item) for item in json_object(found)["items"]]


def reconciled(objects: CustomObjectsApi, name: str) -> bool:
    return conditions(read(objects, name)).get("Reconciled") == ("True", "Reconciled")


def pod_log(
    kube_client: kubernetes.client.ApiClient, name: str, container: str, *, action: str = "configure"
) -> str:
    core = CoreV1Api(kube_client)
    selector = f"kratix.io/resource-name={name},kratix.io/workflow-action={action}"
    [pod] = core.list_namespaced_pod("default", label_selector=selector).items
    assert pod.metadata is not None and pod.metadata.name is not None
    text: str = core.read_namespaced_pod_log(pod.metadata.name, "default", container=container)
    return text


def workloads(work: dict[str, Any]) -> dict[str, bytes]:
    [group] = work["spec"]["workloadGroups"]
    return {
        item["filepath"]: gzip.decompress(base64.b64decode(item["content"])) for item in group["workloads"]
    }


@pytest.mark.usefixtures("kratix")
def test_the_pipeline_gets_the_contract_and_what_it_writes_becomes_status_and_work(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient
) -> None:
    make(objects, "w1", "ok")
    wait_for(lambda: reconciled(objects, "w1"))
    request = read(objects, "w1")
    status = request["status"]
    assert status["message"] == "widget made on attempt 1" and status["attempt"] == 1
    assert conditions(request)["WidgetMade"] == ("True", "Made")  # merged by type beside Kratix's own
    assert conditions(request)["ConfigureWorkflowCompleted"] == ("True", "PipelinesExecutedSuccessfully")

    [work] = listed(objects, "platform.kratix.io", "v1alpha1", "works", "w1")
    assert work["metadata"]["labels"]["kratix.io/pipeline-name"] == "widget-configure"
    assert [(c["type"], c["message"]) for c in work["status"]["conditions"]] == [("Ready", "Ready")]
    assert f"[{work['metadata']['name']}]" not in str(request["status"])  # all ready: no Work named
    files = workloads(work)
    assert set(files) == {"seen.yaml", "nested/dir/configmap.yaml"}
    assert files["nested/dir/configmap.yaml"] == NESTED
    seen = yaml.safe_load(files["seen.yaml"])
    assert seen["env"] == {
        "KRATIX_WORKFLOW_ACTION": "configure",
        "KRATIX_WORKFLOW_TYPE": "resource",
        "KRATIX_PROMISE_NAME": "widget",
        "KRATIX_PIPELINE_NAME": "widget-configure",
        "KRATIX_OBJECT_KIND": "Widget",
        "KRATIX_OBJECT_GROUP": "test.port-bridge.io",
        "KRATIX_OBJECT_VERSION": "v1alpha1",
        "KRATIX_OBJECT_NAME": "w1",
        "KRATIX_OBJECT_NAMESPACE": "default",
        "KRATIX_CRD_PLURAL": "widgets",
        "KRATIX_CLUSTER_SCOPED": "false",
    }
    given = seen["object"]  # the request as the pipeline read it: labelled, finalized, its run started
    assert (
        given["spec"] == {"mode": "ok"} and given["metadata"]["labels"]["kratix.io/promise-name"] == "widget"
    )
    assert given["status"]["message"] == "Pending"

    log = pod_log(kube_client, "w1", "make-widget")
    assert "widget w1: mode ok\n" in log and "a line on stderr\n" in log


@pytest.mark.usefixtures("kratix")
def test_the_pipeline_pod_is_the_jobs_as_the_job_controller_makes_it(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient
) -> None:
    make(objects, "w8", "ok")
    wait_for(lambda: reconciled(objects, "w8"))
    [job] = listed(objects, "batch", "v1", "jobs", "w8")
    core = CoreV1Api(kube_client)
    [pod] = core.list_namespaced_pod("default", label_selector=f"job-name={job['metadata']['name']}").items
    assert pod.metadata is not None and pod.metadata.name and pod.spec is not None and pod.status is not None
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert pod.metadata.labels == {
        **labels,
        "job-name": job["metadata"]["name"],
        "batch.kubernetes.io/job-name": job["metadata"]["name"],
    }
    assert (
        labels["kratix.io/workflow-action"] == "configure"
        and labels["kratix.io/pipeline-name"] == "widget-configure"
    )
    [owner] = pod.metadata.owner_references or []
    assert (owner.kind, owner.name, owner.uid) == ("Job", job["metadata"]["name"], job["metadata"]["uid"])
    assert [c.name for c in pod.spec.init_containers or []] == ["reader", "make-widget", "work-writer"]
    assert [c.name for c in pod.spec.containers] == ["status-writer"]
    assert pod.status.phase == "Succeeded"
    # every container's log has ended: following it returns rather than waiting for more
    followed = core.read_namespaced_pod_log(
        pod.metadata.name, "default", container="make-widget", follow=True, _request_timeout=5
    )
    assert followed.startswith("widget w8: mode ok\n")


@pytest.mark.usefixtures("kratix")
def test_a_pipeline_exiting_non_zero_fails_the_request_as_kratix_marks_it(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient
) -> None:
    make(objects, "w2", "fail")
    wait_for(lambda: _failed(objects, "w2"))
    request = read(objects, "w2")
    completed = next(c for c in request["status"]["conditions"] if c["type"] == "ConfigureWorkflowCompleted")
    assert completed["message"] == "A Configure Pipeline has failed: widget-configure"
    assert conditions(request)["Reconciled"] == ("False", "ConfigureWorkflowFailed")
    assert request["status"]["kratix"]["workflows"]["pipelines"][0]["phase"] == "Failed"
    assert "attempt" not in request["status"]  # a failed pipeline's status.yaml is never merged
    [job] = listed(objects, "batch", "v1", "jobs", "w2")
    assert [c["type"] for c in job["status"]["conditions"]] == ["Failed"]
    core = CoreV1Api(kube_client)
    [pod] = core.list_namespaced_pod("default", label_selector="kratix.io/resource-name=w2").items
    assert pod.status is not None and pod.status.phase == "Failed"
    exits = {
        s.name: s.state.terminated.exit_code
        for s in pod.status.init_container_statuses or []
        if s.state is not None and s.state.terminated is not None
    }
    assert exits == {"reader": 0, "make-widget": 3}
    assert "cannot make the widget\n" in pod_log(kube_client, "w2", "make-widget")
    assert listed(objects, "platform.kratix.io", "v1alpha1", "works", "w2") == []


def _failed(objects: CustomObjectsApi, name: str) -> bool:
    return conditions(read(objects, name)).get("ConfigureWorkflowCompleted") == (
        "False",
        "ConfigureWorkflowFailed",
    )


@pytest.mark.usefixtures("kratix")
def test_suspend_holds_the_workflow_until_the_label_is_removed(objects: CustomObjectsApi) -> None:
    make(objects, "w3", "suspend")

    def suspended() -> dict[str, Any] | None:
        request = read(objects, "w3")
        phases = ((request.get("status") or {}).get("kratix") or {}).get("workflows", {}).get("pipelines", [])
        return request if phases and phases[0]["phase"] == "Suspended" else None

    request = wait_for(suspended)
    assert request["metadata"]["labels"]["kratix.io/workflow-suspended"] == "true"
    assert conditions(request)["Reconciled"] == ("Unknown", "WorkflowSuspended")
    entry = request["status"]["kratix"]["workflows"]["pipelines"][0]
    assert entry["message"] == "awaiting approval" and "nextRetryAt" not in entry
    assert request["status"]["message"] == "widget made on attempt 1"  # status.yaml is merged when suspending
    assert "ConfigureWorkflowCompleted" not in {k for k, v in conditions(request).items() if v[0] == "True"}

    objects.patch_namespaced_custom_object(
        *WIDGETS[:2],
        "default",
        WIDGETS[2],
        "w3",
        {"metadata": {"labels": {"kratix.io/workflow-suspended": None}}},
    )
    wait_for(lambda: reconciled(objects, "w3"))
    assert read(objects, "w3")["status"]["message"] == "widget made on attempt 2"


@pytest.mark.usefixtures("kratix")
def test_retry_after_runs_the_pipeline_again_once_the_time_is_up(
    objects: CustomObjectsApi, kube: KubeApiServer
) -> None:
    make(objects, "w4", "retry")
    wait_for(lambda: reconciled(objects, "w4"))
    final = read(objects, "w4")
    assert final["status"]["message"] == "widget made on attempt 2"
    assert "kratix.io/workflow-suspended" not in (final["metadata"].get("labels") or {})
    waits = [
        entry
        for status in statuses(kube, WIDGETS, "w4")
        for entry in (status.get("kratix") or {}).get("workflows", {}).get("pipelines", [])
        if entry.get("phase") == "Suspended"
    ]
    assert waits and waits[0]["message"] == "db not ready" and waits[0]["attempts"] == 1
    assert waits[0]["nextRetryAt"] >= waits[0]["lastTransitionTime"]


@pytest.mark.usefixtures("kratix")
def test_a_pipeline_that_outlives_its_timeout_is_killed_and_fails(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient
) -> None:
    make(objects, "w5", "sleep")
    wait_for(lambda: _failed(objects, "w5"))
    assert "did not finish within 3s and was killed" in pod_log(kube_client, "w5", "status-writer")


@pytest.mark.usefixtures("kratix")
def test_a_status_file_kratix_cannot_read_fails_the_pipeline(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient
) -> None:
    make(objects, "w9", "bad-status")
    wait_for(lambda: _failed(objects, "w9"))
    assert "status.yaml is not a mapping" in pod_log(kube_client, "w9", "status-writer")
    assert listed(objects, "platform.kratix.io", "v1alpha1", "works", "w9") == []


@pytest.mark.parametrize(("mode", "gone"), [("ok", True), ("fail-delete", False)])
@pytest.mark.usefixtures("kratix")
def test_the_delete_pipeline_runs_with_the_delete_action(
    objects: CustomObjectsApi, kube_client: kubernetes.client.ApiClient, mode: str, gone: bool
) -> None:
    make(objects, "w6", mode)
    wait_for(lambda: reconciled(objects, "w6") or _failed(objects, "w6"))
    objects.delete_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w6")
    if gone:
        wait_for(
            lambda: (
                not json_object(objects.list_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2]))[
                    "items"
                ]
            )
        )
        assert listed(objects, "platform.kratix.io", "v1alpha1", "works", "w6") == []
        return
    wait_for(
        lambda: (
            conditions(read(objects, "w6")).get("DeleteWorkflowCompleted")
            == ("False", "DeleteWorkflowFailed")
        )
    )
    delete_jobs = [
        job
        for job in listed(objects, "batch", "v1", "jobs", "w6")
        if job["metadata"]["labels"]["kratix.io/workflow-action"] == "delete"
    ]
    assert [c["type"] for job in delete_jobs for c in job["status"]["conditions"]] == ["Failed"]
    assert "unmaking the widget\n" in pod_log(kube_client, "w6", "unmake-widget", action="delete")


def test_without_its_interpreter_the_simulator_simulates_the_pipeline(
    kube_client: kubernetes.client.ApiClient, objects: CustomObjectsApi, pipelines_dir: Path
) -> None:
    with KratixSimulator(
        kube_client,
        timings=TIMINGS,
        pipelines_python=pipelines_dir / "no-such-python",
        pipelines_dir=pipelines_dir,
    ) as simulator:
        assert not simulator.runs_pipelines
        objects.create_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", widget_promise())
        make(objects, "w7", "fail")  # the program would fail: it does not run
        wait_for(lambda: reconciled(objects, "w7"))
        assert not (pipelines_dir / "widget" / "attempts-w7").exists()
    assert simulator.errors == []


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("1m30s", 90.0), ("250ms", 0.25), ("1h", 3600.0), ("1.5s", 1.5)]
)
def test_retry_after_is_read_as_a_go_duration(text: str, seconds: float) -> None:
    assert go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "soon", "5 m", "-1s"])
def test_what_is_not_a_go_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        go_duration(text)


def test_only_the_projects_images_map_to_local_programs(pipelines_dir: Path) -> None:
    assert local_program("ghcr.io/port-bridge/widget-pipeline:v1", pipelines_dir) == (
        pipelines_dir / "widget" / "pipeline.py"
    )
    assert local_program("ghcr.io/port-bridge/gadget-pipeline:v1", pipelines_dir) is None  # no such directory
    assert local_program("ghcr.io/syntasso/widget-pipeline:v1", pipelines_dir) is None
    assert PROJECT_IMAGE.match("ghcr.io/port-bridge/../etc-pipeline") is None
