"""The Promises' pipelines (deploy/kratix/pipelines): images a real Kratix can run, and what each
pipeline writes under Kratix's contract.

There is no Docker engine where the suite runs, so the Dockerfiles are read (with the parser
test_manifests.py uses). The pipelines themselves run in .venv-pipelines (``make
pipelines-venv``), as the image's entrypoint runs them, on a request written here; the oracles
are the contract's files they leave, the Promises' request APIs, the service scorecard's rules
and the Create Service action's entity mapping. Without .venv-pipelines those tests skip with one
line (CI=true fails instead).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.test_image import read_lock
from tests.deploy.test_manifests import DEPLOY, REPO, dockerfile_stages

PIPELINES = DEPLOY / "kratix" / "pipelines"
PROMISES = DEPLOY / "kratix" / "promises"
NAMES = ("postgresql", "redis", "namespace", "service")


def promise(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROMISES / f"{name}.yaml").read_text(encoding="utf-8"))
    return loaded


def images(name: str) -> list[str]:
    workflows = promise(name)["spec"]["workflows"]["resource"]
    return [
        container["image"]
        for pipelines in workflows.values()
        for pipeline in pipelines
        for container in pipeline["spec"]["containers"]
    ]


# --- Images -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_promise_runs_the_image_built_from_its_pipeline_directory(name: str) -> None:
    assert set(images(name)) == {f"ghcr.io/port-bridge/{name}-pipeline:v0.1.0"}
    assert (PIPELINES / name / "pipeline.py").is_file()
    assert (PIPELINES / name / "requirements.in").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_the_image_is_non_root_pinned_and_runs_the_pipeline(name: str) -> None:
    args, stages = dockerfile_stages((PIPELINES / name / "Dockerfile").read_text(encoding="utf-8"))
    [stage] = stages
    base = stage[0].arguments
    for arg, default in args.items():
        base = base.replace("${" + arg + "}", default)
    assert re.fullmatch(r"python:3\.\d+-slim@sha256:[0-9a-f]{64}", base), base
    product_args, _ = dockerfile_stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    assert base == product_args["PYTHON_IMAGE"]  # one base image for the project, moved together
    users = [instruction.arguments for instruction in stage if instruction.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    [entrypoint] = [instruction.arguments for instruction in stage if instruction.keyword == "ENTRYPOINT"]
    command = json.loads(entrypoint)
    copied = {
        instruction.arguments.split()[0]: instruction.arguments.split()[-1]
        for instruction in stage
        if instruction.keyword == "COPY"
    }
    assert copied[f"{name}/pipeline.py"] == "./" and command[-1] == "/pipeline/pipeline.py"
    workdir = [instruction.arguments for instruction in stage if instruction.keyword == "WORKDIR"]
    assert workdir == ["/pipeline"]
    installs = [instruction.arguments for instruction in stage if instruction.keyword == "RUN"]
    assert any("--require-hashes" in run and "requirements.lock" in run for run in installs)


def test_the_lock_pins_what_every_pipeline_imports_with_hashes() -> None:
    lock = read_lock(PIPELINES / "requirements.lock")
    assert all(pin.hashes for pin in lock.values())
    for name in NAMES:
        for line in (PIPELINES / name / "requirements.in").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                requirement = Requirement(line)
                pinned = lock[canonicalize_name(requirement.name)]
                assert requirement.specifier.contains(pinned.version), (name, line, pinned.version)


def test_the_pipelines_kubernetes_is_one_the_product_cannot_share() -> None:
    """Why .venv-pipelines exists: kratix-sdk 0.4 needs kubernetes<36, port-bridge a newer one."""
    lock = read_lock(PIPELINES / "requirements.lock")
    product = read_lock(REPO / "requirements.lock")
    assert (
        int(lock["kubernetes"].version.split(".")[0]) < 36 <= int(product["kubernetes"].version.split(".")[0])
    )


# --- What each pipeline writes -----------------------------------------------------------------


def run_pipeline(
    python: Path, tmp_path: Path, name: str, request: dict[str, Any], *, action: str = "configure"
) -> tuple[subprocess.CompletedProcess[str], Path]:
    kratix = tmp_path / "kratix"
    for directory in ("input", "output", "metadata"):
        (kratix / directory).mkdir(parents=True)
    (kratix / "input" / "object.yaml").write_text(yaml.safe_dump(request), encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "KRATIX_WORKFLOW_ACTION": action,
        "KRATIX_WORKFLOW_TYPE": "resource",
        "KRATIX_PROMISE_NAME": name,
        **{f"KRATIX_SDK_{part.upper()}_DIR": str(kratix / part) for part in ("input", "output", "metadata")},
    }
    done = subprocess.run(
        [str(python), str(PIPELINES / name / "pipeline.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, kratix


def request_for(name: str, spec: dict[str, Any], *, request_name: str = "example") -> dict[str, Any]:
    api = promise(name)["spec"]["api"]["spec"]
    return {
        "apiVersion": f"{api['group']}/{api['versions'][0]['name']}",
        "kind": api["names"]["kind"],
        "metadata": {"name": request_name, "namespace": "team-a"},
        "spec": spec,
    }


def written(kratix: Path, file: str) -> Any:
    return yaml.safe_load((kratix / "metadata" / file).read_text(encoding="utf-8"))


def outputs(kratix: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(kratix / "output").as_posix(): yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((kratix / "output").rglob("*.yaml"))
    }


def scorecard_level(properties: dict[str, Any]) -> str:
    """The level Port gives: the highest whose rules, and those of every level below, all pass."""
    card = json.loads((REPO / "scorecards" / "service" / "production_readiness.json").read_text())
    levels: list[str] = [level["title"] for level in card["levels"]]
    reached = levels[0]
    for level in levels[1:]:
        rules = [rule for rule in card["rules"] if rule["level"] == level]
        passed = all(
            properties.get(condition["property"]) not in (None, "")
            for rule in rules
            for condition in rule["query"]["conditions"]
            if condition["operator"] == "isNotEmpty"
        )
        if not passed:
            break
        reached = level
    return reached


def service_status_fields() -> set[str]:
    """What Create Service's entity mapping reads from the service request's status."""
    action = yaml.safe_load((REPO / "actions" / "create-service.yaml").read_text(encoding="utf-8"))
    [service] = [request for request in action["requests"] if request["kratix"]["promise"] == "service"]
    return set(re.findall(r"\.request\.status\.(\w+)", service["entity"]["properties"]))


@pytest.mark.parametrize(
    ("tier", "level"), [("experimental", "Bronze"), ("standard", "Silver"), ("critical", "Gold")]
)
def test_the_service_pipeline_publishes_what_its_tier_earns_on_the_scorecard(
    pipelines_python: Path, tmp_path: Path, tier: str, level: str
) -> None:
    spec = {"language": "Go", "tier": tier, "owner": "dev@example.com"}
    done, kratix = run_pipeline(pipelines_python, tmp_path, "service", request_for("service", spec))
    assert done.returncode == 0, done.stdout + done.stderr
    status = written(kratix, "status.yaml")
    mapped = {field: status.get(field) for field in service_status_fields()}
    assert scorecard_level(mapped) == level
    if tier == "critical":
        assert all(mapped.values()), mapped  # every field the entity mapping reads is published
    assert status["message"] == "Go service example scaffolded from its template"
    documents = outputs(kratix)
    assert documents["deployment.yaml"]["kind"] == "Deployment"
    assert documents["deployment.yaml"]["metadata"]["namespace"] == "team-a"
    assert ("slo.yaml" in documents) is (tier == "critical")
    assert not (kratix / "metadata" / "workflow-control.yaml").exists()


def test_the_service_delete_pipeline_writes_nothing_and_says_what_is_left(
    pipelines_python: Path, tmp_path: Path
) -> None:
    request = request_for("service", {"language": "Go", "tier": "standard", "owner": "x"})
    done, kratix = run_pipeline(pipelines_python, tmp_path, "service", request, action="delete")
    assert done.returncode == 0, done.stderr
    assert "https://github.com/acme/example is kept" in done.stdout
    assert list((kratix / "output").iterdir()) == [] and list((kratix / "metadata").iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "size", "backups"),
    [
        ({}, "1Gi", "without backups"),
        ({"env": "prod"}, "10Gi", "with backups"),
        ({"env": "dev", "backupEnabled": True, "teamId": "orders", "dbName": "shop"}, "1Gi", "with backups"),
    ],
)
def test_the_postgresql_pipeline_writes_a_cluster_and_where_to_connect(
    pipelines_python: Path, tmp_path: Path, spec: dict[str, Any], size: str, backups: str
) -> None:
    done, kratix = run_pipeline(pipelines_python, tmp_path, "postgresql", request_for("postgresql", spec))
    assert done.returncode == 0, done.stderr
    [(path, cluster)] = outputs(kratix).items()
    assert path == "postgresql.yaml" and cluster["kind"] == "postgresql"
    team, namespace = spec.get("teamId", "acid"), spec.get("namespace", "default")
    assert cluster["metadata"] == {"name": f"{team}-example-postgresql", "namespace": namespace}
    assert cluster["spec"]["volume"]["size"] == size
    assert cluster["spec"]["databases"] == {spec.get("dbName", "postgres"): team}
    status = written(kratix, "status.yaml")
    assert status["message"] == f"{size} instance v16 deployed successfully {backups}"
    assert status["connectionDetails"]["host"] == f"{team}-example-postgresql.{namespace}.svc.cluster.local"


@pytest.mark.parametrize("reserved", ["template0", "template1"])
def test_the_postgresql_pipeline_refuses_a_database_postgresql_reserves(
    pipelines_python: Path, tmp_path: Path, reserved: str
) -> None:
    request = request_for("postgresql", {"dbName": reserved})
    done, kratix = run_pipeline(pipelines_python, tmp_path, "postgresql", request)
    assert done.returncode != 0
    assert f"cannot create database {reserved}" in done.stderr and "request another dbName" in done.stderr
    assert outputs(kratix) == {}
    assert not (kratix / "metadata" / "status.yaml").exists()


@pytest.mark.parametrize(("size", "replicas"), [("small", 1), ("large", 3)])
def test_the_redis_pipeline_sizes_its_failover(
    pipelines_python: Path, tmp_path: Path, size: str, replicas: int
) -> None:
    done, kratix = run_pipeline(pipelines_python, tmp_path, "redis", request_for("redis", {"size": size}))
    assert done.returncode == 0, done.stderr
    failover = outputs(kratix)["redis.yaml"]
    assert failover["kind"] == "RedisFailover" and failover["spec"]["redis"]["replicas"] == replicas
    assert (
        written(kratix, "status.yaml")["message"]
        == f"{size} Redis example deployed with {replicas} replica(s)"
    )


@pytest.mark.parametrize("cluster", [None, "eu-west"])
def test_the_namespace_pipeline_schedules_to_the_named_cluster(
    pipelines_python: Path, tmp_path: Path, cluster: str | None
) -> None:
    spec = {"namespaceName": "payments", **({"clusterName": cluster} if cluster else {})}
    done, kratix = run_pipeline(pipelines_python, tmp_path, "namespace", request_for("namespace", spec))
    assert done.returncode == 0, done.stderr
    assert outputs(kratix)["namespace.yaml"]["metadata"]["name"] == "payments"
    selectors = kratix / "metadata" / "destination-selectors.yaml"
    if cluster is None:
        assert not selectors.exists()
    else:
        assert written(kratix, "destination-selectors.yaml") == [
            {"directory": "", "matchLabels": {"cluster": cluster}}
        ]


@pytest.mark.parametrize("name", ["postgresql", "redis", "namespace"])
def test_a_delete_action_is_nothing_to_do_for_a_configure_only_pipeline(
    pipelines_python: Path, tmp_path: Path, name: str
) -> None:
    done, kratix = run_pipeline(pipelines_python, tmp_path, name, request_for(name, {}), action="delete")
    assert done.returncode == 0 and "nothing to do for a delete action" in done.stdout
    assert list((kratix / "output").iterdir()) == []
