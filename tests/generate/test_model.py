"""generate(): a Promise in, a blueprint and action files the bridge and Port both take out."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jq
import pytest
from jsonschema import Draft202012Validator

from port_bridge.generate import GeneratedModel, GenerateError, generate, render_files
from port_bridge.generate.model import INPUT_ORDER_ANNOTATION
from port_bridge.mapping.actions import ActionConfig, load_action_file, load_actions
from port_bridge.mapping.render import render_request
from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.port import PortSpec
from tests.conftest import REPO


def promise(spec: dict[str, Any], *, status: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {"spec": spec}}
    if status is not None:
        schema["properties"]["status"] = status
    return {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Promise",
        "metadata": {"name": "cache", **metadata},
        "spec": {
            "api": {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "caches.example.org"},
                "spec": {
                    "group": "example.org",
                    "names": {"kind": "Cache", "plural": "caches", "singular": "cache"},
                    "scope": "Namespaced",
                    "versions": [
                        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
                    ],
                },
            }
        },
    }


CACHE = promise(
    {
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "string", "enum": ["small", "large"], "default": "small"},
            "replicas": {"type": "integer", "minimum": 1},
            "limits": {
                "type": "object",
                "properties": {"memory": {"type": "string"}, "port": {"x-kubernetes-int-or-string": True}},
            },
            "namespace": {"type": "string"},
        },
    },
    status={"type": "object", "properties": {"endpoint": {"type": "string"}, "message": {"type": "string"}}},
)


def action(model: GeneratedModel, operation: str) -> dict[str, Any]:
    return next(a.document for a in model.actions if a.operation == operation)


def readme_webhook_body() -> dict[str, Any]:
    section = (REPO / "README.md").read_text().split("## The webhook body", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return dict(json.loads(block.group(1)))


def test_three_actions_on_the_promises_blueprint_with_the_readmes_webhook_body() -> None:
    model = generate(CACHE)
    assert [(a.identifier, a.operation) for a in model.actions] == [
        ("create-cache", "CREATE"),
        ("update-cache", "DAY-2"),
        ("delete-cache", "DELETE"),
    ]
    assert model.blueprint["identifier"] == "cache" and model.blueprint["title"] == "Cache"
    for generated in model.actions:
        port_action = generated.document["action"]
        assert port_action["trigger"]["blueprintIdentifier"] == "cache"
        assert port_action["invocationMethod"]["body"] == readme_webhook_body()
        assert port_action["invocationMethod"]["synchronized"] is False


def test_the_webhook_is_the_one_the_shipped_actions_use() -> None:
    shipped = load_actions(REPO / "actions")["create-redis"].raw_action["invocationMethod"]
    generated = action(generate(CACHE), "CREATE")["action"]["invocationMethod"]
    assert generated == shipped


def test_create_asks_for_name_namespace_and_every_spec_field_and_rebuilds_the_spec() -> None:
    model = generate(CACHE, namespaces=["team-a", "team-b"])
    document = action(model, "CREATE")
    user_inputs = document["action"]["trigger"]["userInputs"]
    assert user_inputs["order"] == [
        "name",
        "namespace",
        "limits__memory",
        "limits__port",
        "spec__namespace",  # placed by its path, spec.namespace
        "replicas",
        "size",
    ]
    assert user_inputs["required"] == ["name", "size"]
    assert user_inputs["properties"]["namespace"]["enum"] == ["team-a", "team-b"]
    assert document["kratix"]["allowedNamespaces"] == ["team-a", "team-b"]
    config = model.action_configs()["create-cache"]
    run = {
        "inputs": {
            "name": "c1",
            "size": "large",
            "limits__memory": "1Gi",
            "spec__namespace": "x",
            "replicas": None,
        }
    }
    rendered = render_request(config, run)
    assert (rendered.namespace, rendered.name) == ("team-a", "c1")
    assert rendered.spec == {"size": "large", "limits": {"memory": "1Gi"}, "namespace": "x"}


def test_any_namespace_when_none_is_given() -> None:
    document = action(generate(CACHE, namespaces=None), "CREATE")
    namespace = document["action"]["trigger"]["userInputs"]["properties"]["namespace"]
    assert "enum" not in namespace and namespace["pattern"] and namespace["default"] == "default"
    assert "allowedNamespaces" not in document["kratix"]
    with pytest.raises(GenerateError, match="namespaces"):
        generate(CACHE, namespaces=[])


def test_day2_prefills_every_field_from_the_selected_entity_and_finds_the_request_through_it() -> None:
    model = generate(CACHE)
    document = action(model, "DAY-2")
    properties = document["action"]["trigger"]["userInputs"]["properties"]
    entity = {"properties": {"size": "large", "replicas": 3, "limits__memory": "2Gi", "spec__namespace": "x"}}
    prefilled = {
        name: jq.compile(spec["default"]["jqQuery"]).input_value({"entity": entity}).first()
        for name, spec in properties.items()
    }
    assert prefilled == {
        "limits__memory": "2Gi",
        "limits__port": None,
        "replicas": 3,
        "size": "large",
        "spec__namespace": "x",
    }
    assert document["action"]["trigger"]["userInputs"]["required"] == []
    rendered = render_request(
        model.action_configs()["update-cache"],
        {
            "inputs": {"size": "small"},
            "entity": {"properties": {"namespace": "default", "requestName": "c1"}},
        },
    )
    assert (rendered.namespace, rendered.name, rendered.spec) == ("default", "c1", {"size": "small"})


def test_delete_needs_no_input_and_finds_the_request_through_the_entity() -> None:
    model = generate(CACHE)
    document = action(model, "DELETE")
    assert document["action"]["trigger"]["userInputs"] == {"properties": {}, "required": [], "order": []}
    assert "entity" not in document and "spec" not in document["kratix"]
    rendered = render_request(
        model.action_configs()["delete-cache"],
        {"inputs": {}, "entity": {"properties": {"namespace": "a", "requestName": "b"}}},
    )
    assert (rendered.namespace, rendered.name) == ("a", "b")


def test_no_day2_action_when_the_spec_has_nothing_to_change() -> None:
    for empty in ({"type": "object"}, {}):
        model = generate(promise(empty))
        assert [a.operation for a in model.actions] == ["CREATE", "DELETE"]
        assert model.limitations == ()
        assert render_request(model.action_configs()["create-cache"], {"inputs": {"name": "c"}}).spec == {}


def test_a_free_form_spec_is_one_optional_json_input() -> None:
    model = generate(promise({"type": "object", "x-kubernetes-preserve-unknown-fields": True}))
    user_inputs = action(model, "CREATE")["action"]["trigger"]["userInputs"]
    assert user_inputs["properties"]["spec"]["type"] == "object" and user_inputs["required"] == ["name"]
    config = model.action_configs()["create-cache"]
    assert render_request(config, {"inputs": {"name": "c", "spec": {"x": [1]}}}).spec == {"x": [1]}
    assert render_request(config, {"inputs": {"name": "c"}}).spec == {}
    assert model.limitations == ("spec (its entries)",)


def test_the_entity_mirrors_spec_status_and_the_request_and_fits_the_blueprint() -> None:
    model = generate(CACHE)
    mapping = model.action_configs()["create-cache"].entity
    assert mapping is not None and mapping.properties is not None
    request = {
        "metadata": {"namespace": "default", "name": "c1"},
        "spec": {"size": "large", "replicas": 2, "limits": {"memory": "1Gi", "port": 6379}, "namespace": "x"},
        "status": {"endpoint": "c1.default:6379", "message": "Resource requested"},
    }
    properties = mapping.properties.first(
        {"request": request, "trigger": {"by": {"email": "dev@example.com"}}}
    )
    assert properties == {
        "namespace": "default",
        "requestName": "c1",
        "limits__memory": "1Gi",
        "limits__port": "6379",
        "replicas": 2,
        "size": "large",
        "spec__namespace": "x",
        "endpoint": "c1.default:6379",
        "kratixMessage": "Resource requested",
        "requestedBy": "dev@example.com",
    }
    schema = model.blueprint["schema"]
    checker = Draft202012Validator(
        {"type": "object", "properties": schema["properties"], "required": schema["required"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    assert list(checker.iter_errors(properties)) == []
    assert mapping.identifier.first({"request": request}) == "default.c1"


def test_the_input_order_annotation_orders_the_form_and_names_what_it_does_not_know() -> None:
    annotated = promise(
        CACHE["spec"]["api"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"],
        annotations={INPUT_ORDER_ANNOTATION: "size, limits, nothing"},
    )
    model = generate(annotated)
    order = action(model, "CREATE")["action"]["trigger"]["userInputs"]["order"]
    assert order == [
        "name",
        "namespace",
        "size",
        "limits__memory",
        "limits__port",
        "spec__namespace",
        "replicas",
    ]
    assert model.warnings == (
        f"{INPUT_ORDER_ANNOTATION}: 'nothing' is not a field of this Promise's request",
    )


def test_what_the_form_cannot_enforce_is_said_in_the_description() -> None:
    model = generate(CACHE)
    assert model.limitations == (
        "spec.limits.port (a number or a name, entered as text)",
        "spec.replicas (a whole number)",
    )
    for operation in ("CREATE", "DAY-2"):
        description = action(model, operation)["action"]["description"]
        assert "Left to the Kubernetes API server" in description
        assert all(line in description for line in model.limitations)


def test_a_promise_without_a_request_api_cannot_be_generated() -> None:
    without_api = copy.deepcopy(CACHE)
    del without_api["spec"]["api"]
    with pytest.raises(GenerateError, match="declares no request API"):
        generate(without_api)


def test_same_promise_same_bytes_whatever_its_key_order() -> None:
    def reordered(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: reordered(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [reordered(item) for item in value]
        return value

    assert render_files(generate(CACHE)) == render_files(generate(copy.deepcopy(CACHE)))
    assert render_files(generate(reordered(CACHE))) == render_files(generate(CACHE))
    assert not any(b"&id0" in content for content in render_files(generate(CACHE)).values())  # no aliases


def test_the_files_load_as_action_files(tmp_path: Path) -> None:
    model = generate(CACHE)
    for relative, content in render_files(model).items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    loaded = load_actions(tmp_path / "actions")
    assert sorted(loaded) == ["create-cache", "delete-cache", "update-cache"]
    assert loaded["create-cache"].raw_action == action(model, "CREATE")["action"]
    assert json.loads((tmp_path / "blueprints" / "cache.json").read_text()) == model.blueprint


def test_every_shared_promise_generates_files_port_and_the_bridge_take(
    shared_dir: Path, port_spec_path: Path, tmp_path: Path
) -> None:
    spec = PortSpec.load(port_spec_path)
    for path in sorted((shared_dir / "kratix" / "promises").glob("*.yaml")):
        model = generate(next(load_manifests(path)))
        assert spec.validate_body("POST", "/v1/blueprints", model.blueprint) == [], path.name
        for generated in model.actions:
            file = tmp_path / f"{generated.identifier}.yaml"
            file.write_bytes(render_files(model)[f"actions/{generated.identifier}.yaml"])
            config: ActionConfig = load_action_file(file)
            assert spec.validate_body("POST", "/v1/actions", config.raw_action) == [], generated.identifier
