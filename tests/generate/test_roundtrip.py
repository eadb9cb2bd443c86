"""Generated actions work end to end, for every Promise the project knows.

For each Promise: generate its model, put it in Port over Port's API (the emulator checks every
body against Port's spec), then run the generated actions as a developer would, through Port's
form (defaults, DAY-2 prefilled from the entity), the signed webhook, intake, the controller and
the Kratix simulator, against a Kubernetes emulator that validates each request against the
Promise's CRD. CREATE uses the Promise's own example request (../shared/kratix/requests): the
request Kubernetes stores must hold every field of it, and the catalog entity must show them.
"""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from kubernetes.client import ApiException

from port_bridge.generate import GeneratedModel, generate
from port_bridge.kratix.promise import PromiseApi
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import MAPPED_PROMISES, REPO, Bridge, MakeBridge, PortApi
from tests.waiting import wait_for

SHARED_PROMISES = ("aws-rds", "jenkins", "namespace", "postgresql", "redis", "runtime")
PROJECT_PROMISES = {
    manifest["metadata"]["name"]: manifest
    for path in sorted((REPO / "deploy" / "kratix" / "promises").glob("*.yaml"))
    for manifest in load_manifests(path)
    if isinstance(manifest, dict) and manifest.get("kind") == "Promise"
}
CHANGES: dict[str, dict[str, Any]] = {
    "aws-rds": {"size": "small"},
    "jenkins": {"env": "prod"},
    "namespace": {"clusterName": "worker-2"},
    "postgresql": {"env": "prod", "backupEnabled": True},
    "redis": {"size": "large"},
    "runtime": {"replicas": 3},
}
# README "Generating actions from a Promise": a spec field named like these gets the prefix spec__.
TAKEN_NAMES = ("name", "namespace", "requestName", "kratixMessage", "requestedBy")


def flat(spec: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """A spec as the generated form's inputs: nested objects flattened to ``parent__child``."""
    inputs: dict[str, Any] = {}
    for key, value in spec.items():
        if isinstance(value, dict) and value:
            inputs |= flat(value, (*path, key))
            continue
        name = "__".join((*path, key))
        inputs["spec__" + name if name in TAKEN_NAMES else name] = value
    return inputs


def publish(port: PortEmulator, port_api: PortApi, model: GeneratedModel) -> None:
    """The model into Port over its API, replacing what the project ships under the same names."""
    identifier = model.blueprint["identifier"]
    if port.blueprint(identifier) is None:
        answer = port_api.post("/v1/blueprints", json=model.blueprint)
    else:
        answer = port_api.put(f"/v1/blueprints/{identifier}", json=model.blueprint)
    assert answer.ok, answer.text
    for generated in model.actions:
        body = generated.document["action"]
        if port.action(generated.identifier) is None:
            answer = port_api.post("/v1/actions", json=body)
        else:
            answer = port_api.put(f"/v1/actions/{generated.identifier}", json=body)
        assert answer.ok, answer.text


def example_inputs(model: GeneratedModel) -> dict[str, Any]:
    """For a Promise without an example request: each required spec input without a default."""
    user_inputs = model.actions[0].document["action"]["trigger"]["userInputs"]
    inputs: dict[str, Any] = {}
    for name in user_inputs["required"]:
        if name in ("name", "namespace"):  # the request's metadata, given by run() and the form
            continue
        spec = user_inputs["properties"][name]
        if "default" not in spec:
            inputs[name] = spec["enum"][0] if "enum" in spec else "example"
    return inputs


def run(bridge: Bridge, action: str, inputs: dict[str, Any], *, entity: str | None = None) -> str:
    invocation = bridge.port.invoke(action, inputs=inputs, entity=entity, url=bridge.webhook, form=True)
    assert invocation.response.status_code == 202, invocation.response.text
    finished = bridge.finished(invocation.run_id, timeout=30)
    assert finished.status == "SUCCESS", [log.message for log in bridge.port.state.logs(finished.id)]
    return finished.id


def test_every_shared_promise_is_round_tripped(marketplace_promises: dict[str, dict[str, Any]]) -> None:
    assert sorted(marketplace_promises) == sorted(SHARED_PROMISES)


@pytest.mark.parametrize("name", [*SHARED_PROMISES, *sorted(PROJECT_PROMISES)])
def test_generated_actions_create_change_and_delete_a_request(
    name: str,
    marketplace_promises: dict[str, dict[str, Any]],
    sample_requests: dict[str, dict[str, Any]],
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    port: PortEmulator,
    port_api: PortApi,
    make_bridge: MakeBridge,
) -> None:
    promise = PROJECT_PROMISES.get(name) or marketplace_promises[name]
    if name not in MAPPED_PROMISES:
        cluster.apply(promise)
    model = generate(promise)
    publish(port, port_api, model)
    bridge = make_bridge(actions=model.action_configs())
    api = PromiseApi.from_promise(promise)
    requests = KubeObjects(kube_client)
    resource = Resource(api.group, api.version, api.plural)
    example = sample_requests.get(name)
    request_name = example["metadata"]["name"] if example else "example"
    expected = flat(example["spec"]) if example else example_inputs(model)

    run(bridge, f"create-{name}", {"name": request_name, **expected})
    stored = requests.get(resource, request_name, namespace="default")
    if example:
        assert {key: stored["spec"].get(key) for key in example["spec"]} == example["spec"]
    entity_id = f"default.{request_name}"
    entity = port.entity(api.promise, entity_id)
    assert entity is not None
    assert {key: entity["properties"].get(key) for key in expected} == expected
    assert (entity["properties"]["namespace"], entity["properties"]["requestName"]) == (
        "default",
        request_name,
    )

    if any(a.operation == "DAY-2" for a in model.actions):
        change = CHANGES.get(name, {})
        run(bridge, f"update-{name}", change, entity=entity_id)
        changed = requests.get(resource, request_name, namespace="default")
        assert flat(changed["spec"]) == {**flat(stored["spec"]), **change}  # the rest kept, from the entity
        entity = port.entity(api.promise, entity_id)
        assert entity is not None
        assert {key: entity["properties"].get(key) for key in change} == change

    run(bridge, f"delete-{name}", {}, entity=entity_id)
    with pytest.raises(ApiException) as gone:
        requests.get(resource, request_name, namespace="default")
    assert gone.value.status == 404
    wait_for(lambda: port.entity(api.promise, entity_id) is None, timeout=10, what="the entity to go")
    assert port.spec_violations == []


def test_day2_with_nothing_typed_resubmits_the_entitys_values(
    marketplace_promises: dict[str, dict[str, Any]],
    kube_client: kubernetes.client.ApiClient,
    port: PortEmulator,
    port_api: PortApi,
    make_bridge: MakeBridge,
) -> None:
    model = generate(marketplace_promises["postgresql"])
    publish(port, port_api, model)
    bridge = make_bridge(actions=model.action_configs())
    run(bridge, "create-postgresql", {"name": "orders", "env": "prod", "teamId": "payments"})
    run_id = run(bridge, "update-postgresql", {}, entity="default.orders")
    sent = bridge.port.run(run_id).properties
    assert sent == {
        "backupEnabled": False,
        "dbName": "postgres",
        "env": "prod",
        "spec__namespace": "default",
        "teamId": "payments",
    }
    resource = Resource("marketplace.kratix.io", "v1alpha2", "postgresqls")
    assert KubeObjects(kube_client).get(resource, "orders", namespace="default")["spec"] == {
        "backupEnabled": False,
        "dbName": "postgres",
        "env": "prod",
        "teamId": "payments",
        "namespace": "default",
    }
    assert port.spec_violations == []


DATABASE = {
    "apiVersion": "platform.kratix.io/v1alpha1",
    "kind": "Promise",
    "metadata": {"name": "database", "annotations": {"kratix.io/port-input-order": "engine, size"}},
    "spec": {
        "api": {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "databases.example.org"},
            "spec": {
                "group": "example.org",
                "names": {"kind": "Database", "plural": "databases", "singular": "database"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "required": ["engine", "size"],
                                        "properties": {
                                            "engine": {"type": "string", "enum": ["mysql", "postgres"]},
                                            "size": {"type": "integer", "minimum": 1, "maximum": 100},
                                            "mysql": {
                                                "type": "object",
                                                "properties": {
                                                    "version": {"type": "string", "default": "8.0"}
                                                },
                                            },
                                            "postgres": {
                                                "type": "object",
                                                "required": ["version"],
                                                "properties": {
                                                    "version": {"type": "string", "pattern": "^1[4-7]$"},
                                                    "extensions": {
                                                        "type": "array",
                                                        "items": {"type": "string"},
                                                    },
                                                },
                                            },
                                            "backup": {
                                                "type": "object",
                                                "properties": {
                                                    "schedule": {"type": "string"},
                                                    "keep": {"type": "integer", "default": 7},
                                                },
                                            },
                                            "port": {"x-kubernetes-int-or-string": True},
                                        },
                                        "oneOf": [
                                            {
                                                "properties": {"engine": {"enum": ["mysql"]}},
                                                "required": ["mysql"],
                                            },
                                            {
                                                "properties": {"engine": {"enum": ["postgres"]}},
                                                "required": ["postgres"],
                                            },
                                        ],
                                    }
                                },
                            }
                        },
                    }
                ],
            },
        },
        "workflows": {
            "resource": {
                "configure": [
                    {
                        "apiVersion": "platform.kratix.io/v1alpha1",
                        "kind": "Pipeline",
                        "metadata": {"name": "instance-configure"},
                        "spec": {
                            "containers": [
                                {"image": "example.org/database-configure:v1", "name": "configure"}
                            ]
                        },
                    }
                ]
            }
        },
    },
}


def test_nested_fields_and_a_selected_branch_reach_the_request_whole(
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    port: PortEmulator,
    port_api: PortApi,
    make_bridge: MakeBridge,
) -> None:
    cluster.apply(DATABASE)
    model = generate(DATABASE)
    create = model.actions[0].document["action"]["trigger"]["userInputs"]
    assert create["order"][:4] == ["name", "namespace", "engine", "size"]
    assert create["properties"]["postgres__version"]["visible"] == {
        "jqQuery": '(.form["engine"] == "postgres")'
    }
    publish(port, port_api, model)
    bridge = make_bridge(actions=model.action_configs())
    resource = Resource("example.org", "v1", "databases")
    typed = {
        "name": "orders",
        "engine": "postgres",
        "size": 20,
        "postgres__version": "16",
        "postgres__extensions": ["pgcrypto"],
        "backup__schedule": "@daily",
        "port": "5432",
    }
    run(bridge, "create-database", typed)
    spec = KubeObjects(kube_client).get(resource, "orders", namespace="default")["spec"]
    assert spec == {
        "engine": "postgres",
        "size": 20,
        "postgres": {"version": "16", "extensions": ["pgcrypto"]},
        "backup": {"schedule": "@daily", "keep": 7},  # the CRD's default, applied by the API server
        "port": "5432",
    }
    run(bridge, "update-database", {"backup__keep": 30, "size": 40}, entity="default.orders")
    spec = KubeObjects(kube_client).get(resource, "orders", namespace="default")["spec"]
    assert spec["backup"] == {"schedule": "@daily", "keep": 30} and spec["size"] == 40
    assert spec["postgres"] == {"version": "16", "extensions": ["pgcrypto"]}
    entity = port.entity("database", "default.orders")
    assert entity is not None
    assert entity["properties"]["backup__keep"] == 30 and entity["properties"]["port"] == "5432"
    assert port.spec_violations == []


def test_a_request_the_selected_branch_refuses_fails_with_the_api_servers_reason(
    cluster: KubeApiServer, port: PortEmulator, port_api: PortApi, make_bridge: MakeBridge
) -> None:
    cluster.apply(DATABASE)
    model = generate(DATABASE)
    publish(port, port_api, model)
    bridge = make_bridge(actions=model.action_configs())
    invocation = bridge.port.invoke(
        "create-database",
        inputs={"name": "bad", "engine": "postgres", "size": 2},
        url=bridge.webhook,
        form=True,
    )
    assert invocation.response.status_code == 422
    assert [problem["field"] for problem in invocation.response.json()["errors"]] == ["spec"]
    assert bridge.finished(invocation.run_id).status == "FAILURE"
