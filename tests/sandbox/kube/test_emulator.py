"""The emulator answers like a real API server, checked through the official ``kubernetes`` client.

Each test pins one behaviour the product depends on and stock kmock gets wrong or leaves out,
so an upgrade of kmock (or the client) that changes it fails here first.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client import (
    ApiException,
    ApiextensionsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
    V1ConfigMap,
    V1Namespace,
    V1ObjectMeta,
    VersionApi,
)

from port_bridge_sandbox.kube import KubeApiServer
from tests.kubeclient import error_body, json_object, watch_events

GROUP, VERSION, PLURAL = "marketplace.kratix.io", "v1alpha2", "postgresqls"


@pytest.fixture
def objects(kube_client: kubernetes.client.ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(kube_client)


@pytest.fixture
def postgresql_api(kube: KubeApiServer, promises: dict[str, dict[str, Any]]) -> None:
    """The postgresql Promise is installed, so its request CRD is served."""
    kube.apply(promises["postgresql"])


@pytest.fixture
def request_body(sample_requests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(sample_requests["postgresql"])


def create(objects: CustomObjectsApi, body: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return json_object(objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body))


def get(objects: CustomObjectsApi, name: str) -> dict[str, Any]:
    return json_object(objects.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name))


def events(objects: CustomObjectsApi, **kwargs: object) -> Iterator[dict[str, Any]]:
    return watch_events(objects.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL, **kwargs)


def config_map(name: str) -> V1ConfigMap:
    return V1ConfigMap(metadata=V1ObjectMeta(name=name))


def namespace(name: str) -> V1Namespace:
    return V1Namespace(metadata=V1ObjectMeta(name=name))


pytestmark = pytest.mark.usefixtures("postgresql_api")


def test_create_answers_201_so_the_client_returns_the_object(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    _, status, _ = objects.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, "default", PLURAL, request_body
    )
    assert status == 201
    again = create(objects, {**request_body, "metadata": {"name": "second"}})
    assert again["metadata"]["name"] == "second"


def test_create_sets_server_owned_metadata_and_the_namespace_from_the_url(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["metadata"] = {"name": "db", "uid": "forged", "resourceVersion": "999", "generation": 7}
    created = create(objects, request_body)
    metadata = created["metadata"]
    assert metadata["namespace"] == "default"
    assert metadata["uid"] != "forged" and len(metadata["uid"]) == 36
    assert metadata["generation"] == 1
    assert int(metadata["resourceVersion"]) > 0 and metadata["resourceVersion"] != "999"
    assert metadata["creationTimestamp"].endswith("Z")
    assert get(objects, "db") == created


def test_generate_name_gives_unique_names_with_the_prefix(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["metadata"] = {"generateName": "db-"}
    names = {create(objects, copy.deepcopy(request_body))["metadata"]["name"] for _ in range(3)}
    assert len(names) == 3
    assert all(name.startswith("db-") and len(name) == len("db-") + 5 for name in names)


def test_resources_no_crd_declares_are_not_found(objects: CustomObjectsApi) -> None:
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(ApiException) as created:
        objects.create_namespaced_custom_object("example.com", "v1", "default", "widgets", body)
    assert created.value.status == 404
    with pytest.raises(ApiException) as listed:
        objects.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
    assert listed.value.status == 404


def test_create_in_a_missing_namespace_is_not_found(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["metadata"] = {"name": "db"}
    with pytest.raises(ApiException) as error:
        create(objects, request_body, namespace="nowhere")
    assert error.value.status == 404
    assert 'namespaces \\"nowhere\\" not found' in error_body(
        error.value
    ) or 'namespaces "nowhere" not found' in error_body(error.value)


def test_duplicate_create_conflicts_with_reason_already_exists(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    create(objects, copy.deepcopy(request_body))
    with pytest.raises(ApiException) as error:
        create(objects, request_body)
    assert error.value.status == 409
    assert '"reason": "AlreadyExists"' in error_body(error.value)


def test_custom_resources_must_carry_their_kind(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    del request_body["kind"]
    with pytest.raises(ApiException) as error:
        create(objects, request_body)
    assert error.value.status == 400


def test_names_follow_kubernetes_rules_and_the_promise_caps_them_at_63(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    for bad_name in ("Upper", "under_score", "-leading", "a" * 64):
        request_body["metadata"] = {"name": bad_name}
        with pytest.raises(ApiException) as error:
            create(objects, copy.deepcopy(request_body))
        assert error.value.status == 422, bad_name
        assert "metadata.name" in error_body(error.value)
    request_body["metadata"] = {"name": "a" * 63}
    assert create(objects, request_body)["metadata"]["name"] == "a" * 63


def test_spec_is_defaulted_pruned_and_validated_against_the_crd_schema(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["spec"] = {"env": "prod", "notInSchema": True}
    created = create(objects, copy.deepcopy(request_body))
    assert created["spec"] == {
        "env": "prod",
        "teamId": "acid",
        "dbName": "postgres",
        "backupEnabled": False,
        "namespace": "default",
    }
    request_body["metadata"] = {"name": "bad-env"}
    request_body["spec"] = {"env": "qa"}
    with pytest.raises(ApiException) as error:
        create(objects, request_body)
    assert error.value.status == 422
    assert "spec.env" in error_body(error.value) and "^(dev|prod)$" in error_body(error.value)


def test_create_ignores_status_when_the_status_subresource_is_on(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["status"] = {"message": "forged"}
    assert "status" not in create(objects, request_body)


def test_status_subresource_is_isolated_in_both_directions(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    create(objects, request_body)
    after_status = json_object(
        objects.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            {"status": {"message": "Pending"}, "spec": {"env": "prod"}},
        )
    )
    assert after_status["status"] == {"message": "Pending"}
    assert after_status["spec"]["env"] == "dev"
    after_spec = json_object(
        objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            {"status": {"message": "forged"}, "spec": {"env": "prod"}},
        )
    )
    assert after_spec["status"] == {"message": "Pending"}
    assert after_spec["spec"]["env"] == "prod"


def test_generation_counts_spec_changes_only(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    create(objects, request_body)
    patch = objects.patch_namespaced_custom_object
    assert (
        json_object(
            patch(GROUP, VERSION, "default", PLURAL, "example", {"metadata": {"labels": {"a": "b"}}})
        )["metadata"]["generation"]
        == 1
    )
    status = json_object(
        objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, "default", PLURAL, "example", {"status": {"message": "Resource requested"}}
        )
    )
    assert status["metadata"]["generation"] == 1
    assert (
        json_object(patch(GROUP, VERSION, "default", PLURAL, "example", {"spec": {"dbName": "other"}}))[
            "metadata"
        ]["generation"]
        == 2
    )


def test_every_change_bumps_the_resource_version_and_a_no_op_does_not(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    created = create(objects, request_body)
    changed = json_object(
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "example", {"spec": {"env": "prod"}}
        )
    )
    unchanged = json_object(
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "example", {"spec": {"env": "prod"}}
        )
    )
    assert int(changed["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert unchanged["metadata"]["resourceVersion"] == changed["metadata"]["resourceVersion"]


def test_stale_resource_version_conflicts_on_patch_and_replace(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    created = create(objects, request_body)
    stale = created["metadata"]["resourceVersion"]
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "example", {"spec": {"env": "prod"}}
    )
    with pytest.raises(ApiException) as patched:
        objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            {"metadata": {"resourceVersion": stale}, "spec": {"dbName": "x"}},
        )
    assert patched.value.status == 409 and '"reason": "Conflict"' in error_body(patched.value)
    with pytest.raises(ApiException) as replaced:
        objects.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example", created)
    assert replaced.value.status == 409
    assert get(objects, "example")["spec"]["dbName"] == "bestdb"


def test_put_replaces_and_custom_resources_need_a_resource_version(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    current = create(objects, request_body)
    current["spec"] = {"env": "prod"}
    replaced = json_object(
        objects.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example", current)
    )
    assert (
        replaced["spec"]["env"] == "prod" and replaced["spec"]["dbName"] == "postgres"
    )  # replaced, then defaulted
    del replaced["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as error:
        objects.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example", replaced)
    assert error.value.status == 422 and "resourceVersion" in error_body(error.value)


def test_put_status_changes_only_status(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    current = create(objects, request_body)
    current["status"] = {"message": "Resource requested"}
    current["spec"]["env"] = "prod"
    replaced = json_object(
        objects.replace_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "example", current)
    )
    assert replaced["status"] == {"message": "Resource requested"} and replaced["spec"]["env"] == "dev"


def test_leases_replace_and_renew_with_optimistic_concurrency(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    leases = CoordinationV1Api(kube_client)
    lease = kubernetes.client.V1Lease(
        metadata=kubernetes.client.V1ObjectMeta(name="port-bridge"),
        spec=kubernetes.client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15),
    )
    created = leases.create_namespaced_lease("default", lease)
    assert created.metadata and created.metadata.resource_version and created.spec
    created.spec.holder_identity = "b"
    renewed = leases.replace_namespaced_lease("port-bridge", "default", created)
    assert renewed.spec and renewed.spec.holder_identity == "b"
    assert renewed.metadata and renewed.metadata.resource_version
    assert int(renewed.metadata.resource_version) > int(created.metadata.resource_version)
    with pytest.raises(ApiException) as error:
        leases.replace_namespaced_lease("port-bridge", "default", created)  # carries the old version
    assert error.value.status == 409


def test_patches_go_by_content_type(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    create(objects, request_body)
    json_patch = [{"op": "replace", "path": "/spec/env", "value": "prod"}]
    patched = json_object(
        objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            json_patch,
            _content_type="application/json-patch+json",
        )
    )
    assert patched["spec"]["env"] == "prod"
    with pytest.raises(ApiException) as as_merge:
        objects.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example", json_patch)
    assert as_merge.value.status == 400
    with pytest.raises(ApiException) as strategic:
        objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert strategic.value.status == 415
    removed = json_object(
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "example", {"spec": {"teamId": None}}
        )
    )
    assert removed["spec"]["teamId"] == "acid"  # merge patch null removes the field; defaulting restores it


def test_label_and_field_selectors_filter_lists(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    for name, labels in (("a", {"tier": "db", "run": "r1"}), ("b", {"tier": "db"}), ("c", {"tier": "cache"})):
        create(objects, {**copy.deepcopy(request_body), "metadata": {"name": name, "labels": labels}})

    def names(*, label_selector: str | None = None, field_selector: str | None = None) -> list[str]:
        listed = json_object(
            objects.list_namespaced_custom_object(
                GROUP,
                VERSION,
                "default",
                PLURAL,
                label_selector=label_selector,
                field_selector=field_selector,
            )
        )
        return [item["metadata"]["name"] for item in listed["items"]]

    assert names(label_selector="tier=db") == ["a", "b"]
    assert names(label_selector="tier in (db,cache),!run") == ["b", "c"]
    assert names(label_selector="tier!=db") == ["c"]
    assert names(label_selector="run") == ["a"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b", label_selector="tier notin (cache)") == ["a"]
    with pytest.raises(ApiException) as error:
        names(label_selector="tier in db")
    assert error.value.status == 400


def test_list_carries_kind_and_a_resource_version_to_watch_from(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    created = create(objects, request_body)
    listed = json_object(objects.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL))
    assert listed["kind"] == "postgresqlList" and listed["apiVersion"] == f"{GROUP}/{VERSION}"
    assert int(listed["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])


def test_watch_from_a_resource_version_replays_the_real_event_sequence(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    create(objects, copy.deepcopy(request_body))
    since = json_object(objects.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL))["metadata"][
        "resourceVersion"
    ]
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "example", {"spec": {"env": "prod"}}
    )
    create(objects, {**request_body, "metadata": {"name": "other"}})
    last = json_object(objects.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example"))
    seen = [
        (
            event["type"],
            event["object"]["metadata"]["name"],
            int(event["object"]["metadata"]["resourceVersion"]),
        )
        for event in events(objects, resource_version=since, timeout_seconds=1)
    ]
    assert [(kind, name) for kind, name, _ in seen] == [
        ("MODIFIED", "example"),
        ("ADDED", "other"),
        ("DELETED", "example"),
    ]
    versions = [version for _, _, version in seen]
    assert versions == sorted(versions) and versions[0] > int(since)
    assert versions[-1] == int(last["metadata"]["resourceVersion"])  # DELETED carries a new version


def test_watch_without_a_version_starts_with_the_current_state(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    create(objects, request_body)
    seen = [
        (event["type"], event["object"]["metadata"]["name"]) for event in events(objects, timeout_seconds=1)
    ]
    assert seen == [("ADDED", "example")]


def test_watch_from_a_compacted_version_is_410_gone(
    kube: KubeApiServer, objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    created = create(objects, request_body)
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "example", {"spec": {"env": "prod"}}
    )
    kube.call(kube.emulator.compact_history)
    with pytest.raises(ApiException) as error:
        list(events(objects, resource_version=created["metadata"]["resourceVersion"], timeout_seconds=1))
    assert error.value.status == 410


def test_watch_history_is_a_bounded_window(
    kube_client: kubernetes.client.ApiClient, kratix_crds: list[Any]
) -> None:
    with KubeApiServer(event_history=5) as small:
        configuration = kubernetes.client.Configuration()
        configuration.host = small.url
        core = CoreV1Api(kubernetes.client.ApiClient(configuration))
        first = core.create_namespaced_config_map("default", config_map("cm-0"))
        for index in range(1, 8):
            core.create_namespaced_config_map("default", config_map(f"cm-{index}"))
        assert first.metadata
        with pytest.raises(ApiException) as error:
            list(
                watch_events(
                    core.list_namespaced_config_map,
                    "default",
                    resource_version=first.metadata.resource_version,
                    timeout_seconds=1,
                )
            )
        assert error.value.status == 410


def test_watch_ends_at_timeout_seconds_with_a_bookmark(objects: CustomObjectsApi) -> None:
    seen = list(events(objects, timeout_seconds=1, allow_watch_bookmarks=True))
    assert [event["type"] for event in seen] == ["BOOKMARK"]


def test_watch_applies_selectors_and_namespace(
    kube: KubeApiServer, objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}})
    since = json_object(objects.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL))["metadata"][
        "resourceVersion"
    ]
    create(objects, {**copy.deepcopy(request_body), "metadata": {"name": "wanted", "labels": {"run": "r1"}}})
    create(objects, {**copy.deepcopy(request_body), "metadata": {"name": "unlabelled"}})
    create(
        objects,
        {**copy.deepcopy(request_body), "metadata": {"name": "far", "labels": {"run": "r1"}}},
        "elsewhere",
    )
    seen = [
        event["object"]["metadata"]["name"]
        for event in events(objects, resource_version=since, timeout_seconds=1, label_selector="run=r1")
    ]
    assert seen == ["wanted"]


def test_watch_delivers_live_changes(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    received: list[str] = []
    started = threading.Event()

    def consume() -> None:
        for event in events(objects, timeout_seconds=2):
            received.append(f"{event['type']} {event['object']['metadata']['name']}")
            started.set()

    create(objects, {**copy.deepcopy(request_body), "metadata": {"name": "before"}})
    watcher = threading.Thread(target=consume)
    watcher.start()
    assert started.wait(5)
    create(objects, {**request_body, "metadata": {"name": "after"}})
    watcher.join(5)
    assert received == ["ADDED before", "ADDED after"]


def test_finalizers_hold_deletion_until_removed(
    objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    request_body["metadata"]["finalizers"] = ["kratix.io/work-cleanup"]
    created = create(objects, request_body)
    marked = json_object(
        objects.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example")
    )
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["generation"] == created["metadata"]["generation"] + 1
    assert get(objects, "example")["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiException) as added:
        objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "example",
            {"metadata": {"finalizers": ["kratix.io/work-cleanup", "new"]}},
        )
    assert added.value.status == 422
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "example", {"metadata": {"finalizers": None}}
    )
    with pytest.raises(ApiException) as gone:
        get(objects, "example")
    assert gone.value.status == 404


def test_delete_preconditions_are_checked(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    create(objects, request_body)
    options = kubernetes.client.V1DeleteOptions(preconditions=kubernetes.client.V1Preconditions(uid="other"))
    with pytest.raises(ApiException) as error:
        objects.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "example", body=options)
    assert error.value.status == 409
    assert get(objects, "example")


def test_dry_run_validates_without_storing(objects: CustomObjectsApi, request_body: dict[str, Any]) -> None:
    dry = json_object(
        objects.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, request_body, dry_run="All"
        )
    )
    assert dry["metadata"]["name"] == "example"
    assert (
        json_object(objects.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL))["items"] == []
    )


def test_promise_installs_its_request_crd_the_way_kratix_does(
    kube_client: kubernetes.client.ApiClient,
) -> None:
    crd = ApiextensionsV1Api(kube_client).read_custom_resource_definition("postgresqls.marketplace.kratix.io")
    assert crd.metadata and crd.metadata.labels
    assert crd.metadata.labels["kratix.io/promise-name"] == "postgresql"
    version = crd.spec.versions[0]
    assert version.subresources and version.subresources.status is not None
    schema = version.schema.open_apiv3_schema if version.schema else None
    assert schema and schema.properties
    assert schema.properties["status"].x_kubernetes_preserve_unknown_fields is True
    discovery = kubernetes.client.ApisApi(kube_client).get_api_versions()
    assert "marketplace.kratix.io" in {group.name for group in discovery.groups}


def test_deleting_the_promise_removes_its_crd_and_requests(
    kube: KubeApiServer, objects: CustomObjectsApi, request_body: dict[str, Any]
) -> None:
    create(objects, request_body)
    objects.delete_cluster_custom_object("platform.kratix.io", "v1alpha1", "promises", "postgresql")
    with pytest.raises(ApiException) as error:
        objects.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert error.value.status == 404


def test_kratix_crds_from_files_are_served(
    kube: KubeApiServer, objects: CustomObjectsApi, kratix_crds: list[dict[str, Any]]
) -> None:
    for manifest in kratix_crds:  # Kratix's released CRDs, not the project's minimal one
        kube.apply(manifest)
    destination = {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Destination",
        "metadata": {"name": "worker-1", "labels": {"environment": "dev"}},
        "spec": {"path": "worker-1", "stateStoreRef": {"kind": "BucketStateStore", "name": "default"}},
    }
    objects.create_cluster_custom_object("platform.kratix.io", "v1alpha1", "destinations", destination)
    listed = json_object(objects.list_cluster_custom_object("platform.kratix.io", "v1alpha1", "destinations"))
    assert [item["metadata"]["name"] for item in listed["items"]] == ["worker-1"]


def test_version_answers_with_or_without_a_trailing_slash(kube_client: kubernetes.client.ApiClient) -> None:
    assert VersionApi(kube_client).get_code().git_version


def test_namespace_objects_are_reachable(kube_client: kubernetes.client.ApiClient) -> None:
    core = CoreV1Api(kube_client)
    assert {ns.metadata.name for ns in core.list_namespace().items if ns.metadata} >= {
        "default",
        "kube-system",
    }
    created = core.create_namespace(namespace("team-a"))
    read = core.read_namespace("team-a")
    assert created.metadata and read.metadata and created.metadata.uid
    assert read.metadata.uid == created.metadata.uid
    with pytest.raises(ApiException) as error:
        core.create_namespace(namespace("team.a"))  # namespaces are DNS labels, not subdomains
    assert error.value.status == 422


def test_request_log_does_not_grow_with_traffic(
    kube: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    objects: CustomObjectsApi,
    request_body: dict[str, Any],
) -> None:
    create(objects, request_body)
    for _ in range(100):
        get(objects, "example")
        VersionApi(kube_client).get_code()  # discovery goes through kmock's request matching
    assert kube.call(kube.emulator.retained_request_count) == 0
    assert kube.call(lambda: kube.emulator.requests_served["GET", PLURAL]) == 100
