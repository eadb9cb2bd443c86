"""``kubectl get`` against the emulator shows a CRD's printer columns, as against an API server.

The oracle is the CRD file itself, its columns' plain field paths walked here, and kubectl when it
is installed (what it prints is what a user of the sandbox sees)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.tables import _age

REPO = Path(__file__).resolve().parents[3]
CRD = REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml"
KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json"
)
RUNS = "/apis/port-bridge.io/v1alpha1/namespaces/port-bridge/actionruns"


def _action_run(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "port-bridge.io/v1alpha1",
        "kind": "ActionRun",
        "metadata": {"name": name, "namespace": "port-bridge"},
        "spec": {
            "runId": f"r_{name}",
            "action": "create-redis",
            "blueprint": "redis",
            "operation": "CREATE",
            "inputs": {},
            "requests": [],
            "receivedAt": "2026-12-01T00:00:00Z",
        },
    }


def _field(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.strip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@pytest.fixture
def runs(kube: KubeApiServer) -> KubeApiServer:
    kube.apply_file(CRD)
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "port-bridge"}})
    kube.apply(_action_run("first"))
    kube.apply(_action_run("second"))
    return kube


def test_a_list_asked_for_as_a_table_has_the_crd_printer_columns(runs: KubeApiServer) -> None:
    declared = yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["additionalPrinterColumns"]
    answer = requests.get(runs.url + RUNS, headers={"Accept": KUBECTL_ACCEPT}, timeout=5)
    table = answer.json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [column["name"] for column in table["columnDefinitions"]] == ["Name"] + [
        column["name"] for column in declared
    ]
    stored = requests.get(runs.url + RUNS, timeout=5).json()["items"]
    assert [row["cells"][0] for row in table["rows"]] == [obj["metadata"]["name"] for obj in stored]
    for row, obj in zip(table["rows"], stored, strict=True):
        for cell, column in zip(row["cells"][1:], declared, strict=True):
            if column["type"] == "date":
                assert cell.endswith("s") or cell[-1] in "mhdy"
            else:
                assert cell == _field(obj, column["jsonPath"])
        assert row["object"]["kind"] == "PartialObjectMetadata"
        assert row["object"]["metadata"]["uid"] == obj["metadata"]["uid"]


def test_one_object_as_a_table_and_plain_json_is_unchanged(runs: KubeApiServer) -> None:
    table = requests.get(runs.url + RUNS + "/first", headers={"Accept": KUBECTL_ACCEPT}, timeout=5).json()
    assert [row["cells"][:3] for row in table["rows"]] == [["first", "r_first", "create-redis"]]
    plain = requests.get(runs.url + RUNS + "/first", headers={"Accept": "application/json"}, timeout=5)
    assert plain.json()["kind"] == "ActionRun"


def test_a_crd_without_printer_columns_shows_created_at(kube: KubeApiServer) -> None:
    table = requests.get(
        kube.url + "/api/v1/namespaces", headers={"Accept": KUBECTL_ACCEPT}, timeout=5
    ).json()
    assert [column["name"] for column in table["columnDefinitions"]] == ["Name", "Created At"]
    assert "default" in [row["cells"][0] for row in table["rows"]]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (9 * 3600, "9h"),
        (50 * 3600, "2d2h"),
        (10 * 86400, "10d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_ages_read_as_kubectl_prints_them(seconds: int, shown: str) -> None:
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    then = (now - datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _age(then, now) == shown


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: the Table itself is tested above")
def test_kubectl_get_prints_the_printer_columns(runs: KubeApiServer, tmp_path: Path) -> None:
    assert KUBECTL is not None
    kubeconfig = runs.write_kubeconfig(tmp_path / "kubeconfig", namespace="port-bridge")
    printed = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "get", "actionruns"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    header, *rows = printed.splitlines()
    assert header.split() == ["NAME", "RUN", "ACTION", "REQUEST", "PHASE", "AGE"]
    assert [row.split()[:3] for row in rows] == [
        ["first", "r_first", "create-redis"],
        ["second", "r_second", "create-redis"],
    ]
