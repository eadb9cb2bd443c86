"""Discovery as client-go reads it: kubectl and Helm map kinds to resources through it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.crds import ServedVersion

DEPLOYMENTS = ServedVersion(
    "apps",
    "v1",
    "deployments",
    "Deployment",
    "deployment",
    namespaced=True,
    status_subresource=False,
    schema=None,
)


def test_the_core_group_version_is_named_v1(kube: KubeApiServer) -> None:
    # client-go matches each resource list to its group by this name; "/v1" hid every core kind.
    answer = requests.get(f"{kube.url}/api/v1", timeout=10).json()
    assert answer["groupVersion"] == "v1"
    assert "configmaps" in {resource["name"] for resource in answer["resources"]}
    assert requests.get(f"{kube.url}/apis/batch/v1", timeout=10).json()["groupVersion"] == "batch/v1"


def test_a_kind_served_on_request_is_discovered_and_stored(kube: KubeApiServer) -> None:
    kube.call(kube.emulator.serve, DEPLOYMENTS)
    listed = requests.get(f"{kube.url}/apis/apps/v1", timeout=10).json()
    assert {resource["name"] for resource in listed["resources"]} == {"deployments"}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2},
    }
    created = requests.post(f"{kube.url}/apis/apps/v1/namespaces/default/deployments", json=body, timeout=10)
    assert created.status_code == 201
    stored = requests.get(f"{kube.url}/apis/apps/v1/namespaces/default/deployments/web", timeout=10).json()
    assert stored["spec"] == {"replicas": 2}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_finds_core_kinds(kube: KubeApiServer, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    done = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", "configmaps", "-n", "default", "-o", "name"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
