"""The chart's values for the catalog sync, the pipeline logs and the run pages' token.

Installed with Helm's own library into the Kubernetes emulator (test_helm_chart.py's ``install``),
read back as the pods would see their environment and parsed by ``Settings``: each value is
judged by the code that reads it, and the variables are named by the settings (``env_name``), not
by a second list here. The rendered environment then goes through the product's own start-up
checks (``check_configuration``, what ``port-bridge serve`` and ``controller`` run first), and a
controller given the settings it makes runs a request to its end.

Without .venv-helm these tests skip with one line, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from port_bridge.settings import MAX_PIPELINE_LOG_BYTES, MAX_PIPELINE_LOG_LINES, env_name
from tests.conftest import MakeBridge
from tests.deploy.conftest import drive
from tests.deploy.test_helm_chart import CHART, Install, cluster, install
from tests.deploy.test_manifests import (
    REPO,
    Workload,
    controller_permissions,
    intake_permissions,
    of_kind,
    permissions,
    settings_from,
    workloads,
)

# The chart's values under `controller.` and the setting each one sets.
CONTROLLER_VALUES = {
    "catalog.sync": "catalog_sync",
    "catalog.resyncSeconds": "catalog_resync_seconds",
    "catalog.deleteThreshold": "catalog_delete_threshold",
    "catalog.deleteFloor": "catalog_delete_floor",
    "pipelineLogs.maxLines": "pipeline_log_max_lines",
    "pipelineLogs.maxBytes": "pipeline_log_max_bytes",
    "pipelineLogs.pollSeconds": "pipeline_log_poll_seconds",
}
FIELDS = sorted(CONTROLLER_VALUES.values())
RUNS_TOKEN = {"existingSecret": "port-bridge-runs-token", "key": "bearer"}


def _controller(values: dict[str, Any]) -> dict[str, Any]:
    """``{"catalog.sync": False, ...}`` as the nested values Helm takes."""
    nested: dict[str, Any] = {}
    for path, value in values.items():
        group, key = path.split(".")
        nested.setdefault(group, {})[key] = value
    return nested


# Every value away from its default, strings where a value may be a string; pipeline logs off.
CHANGED: dict[str, Any] = {
    "catalog.sync": False,
    "catalog.resyncSeconds": "1h30m",
    "catalog.deleteThreshold": "12.5%",
    "catalog.deleteFloor": 20,
    "pipelineLogs.maxLines": 0,
    "pipelineLogs.maxBytes": MAX_PIPELINE_LOG_BYTES,
    "pipelineLogs.pollSeconds": 0.5,
}
CHANGED_SETTINGS = {
    "catalog_sync": False,
    "catalog_resync_seconds": 5400.0,
    "catalog_delete_threshold": 0.125,
    "catalog_delete_floor": 20,
    "pipeline_log_max_lines": 0,
    "pipeline_log_max_bytes": MAX_PIPELINE_LOG_BYTES,
    "pipeline_log_poll_seconds": 0.5,
}
# The other forms: numbers where CHANGED has strings (a million and more, which Helm's floats print
# as 2e+06 unless the chart says otherwise), and the other bounds.
OTHER: dict[str, Any] = {
    "catalog.resyncSeconds": 2_000_000,
    "catalog.deleteThreshold": 0.25,
    "catalog.deleteFloor": 0,
    "pipelineLogs.maxLines": MAX_PIPELINE_LOG_LINES,
    "pipelineLogs.maxBytes": 1,
    "pipelineLogs.pollSeconds": 15,
}
OTHER_SETTINGS = {
    "catalog_sync": True,
    "catalog_resync_seconds": 2_000_000.0,
    "catalog_delete_threshold": 0.25,
    "catalog_delete_floor": 0,
    "pipeline_log_max_lines": MAX_PIPELINE_LOG_LINES,
    "pipeline_log_max_bytes": 1,
    "pipeline_log_poll_seconds": 15.0,
}
VALUES: dict[str, dict[str, Any]] = {"changed": CHANGED, "other": OTHER}
INSTALLS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "changed": (
        {"controller": _controller(CHANGED), "intake": {"runPages": {"token": RUNS_TOKEN}}},
        CHANGED_SETTINGS,
    ),
    "other": ({"controller": _controller(OTHER)}, OTHER_SETTINGS),
}


@pytest.fixture(scope="module")
def installs(helm_python: Path) -> dict[str, Install]:
    found = {"default": install(helm_python, release="port-bridge", namespace="port-bridge", values={})}
    for name, (values, _) in INSTALLS.items():
        found[name] = install(helm_python, release="port-bridge", namespace="port-bridge", values=values)
    return found


def _workload(installed: Install, command: str) -> Workload:
    [found] = [w for w in workloads(installed.stored) if w.command == command]
    return found


def _default_request_kinds() -> set[tuple[str, str]]:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    return {(kind["group"], kind["resource"]) for kind in values["rbac"]["requestKinds"]}


# --- the environment ------------------------------------------------------------------------------


def test_the_defaults_give_the_codes_own_defaults(
    installs: dict[str, Install], monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, intake = _workload(installs["default"], "controller"), _workload(installs["default"], "serve")
    env = controller.env()
    assert {env_name(field) for field in FIELDS} <= env.keys(), "the chart states each setting"
    rendered = settings_from(env, monkeypatch)
    own = settings_from({}, monkeypatch)
    assert rendered.model_dump(include=set(FIELDS)) == own.model_dump(include=set(FIELDS))
    assert env_name("runs_token") not in intake.env()
    assert settings_from(intake.env(), monkeypatch).runs_token is None


@pytest.mark.parametrize("name", sorted(INSTALLS))
def test_each_value_reaches_its_variable(
    installs: dict[str, Install], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, wanted = INSTALLS[name]
    env = _workload(installs[name], "controller").env()
    assert {env_name(field) for field in FIELDS} <= env.keys()
    settings = settings_from(env, monkeypatch)
    assert settings.model_dump(include=set(FIELDS)) == wanted
    default = settings_from(_workload(installs["default"], "controller").env(), monkeypatch)
    given = [CONTROLLER_VALUES[path] for path in VALUES[name]]
    assert all(getattr(default, field) != wanted[field] for field in given), "each given value is new"


def test_the_run_pages_token_comes_from_the_named_secret(
    installs: dict[str, Install], monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = installs["changed"]
    variable = env_name("runs_token")
    [entry] = [v for v in _workload(changed, "serve").container["env"] if v["name"] == variable]
    assert entry == {
        "name": variable,
        "valueFrom": {"secretKeyRef": {"name": RUNS_TOKEN["existingSecret"], "key": RUNS_TOKEN["key"]}},
    }
    token = settings_from(_workload(changed, "serve").env(), monkeypatch).runs_token
    assert token is not None and token.get_secret_value() == f"<{RUNS_TOKEN['key']}>"
    assert variable not in _workload(changed, "controller").env(), "only intake serves the pages"
    assert of_kind(changed.stored, "Secret") == [], "the chart writes no Secret of its own for it"
    assert f"the Secret {RUNS_TOKEN['existingSecret']} (key {RUNS_TOKEN['key']})" in " ".join(
        changed.notes.split()
    ), "the notes say which Secret intake waits for"
    assert RUNS_TOKEN["existingSecret"] not in installs["default"].notes


# --- RBAC -------------------------------------------------------------------------------------------


def test_pipeline_logs_off_drop_the_pods_grants_and_nothing_else(installs: dict[str, Install]) -> None:
    kinds = _default_request_kinds()
    pods = {("*", "", "pods", verb, "*") for verb in ("get", "list", "watch")} | {
        ("*", "", "pods/log", "get", "*")
    }
    for name, installed in installs.items():
        controller, intake = _workload(installed, "controller"), _workload(installed, "serve")
        lease = controller.env()[env_name("lease_name")]
        granted = permissions(installed.stored, controller.namespace, controller.pod["serviceAccountName"])
        expected = controller_permissions(controller.namespace, lease, kinds)
        assert pods <= expected
        if name == "changed":  # pipelineLogs.maxLines: 0
            expected -= pods
        assert granted == expected, name
        assert permissions(
            installed.stored, intake.namespace, intake.pod["serviceAccountName"]
        ) == intake_permissions(intake.namespace)


# --- what Helm refuses --------------------------------------------------------------------------------


def test_helm_refuses_values_out_of_the_settings_range(helm_python: Path) -> None:
    refusals: dict[str, dict[str, Any]] = {
        "/controller/pipelineLogs/maxLines": {"controller": {"pipelineLogs": {"maxLines": -1}}},
        "/controller/pipelineLogs/maxBytes": {
            "controller": {"pipelineLogs": {"maxBytes": MAX_PIPELINE_LOG_BYTES + 1}}
        },
        "/controller/pipelineLogs/pollSeconds": {"controller": {"pipelineLogs": {"pollSeconds": 0}}},
        "/controller/catalog/deleteThreshold": {"controller": {"catalog": {"deleteThreshold": "x"}}},
        "/controller/catalog/resyncSeconds": {"controller": {"catalog": {"resyncSeconds": "0s"}}},
        "/controller/catalog/deleteFloor": {"controller": {"catalog": {"deleteFloor": -1}}},
        "/intake/runPages/token": {"intake": {"runPages": {"token": "s3cr3t"}}},
    }
    with tempfile.TemporaryDirectory() as scratch, cluster("port-bridge") as server:
        kubeconfig = str(server.write_kubeconfig(Path(scratch) / "kubeconfig"))
        for expected, values in refusals.items():
            answer = drive(
                helm_python,
                {
                    "command": "install",
                    "chart": str(CHART),
                    "release": "port-bridge",
                    "namespace": "port-bridge",
                    "kubeconfig": kubeconfig,
                    "values": values,
                },
            )
            assert answer["error"] is not None and expected in answer["error"], (values, answer["error"])
            assert "s3cr3t" not in answer["error"]
        assert server.call(lambda: server.emulator.requests_served["POST", "deployments"]) == 0


# --- through the product -------------------------------------------------------------------------------

CHECK = """
import json, sys
from port_bridge.runners import check_configuration
from port_bridge.settings import ConfigurationError
try:
    checked = check_configuration(binds=())
except ConfigurationError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
print(checked.settings.model_dump_json())
"""


def _start_up_check(env: dict[str, str], kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    """The product's start-up checks on exactly this environment (the pod's files from the
    repository, which the chart ships as they are: test_helm_chart.py compares them)."""
    pod_env = {**env, "PORT_BRIDGE_CONFIG_DIR": str(REPO), "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        [sys.executable, "-c", CHECK],
        env={"PATH": os.environ.get("PATH", ""), **pod_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(INSTALLS))
def test_the_rendered_environment_passes_the_products_start_up_checks(
    installs: dict[str, Install], name: str
) -> None:
    _, wanted = INSTALLS[name]
    with tempfile.TemporaryDirectory() as scratch, cluster("port-bridge") as server:
        kubeconfig = server.write_kubeconfig(Path(scratch) / "kubeconfig")
        for workload in workloads(installs[name].stored):
            checked = _start_up_check(workload.env(), kubeconfig)
            assert checked.returncode == 0, checked.stderr
            settings = json.loads(checked.stdout)
            if workload.command == "controller":
                assert {field: settings[field] for field in FIELDS} == wanted
            else:
                assert (settings["runs_token"] is not None) == (name == "changed")
        # The same check refuses what the schema refuses, naming the variable.
        variable = env_name("pipeline_log_max_lines")
        broken = {**_workload(installs[name], "controller").env(), variable: "-1"}
        refused = _start_up_check(broken, kubeconfig)
    assert refused.returncode == 2 and variable in refused.stderr, refused.stderr


@pytest.mark.parametrize(("name", "reads_pods"), [("default", True), ("changed", False)])
def test_a_controller_with_the_rendered_settings_reads_pods_only_if_pipeline_logs_are_on(
    installs: dict[str, Install],
    name: str,
    reads_pods: bool,
    make_bridge: MakeBridge,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What makes dropping the grants safe: with maxLines 0 the controller never asks for Pods."""
    rendered = settings_from(_workload(installs[name], "controller").env(), monkeypatch)
    bridge = make_bridge(**rendered.model_dump(include=set(FIELDS)))
    run = bridge.run_to_end("create-postgresql", {"name": "orders", "env": "dev"})
    assert run.status == "SUCCESS"
    served = bridge.kube.call(lambda: dict(bridge.kube.emulator.requests_served))
    # GETs only: the Kratix simulator creates and updates its pipeline Pods, and reads none (as the
    # run with maxLines 0 shows), so every GET is the controller's (pods and pods/log alike).
    pod_calls = {method: count for (method, plural), count in served.items() if plural == "pods"}
    assert pod_calls.get("POST"), "the run had pipeline Pods to read"
    assert bool(pod_calls.get("GET")) == reads_pods, pod_calls
