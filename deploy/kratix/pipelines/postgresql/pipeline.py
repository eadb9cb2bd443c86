"""The `postgresql` Promise's configure pipeline: a Zalando Postgres Operator cluster per request.

It writes the `postgresql` (acid.zalan.do/v1) document the operator on the Destination turns into
a database cluster, and publishes in the request's status what the marketplace pipeline does
(the message) plus what port-bridge maps onto the Port entity: instanceName, pgVersion and
connectionDetails (host, and where the credentials are). A database name PostgreSQL reserves
(template0, template1) fails the pipeline with a message saying so. There is no delete pipeline: Kratix
deletes the request's Works, and the operator removes the cluster with its document.

On Kratix the SDK's directories are /kratix/{input,output,metadata}. Elsewhere (port-bridge's
sandbox runs this file as a local process) KRATIX_SDK_INPUT_DIR, KRATIX_SDK_OUTPUT_DIR and
KRATIX_SDK_METADATA_DIR redirect them; Kratix never sets those.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import kratix_sdk as ks
import yaml

PG_VERSION = "16"
# PostgreSQL creates these itself in every cluster; the operator cannot create them for a team.
RESERVED_DATABASES = frozenset({"template0", "template1"})


def redirect_directories() -> None:
    for variable, redirect in (
        ("KRATIX_SDK_INPUT_DIR", ks.set_input_dir),
        ("KRATIX_SDK_OUTPUT_DIR", ks.set_output_dir),
        ("KRATIX_SDK_METADATA_DIR", ks.set_metadata_dir),
    ):
        if value := os.environ.get(variable):
            redirect(value)


def cluster(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The operator's document; the Promise's defaults apply when a field was not given."""
    team, database = spec.get("teamId", "acid"), spec.get("dbName", "postgres")
    prod = spec.get("env") == "prod"
    document: dict[str, Any] = {
        "apiVersion": "acid.zalan.do/v1",
        "kind": "postgresql",
        "metadata": {"name": f"{team}-{name}-postgresql", "namespace": spec.get("namespace", "default")},
        "spec": {
            "teamId": team,
            "volume": {"size": "10Gi" if prod else "1Gi"},
            "numberOfInstances": 2 if prod else 1,
            "users": {team: ["superuser", "createdb"]},
            "databases": {database: team},
            "postgresql": {"version": PG_VERSION},
        },
    }
    if prod or spec.get("backupEnabled"):
        document["spec"]["enableLogicalBackup"] = True
    return document


def status(document: dict[str, Any]) -> dict[str, Any]:
    instance, namespace = document["metadata"]["name"], document["metadata"]["namespace"]
    backups = "with backups" if document["spec"].get("enableLogicalBackup") else "without backups"
    size = document["spec"]["volume"]["size"]
    return {
        "message": f"{size} instance v{PG_VERSION} deployed successfully {backups}",
        "instanceName": instance,
        "pgVersion": PG_VERSION,
        "connectionDetails": {
            "host": f"{instance}.{namespace}.svc.cluster.local",
            "credentials": f"username and password in the secret {namespace}/postgres.{instance}.credentials."
            "postgresql.acid.zalan.do",
        },
    }


def main() -> None:
    redirect_directories()
    sdk = ks.KratixSDK()
    if not sdk.is_configure_action():
        print(f"nothing to do for a {sdk.workflow_action() or 'missing'} action")
        return
    resource = sdk.read_resource_input()
    spec = resource.get_value("spec", default={}) or {}
    database = spec.get("dbName", "postgres")
    if database in RESERVED_DATABASES:
        reserved = " and ".join(sorted(RESERVED_DATABASES))
        print(
            f"cannot create database {database}: PostgreSQL reserves {reserved} in every cluster; "
            "request another dbName",
            file=sys.stderr,
        )
        sys.exit(1)
    document = cluster(resource.get_name(), spec)
    sdk.write_output("postgresql.yaml", yaml.safe_dump(document, sort_keys=False).encode())
    print(
        f"wrote postgresql.yaml: cluster {document['metadata']['namespace']}/{document['metadata']['name']}"
    )
    sdk.write_status(ks.Status(status(document)))
    print(f"published status: {status(document)['message']}")


if __name__ == "__main__":
    main()
