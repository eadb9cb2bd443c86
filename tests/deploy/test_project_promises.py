"""The project's own Promises (deploy/kratix/promises) offer the same request APIs as Kratix's
released marketplace Promises, so a platform that installs the marketplace ones gets the same
actions, and a request written for one is accepted by the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from port_bridge_sandbox.kube.crds import load_manifests

REPO = Path(__file__).resolve().parents[2]
MARKETPLACE = ("postgresql", "redis", "namespace")


def _own(name: str) -> dict[str, Any]:
    return next(load_manifests(REPO / "deploy" / "kratix" / "promises" / f"{name}.yaml"))


def _without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_descriptions(value) for key, value in node.items() if key != "description"}
    if isinstance(node, list):
        return [_without_descriptions(item) for item in node]
    return node


@pytest.mark.parametrize("name", MARKETPLACE)
def test_the_request_api_is_the_released_one_but_for_its_words(
    name: str, marketplace_promises: dict[str, dict[str, Any]]
) -> None:
    own, released = _own(name)["spec"]["api"], marketplace_promises[name]["spec"]["api"]
    assert own["spec"]["group"] == released["spec"]["group"]
    assert own["spec"]["names"] == released["spec"]["names"]
    assert own["spec"]["scope"] == released["spec"]["scope"]
    assert [version["name"] for version in own["spec"]["versions"]] == [
        version["name"] for version in released["spec"]["versions"]
    ]
    for mine, theirs in zip(own["spec"]["versions"], released["spec"]["versions"], strict=True):
        assert _without_descriptions(mine["schema"]) == _without_descriptions(theirs["schema"])


@pytest.mark.parametrize("name", MARKETPLACE)
def test_kratixs_sample_request_is_a_valid_request_for_the_own_promise(name: str, shared_dir: Path) -> None:
    sample = yaml.safe_load((shared_dir / "kratix" / "requests" / f"{name}.yaml").read_text())
    api = _own(name)["spec"]["api"]["spec"]
    assert sample["apiVersion"].split("/")[0] == api["group"]
    assert sample["kind"] == api["names"]["kind"]
    version = next(v for v in api["versions"] if sample["apiVersion"].endswith("/" + v["name"]))
    jsonschema.validate(sample, version["schema"]["openAPIV3Schema"])


@pytest.mark.parametrize("name", MARKETPLACE)
def test_the_own_promise_runs_a_pipeline_of_the_projects_own(name: str) -> None:
    workflows = _own(name)["spec"]["workflows"]["resource"]["configure"]
    images = [container["image"] for pipeline in workflows for container in pipeline["spec"]["containers"]]
    assert images and all(image.startswith("ghcr.io/port-bridge/") for image in images)
