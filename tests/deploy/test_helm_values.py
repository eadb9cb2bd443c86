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
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import port_bridge
from port_bridge.settings import MAX_PIPELINE_LOG_BYTES, MAX_PIPELINE_LOG_LINES, Settings
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
        ({"settings": {"retention": "1.5h"}}, "settings.retention"),
        ({"settings": {"retention": "0s"}}, "settings.retention"),
        ({"image": {"digest": "latest"}}, "image.digest"),
        ({"config": {"files": {"actions/sub/x.yaml": ""}}}, "config.files"),
        ({"rbac": {"requestKinds": [{"group": "x.io", "resource": "xs"}]}}, "rbac.requestKinds.0"),
        ({"ingress": {"host": "https://bridge.example.com"}}, "ingress.host"),
        ({"controller": {"pipelineLogs": {"maxLines": -1}}}, "controller.pipelineLogs.maxLines"),
        ({"controller": {"pipelineLogs": {"maxLines": 10001}}}, "controller.pipelineLogs.maxLines"),
        ({"controller": {"pipelineLogs": {"maxBytes": 0}}}, "controller.pipelineLogs.maxBytes"),
        ({"controller": {"pipelineLogs": {"maxBytes": 524289}}}, "controller.pipelineLogs.maxBytes"),
        ({"controller": {"pipelineLogs": {"pollSeconds": 0}}}, "controller.pipelineLogs.pollSeconds"),
        ({"controller": {"catalog": {"sync": "yes"}}}, "controller.catalog.sync"),
        ({"controller": {"catalog": {"resyncSeconds": "0s"}}}, "controller.catalog.resyncSeconds"),
        ({"controller": {"catalog": {"resyncSeconds": "ten minutes"}}}, "controller.catalog.resyncSeconds"),
        ({"controller": {"catalog": {"resyncSeconds": 0}}}, "controller.catalog.resyncSeconds"),
        ({"controller": {"catalog": {"deleteThreshold": "x"}}}, "controller.catalog.deleteThreshold"),
        ({"controller": {"catalog": {"deleteThreshold": "0%"}}}, "controller.catalog.deleteThreshold"),
        ({"controller": {"catalog": {"deleteThreshold": "101%"}}}, "controller.catalog.deleteThreshold"),
        ({"controller": {"catalog": {"deleteThreshold": 50}}}, "controller.catalog.deleteThreshold"),
        ({"controller": {"catalog": {"deleteFloor": -1}}}, "controller.catalog.deleteFloor"),
        ({"intake": {"runPages": {"token": "s3cr3t"}}}, "intake.runPages.token"),
        ({"intake": {"runPages": {"token": {"value": "s3cr3t"}}}}, "intake.runPages.token"),
        (
            {"intake": {"runPages": {"token": {"existingSecret": "t", "key": ""}}}},
            "intake.runPages.token.key",
        ),
    ],
)
def test_the_schema_refuses_mistakes_where_they_are(values: dict[str, Any], where: str) -> None:
    errors = list(jsonschema.Draft7Validator(_schema()).iter_errors(_merged(_values(), values)))
    assert [".".join(str(p) for p in error.absolute_path) for error in errors] == [where]


def _merged(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in override.items()}}
    return override


# Values for settings with ranges or formats, and the setting each one sets.
RANGED = {
    ("controller", "catalog", "resyncSeconds"): "catalog_resync_seconds",
    ("controller", "catalog", "deleteThreshold"): "catalog_delete_threshold",
    ("controller", "catalog", "deleteFloor"): "catalog_delete_floor",
    ("controller", "pipelineLogs", "maxLines"): "pipeline_log_max_lines",
    ("controller", "pipelineLogs", "maxBytes"): "pipeline_log_max_bytes",
    ("controller", "pipelineLogs", "pollSeconds"): "pipeline_log_poll_seconds",
    ("settings", "retention"): "retention_seconds",
}


def _schema_accepts(where: tuple[str, ...], value: Any) -> bool:
    override: Any = value
    for key in reversed(where):
        override = {key: override}
    values = _merged(_values(), override)
    return not list(jsonschema.Draft7Validator(_schema()).iter_errors(values))


def _settings_accept(field: str, value: Any) -> bool:
    """Whether the setting takes the value as the chart passes it on (a whole number as digits)."""
    if isinstance(value, float) and value.is_integer() and field != "catalog_delete_threshold":
        value = int(value)
    try:
        Settings.model_validate({field: value if isinstance(value, str) else str(value)})
    except ValidationError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    where=st.sampled_from(sorted(RANGED)),
    value=st.one_of(
        st.from_regex(r"\A[0-9]{0,3}(\.[0-9]{0,2})?[dhms%]?([0-9]{0,2}[dhms]){0,2}\Z"),
        st.integers(min_value=-5, max_value=600_000),
        st.sampled_from([MAX_PIPELINE_LOG_LINES + 1, MAX_PIPELINE_LOG_BYTES + 1, 1.5, 1.0, 1e-9, 10**12]),
        st.floats(min_value=-1, max_value=2e6, allow_nan=False),
        st.text(max_size=5),
    ),
)
def test_what_the_schema_accepts_the_settings_accept(where: tuple[str, ...], value: Any) -> None:
    """So `helm install` stops what would stop the pod at start (the settings may accept more)."""
    if _schema_accepts(where, value):
        assert _settings_accept(RANGED[where], value), (where, value)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("controller", "catalog", "resyncSeconds"), value)
        for value in (600, "600", "90s", "10m", "1h30m", "1d", "2d12h")
    ]
    + [
        (("controller", "catalog", "deleteThreshold"), value)
        for value in ("50%", "12.5%", "100%", 0.5, 1, "0.5", ".25")
    ]
    + [(("controller", "catalog", "deleteFloor"), value) for value in (0, 5)]
    + [(("controller", "pipelineLogs", "maxLines"), value) for value in (0, MAX_PIPELINE_LOG_LINES)]
    + [(("controller", "pipelineLogs", "maxBytes"), value) for value in (1, MAX_PIPELINE_LOG_BYTES)]
    + [(("controller", "pipelineLogs", "pollSeconds"), value) for value in (0.5, 2, 60)]
    + [(("settings", "retention"), value) for value in ("90s", "30m", "12h", "7d", "1d12h", "86400")],
)
def test_the_documented_forms_and_the_bounds_pass_both(where: tuple[str, ...], value: Any) -> None:
    assert _schema_accepts(where, value)
    assert _settings_accept(RANGED[where], value)


def test_the_readme_describes_every_value() -> None:
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert set(_leaves(_values())) == documented, "one row per value, and none the chart does not have"
