"""Lint, install and validate the Helm chart with Helm's own library, for test_helm_chart.py.

helm-sdkpy embeds Helm's Go library and needs Python 3.12 or newer, while port-bridge and its
suite run on 3.11, so this script runs in a venv of its own (``make helm-venv``: .venv-helm) and
the suite calls it as a subprocess: one JSON request on stdin, one JSON answer on stdout. The
suite keeps the Kubernetes emulator, the reading back and every judgement; this script only does
what needs the 3.12 libraries:

* ``lint``: ``helm lint`` of the chart with the request's values over its own (helm-sdkpy's lint
  takes no values, so it lints a copy whose values.yaml holds the merged values);
* ``install``: ``helm install`` into the cluster of ``kubeconfig`` (the suite's emulator), with
  Helm's release records kept in memory (``HELM_DRIVER=memory``: Helm writes them as protobuf,
  which the emulator does not speak); answers the rendered manifest, or Helm's error;
* ``validate``: every object of the manifest (and the chart's CRDs) against Kubernetes' own
  schemas for each version asked (kubernetes-validate, strict: unknown fields are errors), and
  ServiceMonitors and PodMonitors against the Prometheus Operator's models;
* ``workflow``: a GitHub Actions workflow against GitHub's workflow schema (check-jsonschema).
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import helm_sdkpy
import kubernetes_validate
import yaml

SEVERITIES = {0: "unknown", 1: "info", 2: "warning", 3: "error"}
OPERATOR_KINDS = ("ServiceMonitor", "PodMonitor")


def merged(base: Any, override: Any) -> Any:
    """``override`` over ``base`` as Helm coalesces values: maps merge, everything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = copy.deepcopy(base)
        for key, value in override.items():
            result[key] = merged(base.get(key), value)
        return result
    return copy.deepcopy(override)


def lint(request: dict[str, Any]) -> dict[str, Any]:
    chart = Path(request["chart"])
    with tempfile.TemporaryDirectory() as scratch:
        copied = Path(scratch) / chart.name
        shutil.copytree(chart, copied)
        values = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")) or {}
        (copied / "values.yaml").write_text(yaml.safe_dump(merged(values, request.get("values") or {})))
        result = asyncio.run(helm_sdkpy.Lint(helm_sdkpy.Configuration()).run(str(copied)))
    # helm-sdkpy serialises each message's Go error as {}: only the severity and the file remain.
    messages = [
        {"severity": SEVERITIES.get(m.get("Severity"), str(m.get("Severity"))), "path": m.get("Path")}
        for m in result.get("Messages") or []
    ]
    return {"charts": result.get("TotalChartsLinted"), "messages": messages}


def install(request: dict[str, Any]) -> dict[str, Any]:
    config = helm_sdkpy.Configuration(namespace=request["namespace"], kubeconfig=request["kubeconfig"])
    try:
        release = asyncio.run(
            helm_sdkpy.Install(config).run(
                request["release"],
                request["chart"],
                values=request.get("values") or None,
                wait=False,
                timeout=60,
            )
        )
    except helm_sdkpy.HelmError as error:
        return {"error": str(error)}
    info = release["info"]
    return {
        "manifest": release["manifest"],
        "status": info["status"],
        "notes": info.get("notes"),
        "error": None,
    }


def _problems(obj: dict[str, Any], versions: list[str]) -> list[str]:
    kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
    if kind in OPERATOR_KINDS:
        # Imported only here: building the operator's models takes seconds.
        from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

        model = getattr(prometheus_operator, kind)
        try:
            parsed = model.model_validate(obj)
        except ValueError as error:
            return [f"{kind}/{name}: {error}"]
        # The models ignore fields they do not know: what they drop was not a field.
        kept = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return [f"{kind}/{name}: unknown fields: {_dropped(obj, kept)}"] if kept != obj else []
    problems = []
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            problems.append(f"{kind}/{name} (Kubernetes {version}): {error}")
    return problems


def _dropped(original: Any, kept: Any, path: str = "") -> list[str]:
    if isinstance(original, dict) and isinstance(kept, dict):
        return [
            found
            for key, value in original.items()
            for found in (
                [f"{path}.{key}"] if key not in kept else _dropped(value, kept[key], f"{path}.{key}")
            )
        ]
    if isinstance(original, list) and isinstance(kept, list):
        return [
            found
            for i, pair in enumerate(zip(original, kept, strict=False))
            for found in _dropped(*pair, f"{path}[{i}]")
        ]
    return [] if original == kept else [path]


def validate(request: dict[str, Any]) -> dict[str, Any]:
    objects = [doc for doc in yaml.safe_load_all(request["manifest"]) if doc]
    for path in sorted(Path(request["chart"], "crds").glob("*.yaml")):
        objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    versions = request["kubernetes"]
    problems = [problem for obj in objects for problem in _problems(obj, versions)]
    return {"validated": [f"{o['kind']}/{o['metadata']['name']}" for o in objects], "problems": problems}


def workflow(request: dict[str, Any]) -> dict[str, Any]:
    checker = Path(sys.executable).parent / "check-jsonschema"
    checked = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", request["path"]],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return {"ok": checked.returncode == 0, "output": checked.stdout + checked.stderr}


COMMANDS = {"lint": lint, "install": install, "validate": validate, "workflow": workflow}


def main() -> int:
    request = json.load(sys.stdin)
    json.dump({"helm": helm_sdkpy.get_version(), **COMMANDS[request["command"]](request)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
