"""The `service` Promise's pipeline: scaffolds a service and publishes what its scorecard reads.

Configure writes the service's workload (a Deployment and a Service; a Grafana dashboard and a
runbook link for standard and critical tiers; an SLO rule for critical ones) to the output
directory, and publishes in the request's status the fields port-bridge maps onto the Port entity
and the production-readiness scorecard reads (scorecards/service/): repository, readme,
monitoringDashboard, runbook, slo. Delete logs what is left to a person: the repository is kept
(archiving code is not a pipeline's call); Kratix removes the workload with the request's Works.

On Kratix the SDK's directories are /kratix/{input,output,metadata}. Elsewhere (port-bridge's
sandbox runs this file as a local process) KRATIX_SDK_INPUT_DIR, KRATIX_SDK_OUTPUT_DIR and
KRATIX_SDK_METADATA_DIR redirect them; Kratix never sets those.
"""

from __future__ import annotations

import os
from typing import Any

import kratix_sdk as ks
import yaml

DASHBOARDS = "https://grafana.acme.example/d"
REPOSITORIES = "https://github.com/acme"
SLO = "99.9% of requests succeed over 30 days"


def redirect_directories() -> None:
    for variable, redirect in (
        ("KRATIX_SDK_INPUT_DIR", ks.set_input_dir),
        ("KRATIX_SDK_OUTPUT_DIR", ks.set_output_dir),
        ("KRATIX_SDK_METADATA_DIR", ks.set_metadata_dir),
    ):
        if value := os.environ.get(variable):
            redirect(value)


def service_status(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """What the scorecard reads, by tier: a README always; monitoring and a runbook from standard;
    an SLO for critical services."""
    repository = spec.get("repository") or f"{REPOSITORIES}/{name}"
    status: dict[str, Any] = {
        "message": f"{spec.get('language', 'a')} service {name} scaffolded from its template",
        "repository": repository,
        "readme": f"{repository}/blob/main/README.md",
    }
    if spec.get("tier") in ("standard", "critical"):
        status["monitoringDashboard"] = f"{DASHBOARDS}/{name}"
        status["runbook"] = f"{repository}/blob/main/RUNBOOK.md"
    if spec.get("tier") == "critical":
        status["slo"] = SLO
    return status


def workload(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The documents Kratix schedules to a Destination, by file name."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "kratix"}
    owner = {"platform.port-bridge.io/owner": str(spec.get("owner", ""))}
    replicas = {"critical": 3, "standard": 2}.get(str(spec.get("tier")), 1)
    documents: dict[str, dict[str, Any]] = {
        "deployment.yaml": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": owner},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name, "image": f"ghcr.io/acme/{name}:latest"}]},
                },
            },
        },
        "service.yaml": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "selector": {"app.kubernetes.io/name": name},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            },
        },
    }
    if spec.get("tier") in ("standard", "critical"):
        documents["dashboard.yaml"] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{name}-dashboard",
                "namespace": namespace,
                "labels": {**labels, "grafana_dashboard": "1"},
            },
            "data": {f"{name}.json": f'{{"uid": "{name}", "title": "{name}"}}'},
        }
    if spec.get("tier") == "critical":
        documents["slo.yaml"] = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": f"{name}-slo", "namespace": namespace, "labels": labels},
            "spec": {
                "groups": [
                    {
                        "name": f"{name}-slo",
                        "rules": [
                            {
                                "alert": "ErrorBudgetBurn",
                                "expr": f'sum(rate(http_requests_total{{service="{name}",code=~"5.."}}[1h]))'
                                f' / sum(rate(http_requests_total{{service="{name}"}}[1h])) > 0.001',
                                "labels": {"severity": "page"},
                            }
                        ],
                    }
                ]
            },
        }
    return documents


def configure(sdk: ks.KratixSDK) -> None:
    resource = sdk.read_resource_input()
    name, namespace = resource.get_name(), resource.get_namespace()
    spec = resource.get_value("spec", default={}) or {}
    print(f"service {namespace}/{name}: {spec.get('language')} service, tier {spec.get('tier')}")
    for filename, document in workload(name, namespace, spec).items():
        sdk.write_output(filename, yaml.safe_dump(document, sort_keys=False).encode())
        print(f"wrote {filename} ({document['kind']} {document['metadata']['name']})")
    status = ks.Status(service_status(name, spec))
    sdk.write_status(status)
    print(f"published status: {', '.join(sorted(status.to_dict()))}")


def delete(sdk: ks.KratixSDK) -> None:
    resource = sdk.read_resource_input()
    name, namespace = resource.get_name(), resource.get_namespace()
    repository = resource.get_value("status.repository", default=None) or f"{REPOSITORIES}/{name}"
    print(f"service {namespace}/{name}: its workload goes with the request's Works")
    print(f"the repository {repository} is kept: archive it by hand if the service is gone for good")


def main() -> None:
    redirect_directories()
    sdk = ks.KratixSDK()
    if sdk.is_delete_action():
        delete(sdk)
    else:
        configure(sdk)


if __name__ == "__main__":
    main()
