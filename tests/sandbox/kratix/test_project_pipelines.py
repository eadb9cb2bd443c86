"""The project's own pipelines, run by the simulator as Kratix would run them, leave in the cluster
exactly what they write under the contract.

The oracle is the pipeline itself: the test runs the same program on the same request in
.venv-pipelines (tests/deploy/test_pipelines.py) and compares the files it wrote with the
request's status, its Work and its Pod log as read through the Kubernetes API. Without
.venv-pipelines these tests skip with one line (CI=true fails instead).
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kubernetes.client import CoreV1Api, CustomObjectsApi

from port_bridge.kratix.promise import PromiseApi
from tests.conftest import StartKratix
from tests.deploy.test_pipelines import run_pipeline
from tests.kubeclient import json_object
from tests.sandbox.kratix.test_simulator import conditions
from tests.waiting import wait_for

REQUESTS = {
    "postgresql": {"env": "prod", "teamId": "orders", "dbName": "shop"},
    "redis": {"size": "large"},
    "namespace": {"namespaceName": "payments", "clusterName": "eu-west"},
    "service": {"language": "Python", "tier": "critical", "owner": "dev@example.com"},
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_project_pipeline_leaves_what_it_writes(
    name: str,
    pipelines_python: Path,
    tmp_path: Path,
    start_kratix: StartKratix,
    kube_client: kubernetes.client.ApiClient,
    promises: dict[str, dict[str, Any]],
) -> None:
    kratix = start_kratix(pipelines=True)
    assert kratix.runs_pipelines
    objects = CustomObjectsApi(kube_client)
    objects.create_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", promises[name])
    api = PromiseApi.from_promise(promises[name])
    body = {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": {"name": "example", "namespace": "default"},
        "spec": REQUESTS[name],
    }
    wait_for(lambda: _created(objects, api, body), what=f"the {api.plural} CRD to be served")

    def read() -> dict[str, Any]:
        return json_object(
            objects.get_namespaced_custom_object(api.group, api.version, "default", api.plural, "example")
        )

    wait_for(lambda: conditions(read()).get("Reconciled") == ("True", "Reconciled"), timeout=30)
    request = read()

    done, files = run_pipeline(pipelines_python, tmp_path, name, request)
    assert done.returncode == 0, done.stderr
    expected_status = yaml.safe_load((files / "metadata" / "status.yaml").read_text())
    assert {key: request["status"].get(key) for key in expected_status} == expected_status

    works = json_object(
        objects.list_namespaced_custom_object(
            "platform.kratix.io",
            "v1alpha1",
            "default",
            "works",
            label_selector="kratix.io/resource-name=example",
        )
    )["items"]
    [work] = works
    [group] = work["spec"]["workloadGroups"]
    kept = {
        item["filepath"]: gzip.decompress(base64.b64decode(item["content"])) for item in group["workloads"]
    }
    wrote = {
        path.relative_to(files / "output").as_posix(): path.read_bytes()
        for path in (files / "output").rglob("*")
        if path.is_file()
    }
    assert kept == wrote
    selectors = files / "metadata" / "destination-selectors.yaml"
    if selectors.exists():
        labels = [selector["matchLabels"] for selector in yaml.safe_load(selectors.read_text())]
        assert [selector["matchLabels"] for selector in group["destinationSelectors"]] == labels

    core = CoreV1Api(kube_client)
    [pod] = core.list_namespaced_pod("default", label_selector="kratix.io/resource-name=example").items
    assert pod.metadata is not None and pod.metadata.name is not None and pod.spec is not None
    [container] = [c.name for c in pod.spec.init_containers or [] if c.name not in ("reader", "work-writer")]
    logged = core.read_namespaced_pod_log(pod.metadata.name, "default", container=container)
    assert logged == done.stdout


def _created(objects: CustomObjectsApi, api: PromiseApi, body: dict[str, Any]) -> bool:
    try:
        objects.create_namespaced_custom_object(api.group, api.version, "default", api.plural, body)
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True
