"""What deploy/ installs, checked without a cluster, a Docker engine or a kustomize binary.

Where the suite runs there is no cluster and no Docker engine, and kustomize exists only inside
kubectl when kubectl happens to be installed; yet a manifest mistake (a missing RBAC line, a typo
in an environment variable, a root container) would otherwise surface only in someone's cluster.
So this module renders the kustomizations itself, supporting exactly the kustomize features
deploy/ uses and refusing any other (including files read from outside a kustomization's own
directory, which kustomize refuses too; where kubectl is installed, one test checks that
``kubectl kustomize`` builds the same objects), and checks the result:

* every container is locked down (non-root, read-only root filesystem, no privilege escalation,
  no capabilities, RuntimeDefault seccomp) and has requests and limits;
* RBAC grants each process exactly the permissions its code needs (deploy/README.md lists them),
  the controller exactly the request kinds of the Promises the shipped actions map to, no
  wildcards, and intake nothing on Kratix requests;
* every environment variable is a setting ``port_bridge.settings.Settings`` reads (or one the
  code reads directly), and the values parse into the settings the manifests assume;
* the configuration component mirrors the repository's action files and mounts them where the
  bridge reads them;
* the Dockerfile's runtime stage runs as a numeric non-root user and holds only the venv;
* the CRD and the objects the project's Kubernetes emulator serves apply, and an ActionRun as
  intake writes it is accepted.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import jsonpatch
import kubernetes
import pytest
import yaml
from kubernetes.client import ApiException, CoreV1Api, CustomObjectsApi
from pydantic import AliasChoices

import port_bridge
from port_bridge.actionrun.model import ActionRunSpec
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_manifest
from port_bridge.mapping.actions import load_actions
from port_bridge.settings import PORT_API_HOSTS, Settings
from port_bridge_sandbox.kube import KubeApiServer

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUSTOMIZE = DEPLOY / "kustomize"
CONFIG_COMPONENT = KUSTOMIZE / "config"
VARIANTS = {
    "standard": KUSTOMIZE / "overlays" / "default",
    "single-pod": KUSTOMIZE / "overlays" / "single-pod",
}
OPTIONAL_COMPONENTS = (
    KUSTOMIZE / "components" / "network-policy",
    KUSTOMIZE / "components" / "service-monitor",
)
CREDENTIALS_SECRET = "port-bridge-port-credentials"
UID = 10001

# Read by the code itself rather than through Settings: the downward API's pod name (the Lease
# identity) and prometheus-client's multiprocess directory.
DIRECT_ENV = {"POD_NAME", "PROMETHEUS_MULTIPROC_DIR"}

Manifest = dict[str, Any]
# (namespace or "*" for cluster-wide, API group, resource, verb, resource name or "*")
Permission = tuple[str, str, str, str, str]
REQUEST_VERBS = ("get", "list", "watch", "create", "patch", "delete")


# --- a kustomize subset ---------------------------------------------------------------------


class Unsupported(Exception):
    """A kustomization uses something this renderer does not implement (or kustomize refuses)."""


_SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "components", "configMapGenerator", "patches"}


def render(directory: Path, *, extra_components: tuple[Path, ...] = ()) -> list[Manifest]:
    """The objects ``kustomize build directory`` would print (generated names without the hash);
    ``extra_components`` are applied as an overlay listing them would."""
    objects = _kustomize(directory, [], expect="Kustomization")
    for component in extra_components:
        objects = _kustomize(component, objects, expect="Component")
    _refuse_duplicates(objects)
    return objects


def _kustomize(directory: Path, objects: list[Manifest], *, expect: str) -> list[Manifest]:
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise Unsupported(f"{directory}: no kustomization.yaml")
    kustomization = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if kustomization.get("kind", "Kustomization") != expect:
        raise Unsupported(f"{path}: expected a {expect}, found {kustomization.get('kind')}")
    if unknown := set(kustomization) - _SUPPORTED_FIELDS:
        raise Unsupported(f"{path}: fields this renderer does not implement: {sorted(unknown)}")
    objects = list(objects)
    for entry in kustomization.get("resources") or []:
        target = directory / entry
        if target.is_dir():  # another kustomization: kustomize allows these anywhere
            objects += _kustomize(target, [], expect="Kustomization")
        else:
            objects += _documents(_inside(directory, target))
    for entry in kustomization.get("components") or []:
        objects = _kustomize(directory / entry, objects, expect="Component")
    for generator in kustomization.get("configMapGenerator") or []:
        objects.append(_configmap(directory, generator))
    for patch in kustomization.get("patches") or []:
        _patch(directory, objects, patch)
    return objects


def _inside(root: Path, path: Path) -> Path:
    """``path`` if kustomize's load restriction allows it (in or below ``root``, symlinks resolved)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise Unsupported(f"{path}: kustomize refuses files outside {root}")
    if not resolved.is_file():
        raise Unsupported(f"{path}: no such file")
    return resolved


def _documents(path: Path) -> list[Manifest]:
    with path.open(encoding="utf-8") as stream:
        return [document for document in yaml.safe_load_all(stream) if document]


def _configmap(directory: Path, generator: Mapping[str, Any]) -> Manifest:
    if unknown := set(generator) - {"name", "namespace", "options", "files"}:
        raise Unsupported(f"configMapGenerator {generator.get('name')}: {sorted(unknown)}")
    data: dict[str, str] = {}
    for entry in generator.get("files") or []:
        key, _, source = entry.rpartition("=")
        path = _inside(directory, directory / source)
        key = key or path.name
        if key in data:
            raise Unsupported(f"configMapGenerator {generator['name']}: key {key} twice")
        data[key] = path.read_text(encoding="utf-8")
    metadata: dict[str, Any] = {"name": generator["name"]}
    if generator.get("namespace"):
        metadata["namespace"] = generator["namespace"]
    if labels := (generator.get("options") or {}).get("labels"):
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _patch(directory: Path, objects: list[Manifest], patch: Mapping[str, Any]) -> None:
    text = patch["patch"] if "patch" in patch else _inside(directory, directory / patch["path"]).read_text()
    operations = yaml.safe_load(text)
    if not isinstance(operations, list):
        raise Unsupported(f"{directory}: only JSON 6902 patches are implemented")
    targets = [index for index, obj in enumerate(objects) if _selected(obj, patch.get("target") or {})]
    if not targets:  # kustomize would silently skip it; here it is a mistake worth failing on
        raise Unsupported(f"{directory}: patch target {patch.get('target')} matches nothing")
    for index in targets:
        objects[index] = jsonpatch.apply_patch(objects[index], operations)


def _selected(obj: Manifest, target: Mapping[str, Any]) -> bool:
    if unknown := set(target) - {"kind", "name", "labelSelector"}:
        raise Unsupported(f"patch target fields {sorted(unknown)}")
    if "kind" in target and obj["kind"] != target["kind"]:
        return False
    if "name" in target and obj["metadata"]["name"] != target["name"]:
        return False
    labels = obj["metadata"].get("labels") or {}
    for requirement in filter(None, (target.get("labelSelector") or "").split(",")):
        key, equals, value = requirement.partition("=")
        if not equals or value.startswith("="):
            raise Unsupported(f"label selector {requirement!r}: only key=value is implemented")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _refuse_duplicates(objects: list[Manifest]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        identity = (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if identity in seen:
            raise Unsupported(f"two objects {identity}: kustomize refuses duplicates")
        seen.add(identity)


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [obj for obj in objects if obj["kind"] == kind]


def by_identity(objects: list[Manifest]) -> dict[tuple[str, str, str], Manifest]:
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects}


def one(objects: list[Manifest], kind: str, name: str) -> Manifest:
    [found] = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    return found


# --- RBAC, evaluated the way the API server does (for the rule shapes used here) -------------


def permissions(objects: list[Manifest], namespace: str, service_account: str) -> set[Permission]:
    """Every (namespace, group, resource, verb, name) a ServiceAccount is granted."""
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in of_kind(objects, "Role")}
    cluster_roles = {r["metadata"]["name"]: r for r in of_kind(objects, "ClusterRole")}
    granted: set[Permission] = set()
    for binding in of_kind(objects, "RoleBinding") + of_kind(objects, "ClusterRoleBinding"):
        subjects = binding.get("subjects") or []
        if not any(
            s["kind"] == "ServiceAccount" and s["name"] == service_account and s.get("namespace") == namespace
            for s in subjects
        ):
            continue
        ref = binding["roleRef"]
        scope = binding["metadata"]["namespace"] if binding["kind"] == "RoleBinding" else "*"
        role = roles.get((scope, ref["name"])) if ref["kind"] == "Role" else cluster_roles.get(ref["name"])
        assert role is not None, f"{binding['kind']} {binding['metadata']['name']} binds a missing {ref}"
        for rule in role.get("rules") or []:
            granted |= {
                (scope, group, resource, verb, name)
                for group in rule.get("apiGroups") or []
                for resource in rule.get("resources") or []
                for verb in rule.get("verbs") or []
                for name in rule.get("resourceNames") or ["*"]
            }
    return granted


def mapped_request_kinds(shared_dir: Path) -> set[tuple[str, str]]:
    """(group, plural) of the request kind of every Promise the repository's actions map to."""
    kinds: set[tuple[str, str]] = set()
    names = {name for config in load_actions(REPO / "actions").values() for name in config.promises}
    for promise_name in sorted(names):
        own = REPO / "deploy" / "kratix" / "promises" / f"{promise_name}.yaml"
        path = own if own.exists() else shared_dir / "kratix" / "promises" / f"{promise_name}.yaml"
        api = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]["api"]["spec"]
        kinds.add((api["group"], api["names"]["plural"]))
    return kinds


def intake_permissions(namespace: str) -> set[Permission]:
    return {(namespace, "port-bridge.io", "actionruns", verb, "*") for verb in ("create", "get", "list")} | {
        ("*", "platform.kratix.io", "promises", "get", "*")
    }


def controller_permissions(
    namespace: str, lease: str, request_kinds: set[tuple[str, str]]
) -> set[Permission]:
    return (
        {
            (namespace, "port-bridge.io", "actionruns", v, "*")
            for v in ("get", "list", "watch", "patch", "delete")
        }
        | {(namespace, "port-bridge.io", "actionruns/status", v, "*") for v in ("get", "patch", "update")}
        | {(namespace, "coordination.k8s.io", "leases", "create", "*")}
        | {(namespace, "coordination.k8s.io", "leases", v, lease) for v in ("get", "update")}
        | {("*", "platform.kratix.io", "promises", v, "*") for v in ("get", "list", "watch")}
        | {("*", group, plural, v, "*") for group, plural in request_kinds for v in REQUEST_VERBS}
        | {("*", "batch", "jobs", v, "*") for v in ("get", "list")}
        | {("*", "", "pods", v, "*") for v in ("get", "list", "watch")}
        | {("*", "", "pods/log", "get", "*")}
    )


# --- workloads and their environment ----------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    deployment: Manifest

    @property
    def name(self) -> str:
        return str(self.deployment["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.deployment["metadata"]["namespace"])

    @property
    def pod(self) -> Manifest:
        return dict(self.deployment["spec"]["template"]["spec"])

    @property
    def pod_labels(self) -> dict[str, str]:
        return dict(self.deployment["spec"]["template"]["metadata"]["labels"])

    @property
    def container(self) -> Manifest:
        [container] = self.pod["containers"]
        return dict(container)

    @property
    def command(self) -> str:
        return str(self.container["args"][0])

    def env(self) -> dict[str, str]:
        """The container's environment as the pod would see it (Secret values are placeholders)."""
        assert "envFrom" not in self.container, "list variables one by one so they can be checked"
        values: dict[str, str] = {}
        for variable in self.container.get("env") or []:
            source = variable.get("valueFrom") or {}
            if "value" in variable:
                values[variable["name"]] = str(variable["value"])
            elif "fieldRef" in source:
                field = source["fieldRef"]["fieldPath"]
                values[variable["name"]] = {
                    "metadata.namespace": self.namespace,
                    "metadata.name": f"{self.name}-0",
                }[field]
            elif "secretKeyRef" in source:
                values[variable["name"]] = f"<{source['secretKeyRef']['key']}>"
            else:
                raise AssertionError(f"{self.name}: cannot resolve {variable}")
        return values


def workloads(objects: list[Manifest]) -> list[Workload]:
    return [Workload(deployment) for deployment in of_kind(objects, "Deployment")]


def settings_env_names() -> set[str]:
    """Every environment variable ``Settings`` reads (a field with aliases reads only those)."""
    prefix = str(Settings.model_config.get("env_prefix") or "")
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def settings_from(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``Settings()`` as the process would build it from exactly this environment."""
    for name in settings_env_names() | DIRECT_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    return {variant: render(directory) for variant, directory in VARIANTS.items()}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    return rendered[request.param]


@pytest.fixture(scope="module")
def standard(rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    return rendered["standard"]


@pytest.fixture(scope="module")
def single_pod(rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    return rendered["single-pod"]


@pytest.fixture(scope="module")
def request_kinds(shared_dir: Path) -> set[tuple[str, str]]:
    kinds = mapped_request_kinds(shared_dir)
    assert kinds, "the repository's actions map no Promise"
    return kinds


# --- rendering --------------------------------------------------------------------------------


def test_the_base_renders_on_its_own_without_configuration() -> None:
    base = render(KUSTOMIZE / "base")
    assert {w.name for w in workloads(base)} == {"port-bridge-intake", "port-bridge-controller"}
    assert of_kind(base, "ConfigMap") == []  # the configuration comes from a component
    assert (
        one(base, "CustomResourceDefinition", "actionruns.port-bridge.io")["spec"]["group"]
        == "port-bridge.io"
    )


def test_the_crd_is_the_one_in_deploy_crds(standard: list[Manifest]) -> None:
    [crd] = _documents(DEPLOY / "crds" / "actionruns.port-bridge.io.yaml")
    assert one(standard, "CustomResourceDefinition", "actionruns.port-bridge.io") == crd


def test_the_variants_run_the_expected_processes(rendered: dict[str, list[Manifest]]) -> None:
    shapes = {
        variant: sorted((w.name, w.command, w.deployment["spec"]["replicas"]) for w in workloads(objects))
        for variant, objects in rendered.items()
    }
    assert shapes == {
        "standard": [("port-bridge-controller", "controller", 2), ("port-bridge-intake", "serve", 2)],
        "single-pod": [("port-bridge", "run", 1)],
    }
    for objects in rendered.values():
        for workload in workloads(objects):
            assert workload.container["command"] == ["port-bridge"]


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl (which embeds kustomize) is not installed")
@pytest.mark.parametrize("with_components", [False, True], ids=["plain", "optional-components"])
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_renderer_agrees_with_kubectl_kustomize(name: str, with_components: bool, tmp_path: Path) -> None:
    """Where kubectl is installed, its kustomize must build the same objects (the generated
    ConfigMaps' hash suffixes aside) as this module's renderer, whose results the other tests check."""
    assert KUBECTL is not None
    components = OPTIONAL_COMPONENTS if with_components else ()
    overlay = {
        "resources": [os.path.relpath(VARIANTS[name], tmp_path)],
        "components": [os.path.relpath(component, tmp_path) for component in components],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
    built = subprocess.run(
        [KUBECTL, "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert built.returncode == 0, built.stderr
    ours = render(VARIANTS[name], extra_components=components)
    text = built.stdout
    for configmap in of_kind(ours, "ConfigMap"):  # kustomize names them <name>-<hash of the content>
        generated = configmap["metadata"]["name"]
        text, replaced = re.subn(rf"\b{re.escape(generated)}-[a-z0-9]{{10}}\b", generated, text)
        assert replaced == 1 + len(workloads(ours)), f"{generated}: the ConfigMap and every workload's volume"

    assert by_identity([doc for doc in yaml.safe_load_all(text) if doc]) == by_identity(ours)


def test_either_variant_applies_over_the_other_without_disturbing_it(
    standard: list[Manifest], single_pod: list[Manifest]
) -> None:
    ours, theirs = by_identity(standard), by_identity(single_pod)
    shared = ours.keys() & theirs.keys()
    assert {kind for kind, _, _ in shared} >= {
        "Namespace",
        "CustomResourceDefinition",
        "Service",
        "ClusterRole",
    }
    assert [key for key in shared if ours[key] != theirs[key]] == []  # same name, same object
    # During the switch the Service keeps serving: it selects the webhook pods of both variants.
    selector = ours["Service", "port-bridge", "port-bridge-intake"]["spec"]["selector"]
    serving = [w for w in workloads(standard) + workloads(single_pod) if w.command in ("serve", "run")]
    assert len(serving) == 2 and all(selector.items() <= w.pod_labels.items() for w in serving)


def test_the_renderer_refuses_what_kustomize_refuses(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "kustomization.yaml").write_text("resources: [../outside.yaml]\n")
    with pytest.raises(Unsupported, match="outside"):
        render(inner)


# --- containers -------------------------------------------------------------------------------


def test_every_container_is_locked_down(variant: list[Manifest]) -> None:
    assert workloads(variant)
    for workload in workloads(variant):
        pod = workload.pod
        assert pod["securityContext"]["runAsNonRoot"] is True, workload.name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, workload.name
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container.get("securityContext") or {}
            assert context.get("runAsNonRoot") is True, workload.name
            assert context.get("runAsUser") == UID and context.get("runAsGroup") == UID, workload.name
            assert context.get("readOnlyRootFilesystem") is True, workload.name
            assert context.get("allowPrivilegeEscalation") is False, workload.name
            assert context.get("capabilities") == {"drop": ["ALL"]}, workload.name
            assert context.get("seccompProfile") == {"type": "RuntimeDefault"}, workload.name
            assert "privileged" not in context or context["privileged"] is False, workload.name


def test_every_container_has_requests_and_limits(variant: list[Manifest]) -> None:
    for workload in workloads(variant):
        resources = workload.container.get("resources") or {}
        for kind in ("requests", "limits"):
            assert set(resources.get(kind) or {}) >= {"cpu", "memory"}, f"{workload.name} {kind}"


def test_tmp_is_the_only_writable_place_and_holds_the_metrics_dir(variant: list[Manifest]) -> None:
    for workload in workloads(variant):
        volumes = {volume["name"]: volume for volume in workload.pod["volumes"]}
        mounts = {mount["mountPath"]: mount for mount in workload.container["volumeMounts"]}
        assert "emptyDir" in volumes[mounts["/tmp"]["name"]], workload.name
        writable = [path for path, mount in mounts.items() if not mount.get("readOnly")]
        assert writable == ["/tmp"], workload.name
        metrics_dir = workload.env().get("PROMETHEUS_MULTIPROC_DIR")
        if workload.command in ("serve", "run"):  # gunicorn workers aggregate metrics there
            assert metrics_dir is not None and Path(metrics_dir).is_relative_to("/tmp"), workload.name


def test_service_links_cannot_leak_into_the_settings_prefix(variant: list[Manifest]) -> None:
    # A Service named port-bridge-<x> would give every pod PORT_BRIDGE_<X>_PORT=tcp://...
    for workload in workloads(variant):
        assert workload.pod.get("enableServiceLinks") is False, workload.name


def test_images_are_pinned_to_this_release(variant: list[Manifest]) -> None:
    for workload in workloads(variant):
        name, _, tag = workload.container["image"].rpartition(":")
        assert name.endswith("port-bridge") and tag == port_bridge.__version__, workload.container["image"]


def test_graceful_shutdown_leaves_the_controller_time_to_release_the_lease(
    variant: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    for workload in workloads(variant):
        if workload.command not in ("controller", "run"):
            continue
        settings = settings_from(workload.env(), monkeypatch)
        # A worker may be in the middle of a report to Port when SIGTERM comes; only after it
        # returns is the Lease released. Otherwise the successor waits out lease_seconds.
        needed = settings.port_retry_seconds + settings.lease_retry_seconds
        assert workload.pod["terminationGracePeriodSeconds"] > needed, workload.name


# --- probes, Service, PodDisruptionBudgets --------------------------------------------------


def test_intake_is_probed_on_its_health_endpoints(
    variant: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    for workload in workloads(variant):
        if workload.command not in ("serve", "run"):
            continue
        ports = {port["name"]: port["containerPort"] for port in workload.container["ports"]}
        assert workload.container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert workload.container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        bind = settings_from(workload.env(), monkeypatch).bind
        assert int(bind.rpartition(":")[2]) == ports["http"], (
            "gunicorn binds where the probes and Service look"
        )


def test_the_service_reaches_the_pods_that_serve_webhooks(variant: list[Manifest]) -> None:
    service = one(variant, "Service", "port-bridge-intake")
    [port] = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 80, "http")
    selected = [w for w in workloads(variant) if service["spec"]["selector"].items() <= w.pod_labels.items()]
    assert [w.command for w in selected] in (["serve"], ["run"])
    assert any(p["name"] == "http" for p in selected[0].container["ports"])


def test_disruption_budgets_cover_every_replicated_workload_and_no_single_one(
    variant: list[Manifest],
) -> None:
    budgets = of_kind(variant, "PodDisruptionBudget")
    for workload in workloads(variant):
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= workload.pod_labels.items()
        ]
        if workload.deployment["spec"]["replicas"] > 1:
            assert len(covering) == 1 and covering[0]["spec"]["maxUnavailable"] == 1, workload.name
        else:  # a budget on a single replica blocks node drains
            assert covering == [], workload.name


# --- RBAC -----------------------------------------------------------------------------------


def test_no_role_grants_wildcards_or_secrets(variant: list[Manifest]) -> None:
    roles = of_kind(variant, "Role") + of_kind(variant, "ClusterRole")
    assert roles
    for role in roles:
        assert "aggregationRule" not in role
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in (rule.get(field) or []), f"{role['metadata']['name']} {field}"
            assert not {"secrets", "pods/exec", "serviceaccounts/token"} & set(rule["resources"])
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])
            assert "nonResourceURLs" not in rule


def test_each_process_gets_exactly_what_it_uses(
    standard: list[Manifest], request_kinds: set[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_command = {w.command: w for w in workloads(standard)}
    intake, controller = by_command["serve"], by_command["controller"]
    assert intake.pod["serviceAccountName"] != controller.pod["serviceAccountName"]
    lease = settings_from(controller.env(), monkeypatch).lease_name
    assert permissions(standard, intake.namespace, intake.pod["serviceAccountName"]) == intake_permissions(
        intake.namespace
    )
    assert permissions(standard, controller.namespace, controller.pod["serviceAccountName"]) == (
        controller_permissions(controller.namespace, lease, request_kinds)
    )


def test_the_controller_manages_exactly_the_request_kinds_of_the_mapped_promises(
    standard: list[Manifest], request_kinds: set[tuple[str, str]]
) -> None:
    controller = one(standard, "ClusterRole", "port-bridge-controller")
    writable = {
        (group, resource)
        for rule in controller["rules"]
        if "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert writable == request_kinds, (
        "add (or remove) one rule per Promise in deploy/kustomize/base/rbac/controller.yaml"
    )


def test_the_controller_only_reads_pods_and_their_logs(standard: list[Manifest]) -> None:
    [controller] = [w for w in workloads(standard) if w.command == "controller"]
    granted = permissions(standard, controller.namespace, controller.pod["serviceAccountName"])
    core = {(resource, verb) for _, group, resource, verb, _ in granted if group == ""}
    assert core == {("pods", "get"), ("pods", "list"), ("pods", "watch"), ("pods/log", "get")}


def test_intake_cannot_touch_kratix_requests(
    standard: list[Manifest], request_kinds: set[tuple[str, str]]
) -> None:
    [intake] = [w for w in workloads(standard) if w.command == "serve"]
    granted = permissions(standard, intake.namespace, intake.pod["serviceAccountName"])
    assert granted
    assert not {(group, resource) for _, group, resource, _, _ in granted} & request_kinds
    assert not [p for p in granted if p[3] not in ("get", "list", "create")]  # it reads and records, no more


def test_the_single_pod_account_holds_both_processes_roles(
    single_pod: list[Manifest], request_kinds: set[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    [workload] = workloads(single_pod)
    lease = settings_from(workload.env(), monkeypatch).lease_name
    expected = intake_permissions(workload.namespace) | controller_permissions(
        workload.namespace, lease, request_kinds
    )
    assert permissions(single_pod, workload.namespace, workload.pod["serviceAccountName"]) == expected


def test_tokens_are_mounted_only_where_a_process_calls_the_api(variant: list[Manifest]) -> None:
    accounts = {
        (sa["metadata"]["namespace"], sa["metadata"]["name"]): sa for sa in of_kind(variant, "ServiceAccount")
    }
    assert accounts
    for account in accounts.values():
        assert account.get("automountServiceAccountToken") is False, account["metadata"]["name"]
    used = set()
    for workload in workloads(variant):
        key = (workload.namespace, workload.pod["serviceAccountName"])
        assert key in accounts, f"{workload.name} runs as a ServiceAccount that is not installed"
        assert workload.pod["automountServiceAccountToken"] is True
        assert permissions(variant, *key), f"{workload.name} mounts a token that grants nothing"
        used.add(key)
    assert used == set(accounts), "a ServiceAccount no workload uses"


# --- environment and settings ---------------------------------------------------------------


def test_every_variable_is_one_the_bridge_reads(variant: list[Manifest]) -> None:
    known = settings_env_names() | DIRECT_ENV
    for workload in workloads(variant):
        unknown = set(workload.env()) - known
        assert not unknown, f"{workload.name} sets variables nothing reads: {sorted(unknown)}"


def test_the_environment_parses_into_the_intended_settings(
    variant: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    for workload in workloads(variant):
        env = workload.env()
        settings = settings_from(env, monkeypatch)
        assert settings.namespace == workload.namespace
        assert settings.port_client_id == "<PORT_CLIENT_ID>"
        assert settings.port_client_secret.get_secret_value() == "<PORT_CLIENT_SECRET>"
        assert PORT_API_HOSTS[settings.port_api_url.removeprefix("https://")] == "eu"
        assert settings.config_dir == Path("/etc/port-bridge")
        if workload.command in ("controller", "run"):
            assert settings.identity == f"{workload.name}-0", "the Lease identity is the pod name"


def test_credentials_come_from_the_secret_the_manifests_do_not_contain(variant: list[Manifest]) -> None:
    assert of_kind(variant, "Secret") == []
    for workload in workloads(variant):
        references = {
            (v["name"], v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
            for v in workload.container["env"]
            if "secretKeyRef" in (v.get("valueFrom") or {})
        }
        assert references == {
            ("PORT_CLIENT_ID", CREDENTIALS_SECRET, "PORT_CLIENT_ID"),
            ("PORT_CLIENT_SECRET", CREDENTIALS_SECRET, "PORT_CLIENT_SECRET"),
        }, workload.name


def test_the_lease_rule_names_the_lease_the_controller_takes(
    variant: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    [controller] = [w for w in workloads(variant) if w.command in ("controller", "run")]
    lease = settings_from(controller.env(), monkeypatch).lease_name
    role = one(variant, "Role", "port-bridge-controller")
    named = [rule for rule in role["rules"] if "leases" in rule["resources"] and rule.get("resourceNames")]
    assert [rule["resourceNames"] for rule in named] == [[lease]]
    assert set(named[0]["verbs"]) == {"get", "update"}


# --- configuration --------------------------------------------------------------------------


def _load_sync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("port_bridge_deploy_sync", CONFIG_COMPONENT / "sync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_config_component_mirrors_the_repository() -> None:
    problems = _load_sync().differences(REPO, CONFIG_COMPONENT)
    assert problems == [], "run: python3 deploy/kustomize/config/sync.py"


def test_the_configuration_is_mounted_read_only_where_the_bridge_reads_it(
    variant: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    configmaps = {cm["metadata"]["name"]: cm for cm in of_kind(variant, "ConfigMap")}
    actions = configmaps["port-bridge-actions"]["data"]
    assert sorted(actions) == sorted(
        p.name for p in (REPO / "actions").iterdir() if p.suffix in (".yaml", ".json")
    )
    for workload in workloads(variant):
        config_dir = settings_from(workload.env(), monkeypatch).config_dir
        volumes = {v["name"]: v for v in workload.pod["volumes"]}
        mounted = {
            volumes[m["name"]]["configMap"]["name"]: m
            for m in workload.container["volumeMounts"]
            if "configMap" in volumes[m["name"]]
        }
        assert set(mounted) == set(configmaps), f"{workload.name} mounts every generated ConfigMap"
        for mount in mounted.values():
            assert mount["readOnly"] is True and "subPath" not in mount
            assert Path(mount["mountPath"]).is_relative_to(config_dir)
        assert Path(mounted["port-bridge-actions"]["mountPath"]) == config_dir / "actions"
        assert Path(mounted["port-bridge-blueprints"]["mountPath"]) == config_dir / "blueprints"
        assert (
            Path(mounted["port-bridge-scorecards-postgresql"]["mountPath"])
            == config_dir / "scorecards" / "postgresql"
        )


def _as_kubelet_mounts(configmap: Manifest, directory: Path) -> Path:
    """Lay ``configmap`` out as a kubelet does: files in a hidden timestamped directory, symlinked."""
    data_dir = directory / "..2026_01_01_00_00_00.000000001"
    data_dir.mkdir(parents=True)
    for key, value in configmap["data"].items():
        (data_dir / key).write_text(value, encoding="utf-8")
    (directory / "..data").symlink_to(data_dir.name)
    for key in configmap["data"]:
        (directory / key).symlink_to(Path("..data") / key)
    return directory


def test_the_mounted_actions_load_as_the_bridge_loads_them(standard: list[Manifest], tmp_path: Path) -> None:
    mounted = _as_kubelet_mounts(one(standard, "ConfigMap", "port-bridge-actions"), tmp_path / "actions")
    assert set(load_actions(mounted)) == set(load_actions(REPO / "actions"))


def test_sync_builds_a_component_for_another_platform(tmp_path: Path) -> None:
    source, target = tmp_path / "platform", tmp_path / "component"
    (source / "actions").mkdir(parents=True)
    (source / "scorecards" / "team_db").mkdir(parents=True)
    for name in ("create-redis.yaml", "delete-redis.yaml"):
        (source / "actions" / name).write_bytes((REPO / "actions" / name).read_bytes())
    (source / "scorecards" / "team_db" / "ready.json").write_text("{}")
    (source / "actions" / "notes.txt").write_text("not configuration")
    sync = _load_sync()
    assert sync.main(["--from", str(source), "--to", str(target)]) == 0
    assert sync.differences(source, target) == []
    objects = render(KUSTOMIZE / "base", extra_components=(target,))
    assert sorted(cm["metadata"]["name"] for cm in of_kind(objects, "ConfigMap")) == [
        "port-bridge-actions",
        "port-bridge-scorecards-team-db",
    ]
    for workload in workloads(objects):
        mounts = {m["mountPath"] for m in workload.container["volumeMounts"]}
        assert {"/etc/port-bridge/actions", "/etc/port-bridge/scorecards/team_db"} <= mounts
    with pytest.raises(SystemExit):  # --from and --to the same directory would delete the source
        sync.main(["--from", str(source), "--to", str(source)])
    assert (source / "actions" / "notes.txt").is_file()


# --- optional components --------------------------------------------------------------------


def test_the_network_policy_admits_only_the_served_ports(standard: list[Manifest]) -> None:
    objects = render(VARIANTS["standard"], extra_components=OPTIONAL_COMPONENTS)
    policy = one(objects, "NetworkPolicy", "port-bridge")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 8081}]
    selected = [
        w
        for w in workloads(objects)
        if policy["spec"]["podSelector"]["matchLabels"].items() <= w.pod_labels.items()
    ]
    assert len(selected) == len(workloads(standard)) == 2, "every port-bridge pod is isolated"
    for workload in selected:
        assert {p["containerPort"] for p in workload.container.get("ports", [])} <= {8080, 8081}


def test_the_service_monitor_scrapes_the_intake_service() -> None:
    for directory in VARIANTS.values():
        objects = render(directory, extra_components=OPTIONAL_COMPONENTS)
        monitor = one(objects, "ServiceMonitor", "port-bridge")
        service = one(objects, "Service", "port-bridge-intake")
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == [
            p["name"] for p in service["spec"]["ports"]
        ]
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


# --- Dockerfile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_stages(text: str) -> tuple[dict[str, str], list[list[Instruction]]]:
    """Global ARG defaults and the instructions of each stage (continuation lines joined)."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[list[Instruction]] = []
    for line in logical:
        keyword, _, arguments = line.strip().partition(" ")
        instruction = Instruction(keyword.upper(), " ".join(arguments.split()))
        if instruction.keyword == "FROM":
            stages.append([instruction])
        elif stages:
            stages[-1].append(instruction)
        elif instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name] = default
    return args, stages


def _env(stage: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for item in shlex.split(instruction.arguments):
                name, _, value = item.partition("=")
                values[name] = value
    return values


def test_the_dockerfile_runtime_stage_is_slim_and_non_root(variant: list[Manifest]) -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    args, stages = dockerfile_stages(text)
    assert len(stages) >= 2, "multi-stage: build tools stay in the build stage"
    images = {args.get(m, m) for stage in stages for m in re.findall(r"\$\{(\w+)\}", stage[0].arguments)}
    assert {image.partition("@")[0] for image in images} == {"python:3.11-slim"}  # pinned: test_image.py
    build, runtime = stages[0], stages[-1]
    [user] = [i.arguments for i in runtime if i.keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0, f"USER {user} must be numeric and not root"
    for workload in workloads(variant):  # the manifests run the image as its own user
        assert workload.container["securityContext"]["runAsUser"] == int(uid)
        assert workload.container["securityContext"]["runAsGroup"] == int(gid)
    build_name = build[0].arguments.split()[-1]
    copies = [i.arguments.split() for i in runtime if i.keyword in ("COPY", "ADD")]
    assert copies and all(c[0] == f"--from={build_name}" and c[1] == c[2] for c in copies), (
        "only the venv is copied"
    )
    venv = copies[0][1]
    assert any(i.keyword == "RUN" and f"venv --without-pip {venv}" in i.arguments for i in build)
    runtime_runs = " ".join(i.arguments for i in runtime if i.keyword == "RUN")
    assert not re.search(r"\b(pip|apt-get|apk|gcc|make)\b", runtime_runs), runtime_runs
    env = _env(runtime)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith(f"{venv}/bin:")
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    [entrypoint] = [i.arguments for i in runtime if i.keyword == "ENTRYPOINT"]
    [command] = [i.arguments for i in runtime if i.keyword == "CMD"]
    assert yaml.safe_load(entrypoint) == ["port-bridge"] and "port-bridge" in scripts
    assert yaml.safe_load(command) == ["serve"]
    assert "REQUESTS_CA_BUNDLE" in text, "custom CAs are documented"


def test_the_docker_context_keeps_what_the_build_copies() -> None:
    _, stages = dockerfile_stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    sources = [
        source.rstrip("/")
        for i in stages[0]
        if i.keyword == "COPY" and not i.arguments.startswith("--from")
        for source in i.arguments.split()[:-1]
    ]
    assert sources and set(sources) <= included
    assert all((REPO / source).exists() for source in sources)


# --- against the Kubernetes emulator ------------------------------------------------------------


SERVED_KINDS = {"Namespace", "CustomResourceDefinition", "ConfigMap"}  # of what deploy/ installs


def test_the_install_applies_and_serves_actionruns(
    kube: KubeApiServer, kube_client: kubernetes.client.ApiClient, standard: list[Manifest]
) -> None:
    order = ["Namespace", "CustomResourceDefinition", "ConfigMap"]
    served = sorted(
        (obj for obj in standard if obj["kind"] in SERVED_KINDS), key=lambda obj: order.index(obj["kind"])
    )
    assert {obj["kind"] for obj in served} == SERVED_KINDS
    for manifest in served:
        kube.apply(copy.deepcopy(manifest))
    namespace = one(standard, "Namespace", "port-bridge")["metadata"]["name"]
    actions = CoreV1Api(kube_client).read_namespaced_config_map("port-bridge-actions", namespace)
    assert set(actions.data or {}) == set(one(standard, "ConfigMap", "port-bridge-actions")["data"])

    custom = CustomObjectsApi(kube_client)
    run = actionrun_manifest(
        ActionRunSpec.model_validate(
            {
                "runId": "r_DeployCheck01",
                "action": "create-redis",
                "operation": "CREATE",
                "blueprint": "redis",
                "inputs": {"size": "small"},
                "request": {
                    "promise": "redis",
                    "apiVersion": "marketplace.kratix.io/v1alpha1",
                    "kind": "redis",
                    "plural": "redis",
                    "namespace": "default",
                    "name": "cache",
                    "spec": {"size": "small"},
                },
            }
        ),
        namespace=namespace,
    )
    group, version, plural = ACTIONRUNS.group, ACTIONRUNS.version, ACTIONRUNS.plural
    created: Manifest = cast(
        Manifest, custom.create_namespaced_custom_object(group, version, namespace, plural, run)
    )
    name = created["metadata"]["name"]
    custom.patch_namespaced_custom_object_status(
        group,
        version,
        namespace,
        plural,
        name,
        {"status": {"phase": "InProgress"}},
        _content_type="application/merge-patch+json",
    )
    stored: Manifest = cast(
        Manifest, custom.get_namespaced_custom_object(group, version, namespace, plural, name)
    )
    assert stored["spec"]["runId"] == "r_DeployCheck01"
    assert stored["spec"]["requests"][0]["spec"] == {"size": "small"}
    assert stored["status"] == {"phase": "InProgress"}

    without_run_id = {key: value for key, value in run["spec"].items() if key != "runId"}
    invalid = {**run, "metadata": {"name": "no-run-id", "namespace": namespace}, "spec": without_run_id}
    with pytest.raises(ApiException) as refused:  # the CRD's schema is enforced: spec.runId is required
        custom.create_namespaced_custom_object(group, version, namespace, plural, invalid)
    assert refused.value.status == 422
    assert "runId" in (refused.value.body or "")
