"""Pods and ``pods/log`` in the Kubernetes emulator, held to the API server's documented behaviour.

The oracle is the API reference for ``read_namespaced_pod_log`` (``PodLogOptions``) and the API
server's own messages: text/plain, ``follow`` ends when the container ends, ``tailLines``,
``limitBytes``, ``sinceTime``/``sinceSeconds``, ``timestamps`` (RFC 3339 with nanoseconds), 400
for a container the server cannot choose, 404 for a missing Pod. Read through the official client
and raw HTTP.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
import requests
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from port_bridge_sandbox.kube import KubeApiServer, PodLogs
from tests.waiting import wait_for

KRATIX_LAYOUT = {
    "initContainers": [
        {"name": "reader", "image": "ghcr.io/syntasso/kratix-platform-pipeline-adapter"},
        {"name": "configure-postgres", "image": "example/configure"},
        {"name": "work-writer", "image": "ghcr.io/syntasso/kratix-platform-pipeline-adapter"},
    ],
    "containers": [{"name": "status-writer", "image": "ghcr.io/syntasso/kratix-platform-pipeline-adapter"}],
}
TIMESTAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")


def pod(name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": spec or {"containers": [{"name": "main", "image": "busybox"}]},
    }


def create_pod(core: CoreV1Api, name: str, spec: dict[str, Any] | None = None) -> None:
    body: Any = pod(name, spec)  # the client sends a dict as it is
    core.create_namespaced_pod("default", body)


@pytest.fixture
def core(kube_client: kubernetes.client.ApiClient) -> CoreV1Api:
    return CoreV1Api(kube_client)


@pytest.fixture
def logs(kube: KubeApiServer) -> PodLogs:
    return kube.pod_logs


def log_url(kube: KubeApiServer, name: str) -> str:
    return f"{kube.url}/api/v1/namespaces/default/pods/{name}/log"


def test_pods_are_served_with_a_status_subresource(kube: KubeApiServer, core: CoreV1Api) -> None:
    create_pod(core, "p")
    core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Running"}})
    core.patch_namespaced_pod(
        "p", "default", {"status": {"phase": "Failed"}, "metadata": {"labels": {"a": "b"}}}
    )
    stored = core.read_namespaced_pod("p", "default")
    assert (
        stored.status is not None and stored.status.phase == "Running"
    )  # the main resource cannot write status
    labelled = core.list_namespaced_pod("default", label_selector="a=b").items
    assert [p.metadata.name for p in labelled if p.metadata] == ["p"]


def test_a_pod_without_containers_or_images_is_refused(core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as refused:
        create_pod(core, "p", {"containers": []})
    assert refused.value.status == 422
    with pytest.raises(ApiException) as refused:
        create_pod(core, "p", {"containers": [{"name": "main"}]})
    assert refused.value.status == 422
    assert "spec.containers[0].image: Required value" in str(refused.value.body)


def test_the_log_is_text_plain_through_the_client_and_raw(
    kube: KubeApiServer, core: CoreV1Api, logs: PodLogs
) -> None:
    create_pod(core, "p")
    logs.write("default", "p", "first line\nsecond ")
    logs.write("default", "p", "line\n")
    assert core.read_namespaced_pod_log("p", "default") == "first line\nsecond line\n"
    raw = requests.get(log_url(kube, "p"), timeout=5)
    assert raw.status_code == 200
    assert raw.headers["Content-Type"] == "text/plain"
    assert raw.text == "first line\nsecond line\n"
    assert logs.text("default", "p") == "first line\nsecond line\n"


def test_a_container_that_has_not_written_answers_an_empty_body(kube: KubeApiServer, core: CoreV1Api) -> None:
    create_pod(core, "p")
    raw = requests.get(log_url(kube, "p"), timeout=5)
    assert (raw.status_code, raw.text) == (200, "")


def test_a_missing_pod_is_404(kube: KubeApiServer, core: CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log("ghost", "default")
    assert missing.value.status == 404
    raw = requests.get(log_url(kube, "ghost"), timeout=5)
    assert raw.json()["reason"] == "NotFound"
    assert raw.json()["message"] == 'pods "ghost" not found'


def test_a_container_must_be_named_when_the_server_cannot_choose(
    kube: KubeApiServer, core: CoreV1Api
) -> None:
    two = {
        "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}],
        "initContainers": [{"name": "i", "image": "x"}],
    }
    create_pod(core, "two", two)
    with pytest.raises(ApiException) as ambiguous:
        core.read_namespaced_pod_log("two", "default")
    assert ambiguous.value.status == 400
    message = requests.get(log_url(kube, "two"), timeout=5).json()["message"]
    assert message == (
        "a container name must be specified for pod two, choose one of: [a b]"
        " or one of the init containers: [i]"
    )
    unknown = requests.get(log_url(kube, "two"), params={"container": "c"}, timeout=5)
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "container c is not valid for pod two"


def test_kratix_layout_each_container_has_its_own_log(core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "kratix", KRATIX_LAYOUT)
    logs.write("default", "kratix", "configuring\n", container="configure-postgres")
    logs.write("default", "kratix", "status merged\n", container="status-writer")
    # one main container: the server takes it when none is named, init containers need their name
    assert core.read_namespaced_pod_log("kratix", "default") == "status merged\n"
    assert (
        core.read_namespaced_pod_log("kratix", "default", container="configure-postgres") == "configuring\n"
    )
    assert core.read_namespaced_pod_log("kratix", "default", container="reader") == ""


def test_tail_lines_and_limit_bytes(core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "p")
    logs.write("default", "p", "one\ntwo\nthree\nfour")  # the last line is not finished yet
    assert core.read_namespaced_pod_log("p", "default", tail_lines=2) == "three\nfour"
    assert core.read_namespaced_pod_log("p", "default", tail_lines=10) == "one\ntwo\nthree\nfour"
    assert core.read_namespaced_pod_log("p", "default", tail_lines=0) == ""
    assert core.read_namespaced_pod_log("p", "default", limit_bytes=6) == "one\ntw"
    assert core.read_namespaced_pod_log("p", "default", tail_lines=3, limit_bytes=5) == "two\nt"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tailLines": "-1"}, "tailLines"),
        ({"limitBytes": "0"}, "limitBytes"),
        ({"sinceSeconds": "0"}, "sinceSeconds"),
    ],
)
def test_invalid_options_are_422(
    kube: KubeApiServer, core: CoreV1Api, params: dict[str, str], field: str
) -> None:
    create_pod(core, "p")
    refused = requests.get(log_url(kube, "p"), params=params, timeout=5)
    assert refused.status_code == 422
    assert refused.json()["reason"] == "Invalid"
    assert refused.json()["message"].startswith(f'PodLogOptions "p" is invalid: {field}: Invalid value')


def test_unparsable_options_are_400(kube: KubeApiServer, core: CoreV1Api) -> None:
    create_pod(core, "p")
    for params in ({"tailLines": "many"}, {"follow": "yes please"}, {"sinceTime": "yesterday"}):
        assert requests.get(log_url(kube, "p"), params=params, timeout=5).status_code == 400
    both = {"sinceSeconds": "5", "sinceTime": "2024-01-01T00:00:00Z"}
    assert requests.get(log_url(kube, "p"), params=both, timeout=5).status_code == 422


class SteppedClock:
    def __init__(self, start: datetime.datetime) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now


def test_timestamps_and_since(kube: KubeApiServer, core: CoreV1Api) -> None:
    real_now = datetime.datetime.now(tz=datetime.UTC)
    clock = SteppedClock(real_now - datetime.timedelta(minutes=10))
    logs = PodLogs(clock=clock)
    kube.call(setattr, kube.emulator, "pod_logs", logs)
    create_pod(core, "p")
    logs.write("default", "p", "old\n")
    clock.now = real_now - datetime.timedelta(minutes=5, microseconds=-123456)
    logs.write("default", "p", "middle\n")
    clock.now = real_now
    logs.write("default", "p", "new\n")
    stamped = core.read_namespaced_pod_log("p", "default", timestamps=True).splitlines()
    matches = [TIMESTAMPED.match(line) for line in stamped]
    assert [m.group(2) for m in matches if m] == ["old", "middle", "new"]
    middle_stamp = matches[1].group(1) if matches[1] else ""
    assert datetime.datetime.fromisoformat(middle_stamp) == clock.now - datetime.timedelta(
        minutes=5, microseconds=-123456
    )
    assert core.read_namespaced_pod_log("p", "default", since_seconds=120) == "new\n"
    assert core.read_namespaced_pod_log("p", "default", since_seconds=420) == "middle\nnew\n"
    since = requests.get(log_url(kube, "p"), params={"sinceTime": middle_stamp}, timeout=5)
    assert since.text == "middle\nnew\n"  # a line written at sinceTime is kept
    future = (real_now + datetime.timedelta(hours=1)).isoformat()
    assert requests.get(log_url(kube, "p"), params={"sinceTime": future}, timeout=5).text == ""


def follow_chunks(response: Any) -> Iterator[str]:
    for chunk in response.stream(1024):
        yield chunk.decode()


def test_follow_streams_as_lines_come_and_ends_when_the_container_ends(
    core: CoreV1Api, logs: PodLogs
) -> None:
    create_pod(core, "p")
    logs.write("default", "p", "before\n")
    received: list[str] = []
    first_seen, ended = threading.Event(), threading.Event()

    def follow() -> None:
        response = core.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False)
        for text in follow_chunks(response):
            received.append(text)
            if "during" in "".join(received):
                first_seen.set()
        ended.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    wait_for(lambda: logs.listeners() == 1, what="the follower to listen")
    logs.write("default", "p", "during\n")
    assert first_seen.wait(5)  # streamed before the container ended
    assert not ended.is_set()
    logs.write("default", "p", "last")
    logs.close("default", "p")
    assert ended.wait(5)
    assert "".join(received) == "before\nduring\nlast"
    wait_for(lambda: logs.listeners() == 0, what="the stream to stop listening")
    with pytest.raises(ValueError, match="closed"):
        logs.write("default", "p", "after the end")


def test_follow_of_a_finished_container_returns_at_once(core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "p")
    logs.write("default", "p", "all\n")
    logs.close("default", "p")
    response = core.read_namespaced_pod_log("p", "default", follow=True, tail_lines=1, _preload_content=False)
    assert "".join(follow_chunks(response)) == "all\n"


def test_follow_with_limit_bytes_ends_at_the_limit(core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "p")
    logs.write("default", "p", "0123")
    response = core.read_namespaced_pod_log(
        "p", "default", follow=True, limit_bytes=6, _preload_content=False
    )
    logs.write("default", "p", "456789")
    assert "".join(follow_chunks(response)) == "012345"


def test_follow_ends_when_the_pod_is_deleted(core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "p")
    response = core.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False)
    wait_for(lambda: logs.listeners() == 1, what="the follower to listen")
    core.delete_namespaced_pod("p", "default")
    logs.write("default", "p", "x\n")  # wakes the stream, which then finds the Pod gone
    assert "".join(follow_chunks(response)) == "x\n"


def test_a_client_that_hangs_up_stops_the_stream(kube: KubeApiServer, core: CoreV1Api, logs: PodLogs) -> None:
    create_pod(core, "p")
    with requests.get(log_url(kube, "p"), params={"follow": "true"}, stream=True, timeout=5) as response:
        assert response.status_code == 200
        wait_for(lambda: logs.listeners() == 1, what="the follower to listen")
    wait_for(lambda: logs.listeners() == 0, what="the stream to notice its client left")


def test_log_refusals_are_injected_per_subresource(kube: KubeApiServer, core: CoreV1Api) -> None:
    create_pod(core, "p")
    kube.emulator.faults.refuse(403, verb="get", plural="pods", subresource="log", times=None)
    with pytest.raises(ApiException) as refused:
        core.read_namespaced_pod_log("p", "default")
    assert refused.value.status == 403
    assert core.read_namespaced_pod("p", "default").spec is not None


def test_the_store_keeps_lines_whole_across_writes() -> None:
    clock = SteppedClock(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    logs = PodLogs(clock=clock)
    logs.write("ns", "p", "a", container="c")
    clock.now += datetime.timedelta(seconds=1)
    logs.write("ns", "p", "b\r\nc\n", container="c")  # only a newline ends a line
    view = logs.view("ns", "p", "c")
    assert view.text == "ab\r\nc\n"
    assert view.starts == (0, 4)
    assert view.stamps == (datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), clock.now)
    assert view.render(1, 6, timestamps=True) == "b\r\n2026-01-01T00:00:01.000000000Z c\n"
    assert logs.text("ns", "p", container="other") == ""
