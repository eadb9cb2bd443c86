"""The Helm chart's own files, checked without Helm: values, schema, README, the shipped copies.

These run everywhere (the chart's rendering and installing need .venv-helm: test_helm_chart.py).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml

import port_bridge
from tests.deploy.test_manifests import REPO, mapped_request_kinds

CHART = REPO / "deploy" / "helm" / "port-bridge"


def _values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    return values


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    return schema


def _leaves(values: dict[str, Any], prefix: str = "") -> list[str]:
    """Every value's dotted path: maps are walked, lists, empty maps and resources are values."""
    return [
        path
        for key, value in values.items()
        for path in (
            _leaves(value, f"{prefix}{key}.")
            if isinstance(value, dict) and value and key != "resources"
            else [f"{prefix}{key}"]
        )
    ]


def _load_sync() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "port_bridge_helm_sync", REPO / "deploy" / "helm" / "sync.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_chart_ships_the_repositorys_configuration_and_crd() -> None:
    assert _load_sync().differences() == [], "run: python3 deploy/helm/sync.py"


def test_the_sync_notices_a_stale_copy(tmp_path: Path) -> None:
    sync = _load_sync()
    repo = tmp_path / "repo"
    (repo / "actions").mkdir(parents=True)
    (repo / "deploy" / "crds").mkdir(parents=True)
    (repo / "deploy" / "crds" / sync.CRD).write_text("kind: CustomResourceDefinition\n")
    (repo / "actions" / "create-x.yaml").write_text("action: {}\n")
    chart = tmp_path / "chart"
    sync.write(repo, chart)
    assert sync.differences(repo, chart) == []
    (repo / "actions" / "create-x.yaml").write_text("action: {identifier: x}\n")
    (chart / "files" / "actions" / "old.yaml").write_text("{}")
    assert sync.differences(repo, chart) == [
        "files/actions/create-x.yaml: differs",
        "files/actions/old.yaml: not in the repository",
    ]


def test_the_chart_and_the_image_are_this_release() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["version"] == chart["appVersion"] == port_bridge.__version__


def test_the_default_rbac_covers_exactly_the_promises_the_actions_map_to(shared_dir: Path) -> None:
    kinds = {(kind["group"], kind["resource"]) for kind in _values()["rbac"]["requestKinds"]}
    assert kinds == mapped_request_kinds(shared_dir)


def test_the_values_meet_their_schema() -> None:
    schema = _schema()
    jsonschema.Draft7Validator.check_schema(schema)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(_values())) == []


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"image": {"tagg": "1"}}, "image"),
        ({"intake": {"replicas": 0}}, "intake.replicas"),
        ({"settings": {"logLevel": "verbose"}}, "settings.logLevel"),
        ({"settings": {"retention": "a week"}}, "settings.retention"),
        ({"image": {"digest": "latest"}}, "image.digest"),
        ({"config": {"files": {"actions/sub/x.yaml": ""}}}, "config.files"),
        ({"rbac": {"requestKinds": [{"group": "x.io", "resource": "xs"}]}}, "rbac.requestKinds.0"),
        ({"ingress": {"host": "https://bridge.example.com"}}, "ingress.host"),
    ],
)
def test_the_schema_refuses_mistakes_where_they_are(values: dict[str, Any], where: str) -> None:
    def merged(base: Any, override: Any) -> Any:
        if isinstance(base, dict) and isinstance(override, dict):
            return {**base, **{key: merged(base.get(key), value) for key, value in override.items()}}
        return override

    errors = list(jsonschema.Draft7Validator(_schema()).iter_errors(merged(_values(), values)))
    assert [".".join(str(p) for p in error.absolute_path) for error in errors] == [where]


def test_the_readme_describes_every_value() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert set(_leaves(_values())) == documented, "one row per value, and none the chart does not have"
