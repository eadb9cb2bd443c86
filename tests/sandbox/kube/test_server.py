"""The Kubernetes emulator as a server: reached through a kubeconfig, stopped cleanly under an open watch."""

import threading
from pathlib import Path

import kubernetes
from kubernetes.client import CoreV1Api, V1ConfigMap, V1ObjectMeta

from port_bridge_sandbox.kube import KubeApiServer
from tests.kubeclient import watch_events


def test_stop_is_clean_with_a_watch_still_open() -> None:
    server = KubeApiServer().start()
    configuration = kubernetes.client.Configuration()
    configuration.host = server.url
    core = CoreV1Api(kubernetes.client.ApiClient(configuration))
    outcome: list[str] = []
    watching = threading.Event()

    def watch_forever() -> None:
        try:
            for _ in watch_events(core.list_namespaced_config_map, "default"):
                watching.set()
            outcome.append("ended")
        except Exception as error:  # the server went away under the stream
            outcome.append(type(error).__name__)

    core.create_namespaced_config_map("default", V1ConfigMap(metadata=V1ObjectMeta(name="seen")))
    watcher = threading.Thread(target=watch_forever, daemon=True)
    watcher.start()
    assert watching.wait(5)
    server.stop(timeout=5)
    watcher.join(5)
    assert not server.running
    assert not watcher.is_alive()
    assert outcome  # the client saw the end of the stream instead of hanging


def test_kubeconfig_points_the_official_client_at_the_server(tmp_path: Path) -> None:
    with KubeApiServer() as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        client = kubernetes.config.new_client_from_config(config_file=str(path))  # type: ignore[no-untyped-call]
        names = {ns.metadata.name for ns in CoreV1Api(client).list_namespace().items if ns.metadata}
        assert "default" in names


def test_manifests_apply_as_create_then_replace() -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"},
        "data": {"a": "1"},
    }
    with KubeApiServer() as server:
        first = server.apply(manifest)
        second = server.apply({**manifest, "data": {"a": "2"}})
        assert second["metadata"]["uid"] == first["metadata"]["uid"]
        assert second["data"] == {"a": "2"}
        assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
