"""Promises that drive the portal: label a Promise and its actions appear in Port and work, no restart.

Intake and the controller run as in production (intake with only the project's action files; the
controller watching Promises); the Port emulator is the portal. Every wait is for an event (Port
holding the action), bounded by the issue's 5 s.
"""

from __future__ import annotations

import copy
import time
from functools import partial
from typing import Any

import pytest
import requests

from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import port_json, sign
from tests.conftest import Bridge
from tests.waiting import wait_for

LABEL = "port-bridge.io/portal"


def queue_promise(
    *, labels: dict[str, str] | None = None, crd_labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """A small Promise of the test's own: a message queue with a size and a retention."""
    return {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Promise",
        "metadata": {"name": "queue", "labels": labels or {}},
        "spec": {
            "api": {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": "queues.test.port-bridge.io", "labels": crd_labels or {}},
                "spec": {
                    "group": "test.port-bridge.io",
                    "scope": "Namespaced",
                    "names": {"kind": "queue", "plural": "queues", "singular": "queue"},
                    "versions": [
                        {
                            "name": "v1alpha1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "spec": {
                                            "type": "object",
                                            "required": ["size"],
                                            "properties": {
                                                "size": {"type": "string", "enum": ["small", "large"]},
                                                "retentionHours": {"type": "integer", "minimum": 1},
                                            },
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
                            "metadata": {"name": "queue-configure"},
                            "spec": {"containers": [{"name": "configure", "image": "example/queue:v1"}]},
                        }
                    ]
                }
            },
        },
    }


def gone(bridge: Bridge, action: str) -> bool:
    return bridge.port.action(action) is None


def in_port(bridge: Bridge, action: str) -> dict[str, Any]:
    return wait_for(lambda: bridge.port.action(action), timeout=5, what=f"action {action} in Port")


@pytest.mark.parametrize(
    "promise",
    [queue_promise(labels={LABEL: "true"}), queue_promise(crd_labels={"kratix.io/get-port": "true"})],
    ids=["port-bridge's label", "SKE's label on the CRD"],
)
def test_a_labelled_promise_gets_working_actions_in_port(bridge: Bridge, promise: dict[str, Any]) -> None:
    bridge.kube.apply(copy.deepcopy(promise))
    for verb in ("create", "update", "delete"):
        in_port(bridge, f"{verb}-queue")
    assert bridge.port.blueprint("queue") is not None
    created = bridge.port.invoke(
        "create-queue", inputs={"name": "jobs", "size": "small"}, url=bridge.webhook, form=True
    )
    assert created.response.status_code == 202, created.response.text
    run = bridge.finished(created.run_id)
    assert run.status == "SUCCESS", run.summary
    entity = bridge.port.entity("queue", "default.jobs")
    assert entity is not None and entity["properties"]["size"] == "small"
    assert bridge.port.spec_violations == []


def test_an_api_change_updates_the_action(bridge: Bridge) -> None:
    bridge.kube.apply(queue_promise(labels={LABEL: "true"}))
    in_port(bridge, "create-queue")
    changed = queue_promise(labels={LABEL: "true"})
    version = changed["spec"]["api"]["spec"]["versions"][0]
    version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["priority"] = {
        "type": "string",
        "enum": ["low", "high"],
    }
    bridge.kube.apply(changed)

    def has_priority() -> bool:
        action = bridge.port.action("create-queue") or {}
        return "priority" in action["trigger"]["userInputs"]["properties"]

    wait_for(has_priority, timeout=5, what="the new field in the action's form")
    run = bridge.finished(
        bridge.port.invoke(
            "create-queue",
            inputs={"name": "urgent", "size": "large", "priority": "high"},
            url=bridge.webhook,
            form=True,
        ).run_id
    )
    assert run.status == "SUCCESS", run.summary


def test_a_promise_that_loses_its_label_is_withdrawn_only_where_port_bridge_published(bridge: Bridge) -> None:
    bridge.kube.apply(queue_promise(labels={LABEL: "true"}))
    in_port(bridge, "delete-queue")
    someone_elses = {
        "identifier": "purge-queue",
        "title": "Purge a queue",
        "trigger": {
            "type": "self-service",
            "operation": "DAY-2",
            "blueprintIdentifier": "queue",
            "userInputs": {"properties": {}},
        },
        "invocationMethod": {"type": "WEBHOOK", "url": "https://ops.example.com/purge"},
    }
    bridge.port.add_action(someone_elses)
    bridge.kube.apply(queue_promise())  # the same Promise, without the label
    for action in ("create-queue", "update-queue", "delete-queue"):
        wait_for(partial(gone, bridge, action), timeout=5, what=f"{action} gone from Port")
    assert bridge.port.action("purge-queue") is not None  # not port-bridge's to remove
    body = port_json({"runId": "r_lateLateLate01", "action": "create-queue", "inputs": {"name": "late"}})
    timestamp = str(int(time.time()))
    signature = sign(body, secret=bridge.port.client_secret, timestamp=timestamp)
    answer = requests.post(
        bridge.webhook,
        data=body,
        headers={"x-port-timestamp": timestamp, "x-port-signature": signature},
        timeout=5,
    )
    assert (answer.status_code, answer.json()["error"]) == (
        404,
        "unknown_action",
    )  # intake no longer serves it


def test_a_promise_without_the_label_stays_out_of_the_portal(bridge: Bridge, cluster: KubeApiServer) -> None:
    cluster.apply(queue_promise())
    labelled = queue_promise(labels={LABEL: "true"})
    labelled["metadata"]["name"] = "signal"  # another labelled Promise: when it shows up, the first was seen
    api = labelled["spec"]["api"]
    api["metadata"]["name"] = "signals.test.port-bridge.io"
    api["spec"]["names"] = {"kind": "signal", "plural": "signals", "singular": "signal"}
    cluster.apply(labelled)
    in_port(bridge, "create-signal")
    assert bridge.port.action("create-queue") is None and bridge.port.blueprint("queue") is None
