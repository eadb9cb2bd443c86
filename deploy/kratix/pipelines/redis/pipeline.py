"""The `redis` Promise's configure pipeline: a Redis failover per request.

It writes the RedisFailover (databases.spotahome.com/v1) document the Redis Operator on the
Destination turns into Redis and its sentinels, sized by the request (small: one replica;
large: three), and publishes in the request's status a message and where to connect. There is
no delete pipeline: Kratix deletes the request's Works, and the operator removes Redis with them.

On Kratix the SDK's directories are /kratix/{input,output,metadata}. Elsewhere (port-bridge's
sandbox runs this file as a local process) KRATIX_SDK_INPUT_DIR, KRATIX_SDK_OUTPUT_DIR and
KRATIX_SDK_METADATA_DIR redirect them; Kratix never sets those.
"""

from __future__ import annotations

import os
from typing import Any

import kratix_sdk as ks
import yaml

REPLICAS = {"small": 1, "large": 3}


def redirect_directories() -> None:
    for variable, redirect in (
        ("KRATIX_SDK_INPUT_DIR", ks.set_input_dir),
        ("KRATIX_SDK_OUTPUT_DIR", ks.set_output_dir),
        ("KRATIX_SDK_METADATA_DIR", ks.set_metadata_dir),
    ):
        if value := os.environ.get(variable):
            redirect(value)


def failover(name: str, namespace: str, size: str) -> dict[str, Any]:
    return {
        "apiVersion": "databases.spotahome.com/v1",
        "kind": "RedisFailover",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"redis": {"replicas": REPLICAS[size]}, "sentinel": {"replicas": 3}},
    }


def main() -> None:
    redirect_directories()
    sdk = ks.KratixSDK()
    if not sdk.is_configure_action():
        print(f"nothing to do for a {sdk.workflow_action() or 'missing'} action")
        return
    resource = sdk.read_resource_input()
    name, namespace = resource.get_name(), resource.get_namespace()
    size = resource.get_value("spec.size", default="small")
    document = failover(name, namespace, size)
    sdk.write_output("redis.yaml", yaml.safe_dump(document, sort_keys=False).encode())
    print(f"wrote redis.yaml: RedisFailover {namespace}/{name} with {REPLICAS[size]} replica(s)")
    status = {
        "message": f"{size} Redis {name} deployed with {REPLICAS[size]} replica(s)",
        "endpoint": f"rfs-{name}.{namespace}.svc.cluster.local:26379",
    }
    sdk.write_status(ks.Status(status))
    print(f"published status: {status['message']}")


if __name__ == "__main__":
    main()
