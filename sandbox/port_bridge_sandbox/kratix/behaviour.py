"""How the simulated Kratix treats a request: timings, outcomes, and what pipelines write.

Tests pick an outcome per Promise, namespace or request name (a failing pipeline, Works that
never schedule, a delete pipeline that fails...). What the marketplace pipelines publish in
``status`` comes from research/kratix.md §6, so catalog mappings can be tested against it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ConfigureOutcome = Literal["succeed", "fail", "hang", "suspend"]
WorksOutcome = Literal["succeed", "pending", "failing", "misplaced"]
DeleteOutcome = Literal["succeed", "fail"]
StatusWriter = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Timings:
    """Seconds between the steps Kratix takes; tests use milliseconds."""

    pickup: float = 0.01  # from a change to the pipeline Job starting
    pipeline: float = 0.05  # one pipeline's run
    works: float = 0.02  # from the last pipeline to the Works being scheduled
    delete_pipeline: float = 0.05
    reconcile_interval: float | None = None  # the periodic re-run (10 h in a real cluster)


@dataclass(frozen=True)
class Behaviour:
    """What happens to a matching request; the default is a clean success."""

    configure: ConfigureOutcome = "succeed"
    pipeline_index: int = 0  # which pipeline fails, hangs or suspends
    works: WorksOutcome = "succeed"
    delete: DeleteOutcome = "succeed"
    suspend_message: str = "waiting for an external dependency"
    status: Mapping[str, Any] | None = None  # written by the last pipeline, over the marketplace default


@dataclass(frozen=True)
class Rule:
    behaviour: Behaviour
    promise: str | None = None
    namespace: str | None = None
    name: str | None = None  # a shell-style pattern

    def matches(self, promise: str, namespace: str, name: str) -> bool:
        return (
            self.promise in (None, promise)
            and self.namespace in (None, namespace)
            and (self.name is None or fnmatch.fnmatchcase(name, self.name))
        )


@dataclass
class Rules:
    """Later rules win, so a test can narrow a broad default."""

    rules: list[Rule] = field(default_factory=list)

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def behaviour_for(self, promise: str, namespace: str, name: str) -> Behaviour:
        for rule in reversed(self.rules):
            if rule.matches(promise, namespace, name):
                return rule.behaviour
        return Behaviour()


def _postgresql(request: Mapping[str, Any]) -> dict[str, Any]:
    spec, metadata = request.get("spec") or {}, request["metadata"]
    size = "10Gi" if spec.get("env") == "prod" else "1Gi"
    backups = "with backups" if spec.get("backupEnabled") or spec.get("env") == "prod" else "without backups"
    instance = f"{spec.get('teamId', 'acid')}-{metadata['name']}-postgresql"
    namespace = spec.get("namespace", "default")
    return {
        "message": f"{size} instance v16 deployed successfully {backups}",
        "instanceName": instance,
        "pgVersion": "16",
        "connectionDetails": {
            "host": f"{instance}.{namespace}.svc.cluster.local",
            "credentials": f"username and password in the secret {namespace}/postgres.{instance}.credentials."
            "postgresql.acid.zalan.do",
        },
    }


def _aws_rds(request: Mapping[str, Any]) -> dict[str, Any]:
    identifier = f"{request['metadata']['namespace']}-{request['metadata']['name']}"
    return {
        "instanceStatus": "available",
        "instanceIdentifier": identifier,
        "endpoint": f"{identifier}.abcdefghijkl.eu-west-1.rds.amazonaws.com:5432",
    }


def _runtime(request: Mapping[str, Any]) -> dict[str, Any]:
    metadata = request["metadata"]
    return {"url": f"http://{metadata['name']}.{metadata['namespace']}.local.gd:31338"}


def _service(request: Mapping[str, Any]) -> dict[str, Any]:
    """What the project's own service pipeline publishes (deploy/kratix/promises/service.yaml)."""
    spec, name = request.get("spec") or {}, request["metadata"]["name"]
    repository = spec.get("repository") or f"https://github.com/acme/{name}"
    status: dict[str, Any] = {
        "message": f"{spec.get('language', 'a')} service {name} scaffolded from its template",
        "repository": repository,
        "readme": f"{repository}/blob/main/README.md",
    }
    if spec.get("tier") in ("standard", "critical"):
        status["monitoringDashboard"] = f"https://grafana.acme.example/d/{name}"
        status["runbook"] = f"{repository}/blob/main/RUNBOOK.md"
    if spec.get("tier") == "critical":
        status["slo"] = "99.9% of requests succeed over 30 days"
    return status


MARKETPLACE_STATUS: dict[str, StatusWriter] = {
    "service": _service,
    "postgresql": _postgresql,
    "aws-rds": _aws_rds,
    "runtime": _runtime,
}


def pipeline_status(promise: str, request: Mapping[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    """What the last pipeline writes into status: the marketplace default, then the test's own."""
    written = MARKETPLACE_STATUS[promise](request) if promise in MARKETPLACE_STATUS else {}
    written.update(behaviour.status or {})
    return written
