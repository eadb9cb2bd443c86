"""Benchmark: how long a labelled Promise takes to reach the portal.

Why: the issue's promise is that applying a Promise labelled ``port-bridge.io/portal: "true"``
puts its blueprint and CREATE, DAY-2 and DELETE actions in Port within 5 s, with no restart. Here
20 Promises are applied one after another to a running controller (the real ``run_controller``,
in this process, against the Kubernetes emulator and the Port emulator over HTTP). For each: from
the moment the API server answered the Promise's create to the moment Port answered the write of
its CREATE action, and of the last of its three actions (the emulator stamps each call as it
answers it). Printed: p50 and max of both, and the Port calls per Promise.

    .venv/bin/python -m bench.live [--promises 20]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import kubernetes
from pydantic import SecretStr

from port_bridge.controller.main import run_controller
from port_bridge.controller.manager import Controller
from port_bridge.kratix.catalog import PROMISES
from port_bridge.kube.objects import KubeObjects
from port_bridge.settings import Settings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.port import PortEmulator
from port_bridge_sandbox.shared import locate_shared_dir, require_file

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "port-bridge"


def promise(index: int) -> dict[str, Any]:
    """A Promise of its own API (group bench.port-bridge.io), labelled for the portal."""
    name = f"bench-{index:02d}"
    plural = f"bench{index:02d}s"
    return {
        "apiVersion": "platform.kratix.io/v1alpha1",
        "kind": "Promise",
        "metadata": {"name": name, "labels": {"port-bridge.io/portal": "true"}},
        "spec": {
            "api": {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.bench.port-bridge.io"},
                "spec": {
                    "group": "bench.port-bridge.io",
                    "scope": "Namespaced",
                    "names": {"kind": name, "plural": plural, "singular": name},
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
                                                "replicas": {"type": "integer", "minimum": 1, "maximum": 9},
                                                "owner": {"type": "string", "pattern": "^[a-z]+$"},
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    ],
                },
            }
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promises", type=int, default=20)
    count = parser.parse_args().promises
    shared = locate_shared_dir(None)
    with (
        KubeApiServer() as kube,
        PortEmulator(
            spec_path=require_file(shared / "port" / "apispec.yaml", what="Port's OpenAPI spec")
        ) as port,
    ):
        for path in sorted((shared / "kratix" / "crds").glob("*.yaml")):
            kube.apply_file(path)
        kube.apply_file(REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml")
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for name in ("postgresql", "redis", "namespace"):
            kube.apply(next(load_manifests(shared / "kratix" / "promises" / f"{name}.yaml")))
        for path in sorted((REPO / "deploy" / "kratix" / "promises").glob("*.yaml")):
            kube.apply_file(path)
        configuration = kubernetes.client.Configuration()
        configuration.host = kube.url
        client = kubernetes.client.ApiClient(configuration)
        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(port.client_secret),
            port_api_url=port.url,
            namespace=NAMESPACE,
            config_dir=REPO,
            lease_seconds=5,
            lease_renew_deadline_seconds=3.0,
            lease_retry_seconds=0.2,
            controller_bind="",
        )
        stop, leading = threading.Event(), list[Controller]()
        thread = threading.Thread(
            target=run_controller,
            args=(settings, stop),
            kwargs={"api_client": client, "on_started": leading},
            daemon=True,
        )
        thread.start()
        while not leading:
            time.sleep(0.01)
        time.sleep(1.0)  # the first term's start-up: listing Promises, reading what Port holds
        objects = KubeObjects(client)
        first, last, calls = [], [], []
        for index in range(count):
            body = promise(index)
            name = body["metadata"]["name"]
            before = len(port.calls)
            objects.create(PROMISES, copy.deepcopy(body))
            applied = time.time()
            wanted = {f"{verb}-{name}" for verb in ("create", "update", "delete")}
            while True:
                written = {
                    call.json.get("identifier"): call.at
                    for call in port.calls[before:]
                    if call.method == "POST" and call.path == "/v1/actions" and isinstance(call.json, dict)
                }
                if wanted <= set(written):
                    break
                if time.time() - applied > 30:
                    raise SystemExit(f"{name}: not in Port after 30 s")
                time.sleep(0.002)
            first.append(written[f"create-{name}"] - applied)
            last.append(max(written[action] for action in wanted) - applied)
            calls.append(len([call for call in port.calls[before:] if call.path != "/v1/auth/access_token"]))
        stop.set()
        thread.join(15)

    def ms(values: list[float]) -> str:
        return f"p50 {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"

    print(f"{count} labelled Promises applied one after another to a running controller:")
    print(f"  Promise applied → its CREATE action in Port: {ms(first)}")
    print(f"  Promise applied → all three actions in Port: {ms(last)}")
    print(f"  Port calls per Promise (reads, writes, records): {statistics.median(calls):.0f}")
    goal = max(last) <= 5.0
    print(f"Goal: every Promise in the portal within 5 s ({max(last):.2f} s): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
