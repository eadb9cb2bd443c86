"""The Helm chart (deploy/helm/port-bridge), linted and installed with Helm's own library.

Helm's library (helm-sdkpy) needs Python 3.12+, so it runs in .venv-helm (``make helm-venv``)
through tests/deploy/helm/driver.py; this module keeps everything else: the Kubernetes emulator
the chart is installed into (sandbox/port_bridge_sandbox/kube, serving the built-in kinds a cluster
has), reading every object back, and the checks, most of them the very functions
test_manifests.py applies to the kustomize manifests (RBAC against the code's calls, the
environment against ``Settings``), so the chart and the manifests cannot drift apart.

Without .venv-helm these tests skip with one line, except under CI=true, where they fail.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from port_bridge.mapping.actions import load_actions
from port_bridge.settings import PORT_API_HOSTS
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.kube.crds import ServedVersion
from tests.deploy.conftest import drive
from tests.deploy.test_manifests import (
    DIRECT_ENV,
    OPTIONAL_COMPONENTS,
    REPO,
    UID,
    VARIANTS,
    Manifest,
    Workload,
    _as_kubelet_mounts,
    controller_permissions,
    intake_permissions,
    mapped_request_kinds,
    of_kind,
    one,
    permissions,
    render,
    settings_env_names,
    settings_from,
    workloads,
)

CHART = REPO / "deploy" / "helm" / "port-bridge"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest with schemas.
KUBERNETES_VERSIONS = ["1.25", "1.37"]

# What a real cluster serves beyond the emulator's own kinds: stored as given; their shape is
# checked against Kubernetes' schemas by kubernetes-validate instead.
CLUSTER_KINDS = [
    ServedVersion(
        group, "v1", plural, kind, kind.lower(), namespaced=namespaced, status_subresource=False, schema=None
    )
    for group, plural, kind, namespaced in [
        ("", "services", "Service", True),
        ("", "serviceaccounts", "ServiceAccount", True),
        ("apps", "deployments", "Deployment", True),
        ("policy", "poddisruptionbudgets", "PodDisruptionBudget", True),
        ("rbac.authorization.k8s.io", "roles", "Role", True),
        ("rbac.authorization.k8s.io", "rolebindings", "RoleBinding", True),
        ("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", False),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", False),
        ("networking.k8s.io", "networkpolicies", "NetworkPolicy", True),
        ("networking.k8s.io", "ingresses", "Ingress", True),
    ]
]


def _operator_crd(kind: str, plural: str) -> Manifest:
    """The Prometheus Operator's CRD as far as the emulator needs it (the driver checks the shape)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.monitoring.coreos.com"},
        "spec": {
            "group": "monitoring.coreos.com",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


CUSTOM_ACTION = (REPO / "actions" / "create-redis.yaml").read_text(encoding="utf-8") + "\n# customised\n"
CUSTOM_VALUES: dict[str, Any] = {
    "image": {
        "repository": "ghcr.io/acme/port-bridge",
        "digest": "sha256:" + "ab" * 32,
        "pullPolicy": "Always",
    },
    "imagePullSecrets": [{"name": "ghcr-pull"}],
    "port": {
        "apiUrl": "https://api.us.port.io",
        "credentials": {"existingSecret": "", "clientId": "client-1", "clientSecret": "very-secret"},
    },
    "config": {
        "files": {
            "actions/create-redis.yaml": CUSTOM_ACTION,
            "scorecards/team_db/ready.json": '{"identifier": "ready"}\n',
        }
    },
    "settings": {
        "logLevel": "debug",
        "replayWindowSeconds": 120,
        "maxBodyBytes": 2097152,
        "kubeTimeoutSeconds": 5,
        "kubeRetrySeconds": 2,
        "portRetrySeconds": 8,
        "retention": "12h",
    },
    "intake": {
        "replicas": 3,
        "workers": 3,
        "threads": 8,
        "resources": {
            "requests": {"cpu": "250m", "memory": "300Mi"},
            "limits": {"cpu": "2", "memory": "1Gi"},
        },
        "extraEnv": [{"name": "NO_PROXY", "value": "10.0.0.1"}],
    },
    "controller": {
        "replicas": 1,
        "workers": 6,
        "resyncSeconds": 45,
        "lease": {"name": "platform-lease", "seconds": 20, "renewDeadlineSeconds": 12, "retrySeconds": 3},
        "terminationGracePeriodSeconds": 90,
    },
    "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy.example.com:3128"}],
    "extraVolumes": [{"name": "corporate-ca", "configMap": {"name": "corporate-ca"}}],
    "extraVolumeMounts": [{"name": "corporate-ca", "mountPath": "/etc/ssl/corporate"}],
    "podAnnotations": {"example.com/owner": "platform"},
    "podLabels": {"team": "platform"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["platform"]}]}
                ]
            }
        }
    },
    "priorityClassName": "platform-critical",
    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/port-bridge"}},
    "rbac": {
        "requestKinds": [{"promise": "jenkins", "group": "marketplace.kratix.io", "resource": "jenkins"}]
    },
    "service": {"port": 8000},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "host": "bridge.example.com",
        "tlsSecretName": "bridge-tls",
        "runPage": True,
        "annotations": {"nginx.ingress.kubernetes.io/whitelist-source-range": "3.251.12.205/32"},
    },
    "networkPolicy": {"enabled": True, "from": [{"namespaceSelector": {"matchLabels": {"name": "ingress"}}}]},
    "monitoring": {"enabled": True, "interval": "15s", "labels": {"release": "kube-prometheus-stack"}},
}
# Helm adds these to every object it creates; the API server adds the rest.
HELM_ANNOTATIONS = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace")
SERVER_METADATA = ("uid", "creationTimestamp", "generation", "resourceVersion", "managedFields")
HELM_LABELS = (
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
    "helm.sh/chart",
)


# --- installs into the Kubernetes emulator ------------------------------------------------------


@dataclass(frozen=True)
class Install:
    namespace: str
    values: dict[str, Any]
    rendered: list[Manifest]  # what Helm rendered and sent
    stored: list[Manifest]  # each of them read back from the API server
    crd: Manifest  # the ActionRun CRD as the API server holds it
    notes: str = ""  # NOTES.txt as Helm rendered it


@contextlib.contextmanager
def cluster(namespace: str) -> Iterator[KubeApiServer]:
    """The Kubernetes emulator serving what a cluster serves, with the namespace created (as the
    production guide has it created first, with its Pod Security label)."""
    server = KubeApiServer().start()
    try:
        for served in CLUSTER_KINDS:
            server.call(server.emulator.serve, served)
        server.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        yield server
    finally:
        server.stop()
    assert server.emulator.internal_errors == []


def object_url(server: KubeApiServer, obj: Manifest) -> str:
    served = server.call(server.emulator.resource_for, obj["apiVersion"], obj["kind"])
    assert served is not None, f"the cluster does not serve {obj['apiVersion']} {obj['kind']}"
    root = f"/apis/{served.group}/{served.version}" if served.group else f"/api/{served.version}"
    scope = f"/namespaces/{obj['metadata']['namespace']}" if served.namespaced else ""
    return f"{server.url}{root}{scope}/{served.plural}/{obj['metadata']['name']}"


def read_back(server: KubeApiServer, obj: Manifest) -> Manifest:
    answer = requests.get(object_url(server, obj), timeout=10)
    assert answer.status_code == 200, (
        f"{obj['kind']}/{obj['metadata']['name']}: {answer.status_code} {answer.text}"
    )
    stored: Manifest = answer.json()
    return stored


def install(python: Path, *, release: str, namespace: str, values: dict[str, Any]) -> Install:
    with tempfile.TemporaryDirectory() as scratch, cluster(namespace) as server:
        if (values.get("monitoring") or {}).get("enabled"):  # as the Prometheus Operator installs them
            server.apply(_operator_crd("ServiceMonitor", "servicemonitors"))
            server.apply(_operator_crd("PodMonitor", "podmonitors"))
        kubeconfig = server.write_kubeconfig(Path(scratch) / "kubeconfig")
        answer = drive(
            python,
            {
                "command": "install",
                "chart": str(CHART),
                "release": release,
                "namespace": namespace,
                "kubeconfig": str(kubeconfig),
                "values": values,
            },
        )
        assert answer["error"] is None, answer["error"]
        rendered = [doc for doc in yaml.safe_load_all(answer["manifest"]) if doc]
        stored = [read_back(server, obj) for obj in rendered]
        [crd_file] = yaml.safe_load_all((CHART / "crds" / "actionruns.port-bridge.io.yaml").read_text())
        crd = read_back(server, crd_file)
    return Install(namespace, values, rendered, stored, crd, notes=answer.get("notes") or "")


@pytest.fixture(scope="module")
def default_install(helm_python: Path) -> Install:
    return install(helm_python, release="port-bridge", namespace="port-bridge", values={})


@pytest.fixture(scope="module")
def custom_install(helm_python: Path) -> Install:
    return install(helm_python, release="platform", namespace="platform", values=CUSTOM_VALUES)


@pytest.fixture(scope="module", params=["default", "custom"])
def installed(request: pytest.FixtureRequest) -> Install:
    found: Install = request.getfixturevalue(f"{request.param}_install")
    return found


def without_server_fields(obj: Manifest) -> Manifest:
    cleaned = copy.deepcopy(obj)
    metadata = cleaned["metadata"]
    for field in SERVER_METADATA:
        metadata.pop(field, None)
    annotations = metadata.get("annotations") or {}
    for annotation in HELM_ANNOTATIONS:
        annotations.pop(annotation, None)
    if not annotations:
        metadata.pop("annotations", None)
    cleaned.pop("status", None)
    return cleaned


# --- Helm's lint and install ----------------------------------------------------------------------


@pytest.mark.parametrize("values", [{}, CUSTOM_VALUES], ids=["default", "custom"])
def test_helm_lints_the_chart(helm_python: Path, values: dict[str, Any]) -> None:
    answer = drive(helm_python, {"command": "lint", "chart": str(CHART), "values": values})
    assert answer["charts"] == 1
    # helm-sdkpy drops the messages' text (run `helm lint deploy/helm/port-bridge` to read them);
    # the only one left is lint's suggestion of an icon in Chart.yaml.
    assert answer["messages"] == [{"severity": "info", "path": "Chart.yaml"}]


def test_every_rendered_object_is_stored_as_helm_sent_it(installed: Install) -> None:
    assert len(installed.stored) == len(installed.rendered) > 0
    for sent, stored in zip(installed.rendered, installed.stored, strict=True):
        annotations = stored["metadata"].get("annotations") or {}
        assert annotations.get("meta.helm.sh/release-namespace") == installed.namespace, (
            "owned by the release"
        )
        assert without_server_fields(stored) == sent, f"{sent['kind']}/{sent['metadata']['name']}"


def test_the_crd_from_crds_is_installed_and_is_the_one_in_deploy_crds(installed: Install) -> None:
    [ours] = yaml.safe_load_all((REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml").read_text())
    assert without_server_fields(installed.crd) == ours


def test_every_object_validates_against_the_kubernetes_schemas(helm_python: Path, installed: Install) -> None:
    answer = drive(
        helm_python,
        {
            "command": "validate",
            "chart": str(CHART),
            "manifest": yaml.safe_dump_all(installed.rendered),
            "kubernetes": KUBERNETES_VERSIONS,
        },
    )
    assert answer["problems"] == []
    assert len(answer["validated"]) == len(installed.rendered) + 1  # and the CRD


def test_values_helm_refuses_name_the_value(helm_python: Path) -> None:
    refusals = {
        "/intake/replicas": {"intake": {"replicas": 0}},
        "/settings/logLevel": {"settings": {"logLevel": "verbose"}},
        "existingSecret or clientId": {"port": {"credentials": {"clientId": "id", "clientSecret": "s"}}},
        "clientId and clientSecret": {"port": {"credentials": {"existingSecret": ""}}},
        "ingress.host": {"ingress": {"enabled": True}},
        "secrets/x.yaml": {"config": {"files": {"secrets/x.yaml": "x: 1"}}},
        "no action files": {"config": {"shipped": False}},
        "imagTag": {"image": {"imagTag": "1.0"}},
    }
    with tempfile.TemporaryDirectory() as scratch, cluster("port-bridge") as server:
        kubeconfig = str(server.write_kubeconfig(Path(scratch) / "kubeconfig"))
        for expected, values in refusals.items():
            request = {
                "chart": str(CHART),
                "release": "port-bridge",
                "namespace": "port-bridge",
                "values": values,
            }
            answer = drive(helm_python, {"command": "install", "kubeconfig": kubeconfig, **request})
            assert answer["error"] is not None and expected in answer["error"], (values, answer["error"])
        assert server.call(lambda: server.emulator.requests_served["POST", "deployments"]) == 0


# --- the chart and the kustomize manifests say the same thing --------------------------------------


def _unlabelled(value: Any) -> Any:
    """``value`` without the labels Helm adds (which kustomize has no counterpart for)."""
    if isinstance(value, dict):
        return {
            key: _unlabelled(item)
            for key, item in value.items()
            if key not in HELM_LABELS and key not in ("checksum/config", "port-bridge.io/serves")
        }
    if isinstance(value, list):
        return [_unlabelled(item) for item in value]
    return value


def _pod_shape(workload: Workload) -> Manifest:
    pod = copy.deepcopy(workload.pod)
    container = pod.pop("containers")[0]
    container.pop("env")  # compared as settings, below
    shape: Manifest = _unlabelled(
        {
            "deployment": {k: v for k, v in workload.deployment["spec"].items() if k != "template"},
            "pod": pod,
            "container": container,
        }
    )
    return shape


@pytest.fixture(scope="module")
def kustomized() -> list[Manifest]:
    return render(VARIANTS["standard"])


def test_the_workloads_match_the_kustomize_manifests(
    default_install: Install, kustomized: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = {w.name: w for w in workloads(default_install.rendered)}
    theirs = {w.name: w for w in workloads(kustomized)}
    assert ours.keys() == theirs.keys() == {"port-bridge-intake", "port-bridge-controller"}
    for name, workload in ours.items():
        # Same containers, images, ports, probes, security contexts, resources, volumes, mounts...
        assert _pod_shape(workload) == _pod_shape(theirs[name]), name
        # ... and an environment that gives the same settings, from the same Secret.
        assert settings_from(workload.env(), monkeypatch) == settings_from(theirs[name].env(), monkeypatch)

        def secret_refs(env: list[Manifest]) -> list[Manifest]:
            return [v for v in env if "secretKeyRef" in (v.get("valueFrom") or {})]

        assert secret_refs(workload.container["env"]) == secret_refs(theirs[name].container["env"])


def test_the_other_objects_match_the_kustomize_manifests(
    default_install: Install, custom_install: Install, kustomized: list[Manifest]
) -> None:
    def spec(objects: list[Manifest], kind: str, name: str) -> Any:
        return _unlabelled(one(objects, kind, name)["spec"])

    for kind, name in [
        ("PodDisruptionBudget", "port-bridge-intake"),
        ("PodDisruptionBudget", "port-bridge-controller"),
    ]:
        assert spec(default_install.rendered, kind, name) == spec(kustomized, kind, name)
    ours, theirs = (
        one(default_install.rendered, "Service", "port-bridge-intake"),
        one(kustomized, "Service", "port-bridge-intake"),
    )
    assert (ours["spec"]["type"], ours["spec"]["ports"]) == (theirs["spec"]["type"], theirs["spec"]["ports"])
    assert of_kind(default_install.rendered, "Namespace") == [], (
        "the namespace is the installer's (docs say how to label it)"
    )
    # The optional parts: the same ports admitted, the same endpoint scraped.
    optional = render(VARIANTS["standard"], extra_components=OPTIONAL_COMPONENTS)
    [policy] = of_kind(custom_install.rendered, "NetworkPolicy")
    assert [rule["ports"] for rule in policy["spec"]["ingress"]] == [
        rule["ports"] for rule in one(optional, "NetworkPolicy", "port-bridge")["spec"]["ingress"]
    ]
    [monitor] = of_kind(custom_install.rendered, "ServiceMonitor")
    [expected] = one(optional, "ServiceMonitor", "port-bridge")["spec"]["endpoints"]
    assert monitor["spec"]["endpoints"] == [{**expected, "interval": "15s"}]


# --- RBAC: exactly what the code calls, as for the kustomize manifests --------------------------------


def test_rbac_grants_each_process_exactly_what_it_uses(
    default_install: Install, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = default_install.stored
    by_command = {w.command: w for w in workloads(objects)}
    intake, controller = by_command["serve"], by_command["controller"]
    lease = settings_from(controller.env(), monkeypatch).lease_name
    assert permissions(objects, intake.namespace, intake.pod["serviceAccountName"]) == intake_permissions(
        intake.namespace
    )
    assert permissions(objects, controller.namespace, controller.pod["serviceAccountName"]) == (
        controller_permissions(controller.namespace, lease, mapped_request_kinds(shared_dir))
    )


def test_rbac_follows_the_request_kinds_and_lease_in_the_values(
    custom_install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = custom_install.stored
    [controller] = [w for w in workloads(objects) if w.command == "controller"]
    lease = settings_from(controller.env(), monkeypatch).lease_name
    assert lease == "platform-lease"
    kinds = {(kind["group"], kind["resource"]) for kind in CUSTOM_VALUES["rbac"]["requestKinds"]}
    assert permissions(objects, "platform", controller.pod["serviceAccountName"]) == controller_permissions(
        "platform", lease, kinds
    )


def test_no_role_grants_wildcards_or_secrets(installed: Install) -> None:
    roles = of_kind(installed.stored, "Role") + of_kind(installed.stored, "ClusterRole")
    assert len(roles) == 4
    for role in roles:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in (rule.get(field) or []), role["metadata"]["name"]
            assert not {"secrets", "pods/exec", "serviceaccounts/token"} & set(rule["resources"])
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


# --- what the values do ------------------------------------------------------------------------------


def test_every_container_is_locked_down(installed: Install) -> None:
    for workload in workloads(installed.stored):
        assert workload.pod["securityContext"]["runAsNonRoot"] is True
        context = workload.container["securityContext"]
        assert (
            context["runAsUser"],
            context["readOnlyRootFilesystem"],
            context["allowPrivilegeEscalation"],
        ) == (
            UID,
            True,
            False,
        )
        assert context["capabilities"] == {"drop": ["ALL"]}
        writable = [m["mountPath"] for m in workload.container["volumeMounts"] if not m.get("readOnly")]
        assert writable == ["/tmp"], "extra mounts are read-only too"
        assert workload.pod["enableServiceLinks"] is False


def test_custom_values_reach_both_pods(custom_install: Install) -> None:
    values = CUSTOM_VALUES
    found = {w.command: w for w in workloads(custom_install.stored)}
    assert {name: w.deployment["spec"]["replicas"] for name, w in found.items()} == {
        "serve": 3,
        "controller": 1,
    }
    assert found["serve"].container["resources"] == values["intake"]["resources"]
    assert found["controller"].pod["terminationGracePeriodSeconds"] == 90
    for workload in found.values():
        pod, container = workload.pod, workload.container
        assert container["image"] == f"ghcr.io/acme/port-bridge@{values['image']['digest']}"
        assert container["imagePullPolicy"] == "Always"
        for key in ("imagePullSecrets", "nodeSelector", "tolerations", "affinity", "priorityClassName"):
            assert pod[key] == values[key], key
        metadata = workload.deployment["spec"]["template"]["metadata"]
        assert metadata["labels"]["team"] == "platform"
        assert metadata["annotations"]["example.com/owner"] == "platform"
        assert {"name": "corporate-ca", "configMap": {"name": "corporate-ca"}} in pod["volumes"]
        assert {"name": "corporate-ca", "mountPath": "/etc/ssl/corporate", "readOnly": True} in container[
            "volumeMounts"
        ]
        names = [variable["name"] for variable in container["env"]]
        expected_extra = ["HTTPS_PROXY", "NO_PROXY"] if workload.command == "serve" else ["HTTPS_PROXY"]
        assert names[-len(expected_extra) :] == expected_extra, "extra variables come after the chart's own"
    budgets = {b["metadata"]["name"] for b in of_kind(custom_install.stored, "PodDisruptionBudget")}
    assert budgets == {"platform-port-bridge-intake"}, (
        "no budget on a single controller (it would block drains)"
    )
    for account in of_kind(custom_install.stored, "ServiceAccount"):
        assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws")
        assert account["automountServiceAccountToken"] is False


def test_the_environment_gives_the_settings_the_values_say(
    installed: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = installed.values == CUSTOM_VALUES
    for workload in workloads(installed.stored):
        env = workload.env()
        extra = (
            {v["name"] for v in CUSTOM_VALUES["extraEnv"] + CUSTOM_VALUES["intake"]["extraEnv"]}
            if custom
            else set()
        )
        assert set(env) - extra <= settings_env_names() | DIRECT_ENV, "only variables the bridge reads"
        settings = settings_from({k: v for k, v in env.items() if k not in extra}, monkeypatch)
        assert settings.namespace == installed.namespace
        assert settings.config_dir == Path("/etc/port-bridge")
        assert PORT_API_HOSTS[settings.port_api_url.removeprefix("https://")] == ("us" if custom else "eu")
        assert settings.log_level == ("DEBUG" if custom else "INFO")
        assert settings.kube_timeout_seconds == (5 if custom else 10)
        if workload.command == "serve":
            names = ["workers", "threads", "replay_window_seconds", "max_body_bytes", "kube_retry_seconds"]
            wanted = [3, 8, 120, 2097152, 2] if custom else [2, 4, 300, 1048576, 3]
            assert workload.env()["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
        else:
            assert settings.identity == f"{workload.name}-0", "the Lease identity is the pod name"
            names = [
                "controller_workers",
                "resync_seconds",
                "lease_seconds",
                "lease_renew_deadline_seconds",
                "lease_retry_seconds",
                "retention_seconds",
                "port_retry_seconds",
            ]
            wanted = [6, 45, 20, 12, 3, 12 * 3600, 8] if custom else [4, 30, 15, 10, 2, 7 * 86400, 5]
            # The run page is routed, so the Port run links to it.
            link = "https://bridge.example.com/runs/{run_id}" if custom else None
            assert settings.link_template == link
        assert settings.model_dump(include=set(names)) == dict(zip(names, wanted, strict=True))


def test_credentials_come_from_the_named_secret_or_the_one_the_chart_writes(installed: Install) -> None:
    secrets = of_kind(installed.stored, "Secret")
    if installed.values == CUSTOM_VALUES:
        [secret] = secrets
        name = secret["metadata"]["name"]
        assert name == "platform-port-bridge-port-credentials"
        data = secret.get("stringData") or {
            k: base64.b64decode(v).decode() for k, v in secret["data"].items()
        }
        assert data == {"PORT_CLIENT_ID": "client-1", "PORT_CLIENT_SECRET": "very-secret"}
    else:
        assert secrets == [], "the default names a Secret the installer creates (deploy/README.md)"
        name = "port-bridge-port-credentials"
    for workload in workloads(installed.stored):
        assert {
            (v["name"], v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
            for v in workload.container["env"]
            if "secretKeyRef" in (v.get("valueFrom") or {})
        } == {("PORT_CLIENT_ID", name, "PORT_CLIENT_ID"), ("PORT_CLIENT_SECRET", name, "PORT_CLIENT_SECRET")}


def test_the_ingress_exposes_only_the_webhook_and_the_run_page(
    default_install: Install, custom_install: Install
) -> None:
    assert of_kind(default_install.stored, "Ingress") == []
    [ingress] = of_kind(custom_install.stored, "Ingress")
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "bridge.example.com"
    assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [
        ("/webhook", "Exact"),
        ("/runs/", "Prefix"),
    ]
    service = one(custom_install.stored, "Service", "platform-port-bridge-intake")
    for path in rule["http"]["paths"]:
        assert path["backend"]["service"] == {"name": "platform-port-bridge-intake", "port": {"name": "http"}}
    assert [p["port"] for p in service["spec"]["ports"]] == [8000]
    assert ingress["spec"]["tls"] == [{"hosts": ["bridge.example.com"], "secretName": "bridge-tls"}]
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_the_monitors_scrape_intake_and_the_controller(custom_install: Install) -> None:
    objects = custom_install.stored
    [service_monitor] = of_kind(objects, "ServiceMonitor")
    [pod_monitor] = of_kind(objects, "PodMonitor")
    service = one(objects, "Service", "platform-port-bridge-intake")
    assert service_monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    [controller] = [w for w in workloads(objects) if w.command == "controller"]
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= controller.pod_labels.items()
    [endpoint] = pod_monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] in {p["name"] for p in controller.container["ports"]}
    for monitor in (service_monitor, pod_monitor):
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    [policy] = of_kind(objects, "NetworkPolicy")
    selected = [
        w
        for w in workloads(objects)
        if policy["spec"]["podSelector"]["matchLabels"].items() <= w.pod_labels.items()
    ]
    assert (
        len(selected) == 2 and policy["spec"]["ingress"][0]["from"] == CUSTOM_VALUES["networkPolicy"]["from"]
    )


def test_the_configuration_is_mounted_where_the_bridge_reads_it(installed: Install, tmp_path: Path) -> None:
    configmaps = {cm["metadata"]["name"]: cm for cm in of_kind(installed.stored, "ConfigMap")}
    prefix = "port-bridge" if installed.values != CUSTOM_VALUES else "platform-port-bridge"
    tree: dict[str, str] = {}
    for workload in workloads(installed.stored):
        volumes = {v["name"]: v for v in workload.pod["volumes"]}
        mounted = {
            m["mountPath"]: configmaps[volumes[m["name"]]["configMap"]["name"]]
            for m in workload.container["volumeMounts"]
            if m["mountPath"].startswith("/etc/port-bridge/")
        }
        files = {f"{path}/{key}": text for path, cm in mounted.items() for key, text in cm["data"].items()}
        assert not tree or files == tree, "both processes see the same files"
        tree = files
    repo_files = {
        f"/etc/port-bridge/{path.relative_to(REPO).as_posix()}": path.read_text(encoding="utf-8")
        for section in ("actions", "blueprints", "scorecards")
        for path in sorted((REPO / section).rglob("*"))
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json")
    }
    if installed.values == CUSTOM_VALUES:
        repo_files["/etc/port-bridge/actions/create-redis.yaml"] = CUSTOM_ACTION
        repo_files["/etc/port-bridge/scorecards/team_db/ready.json"] = '{"identifier": "ready"}\n'
        assert f"{prefix}-scorecards-team-db" in configmaps
    assert tree == repo_files
    actions = _as_kubelet_mounts(configmaps[f"{prefix}-actions"], tmp_path / "actions")
    assert set(load_actions(actions)) == set(load_actions(REPO / "actions"))


def test_a_configuration_change_rolls_the_pods(default_install: Install, custom_install: Install) -> None:
    def checksums(install: Install) -> set[str]:
        return {
            w.deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            for w in workloads(install.stored)
        }

    [default], [custom] = checksums(default_install), checksums(custom_install)
    assert default != custom
