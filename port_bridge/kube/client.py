"""Connecting to the Kubernetes API: in-cluster when running in a pod, else ``KUBECONFIG``.

The configuration is built per client (never the library's global default), so tests and the
sandbox can point several clients at different servers in one process. A configuration that
cannot be loaded is a :class:`KubeConfigError` naming the variable and the file; a server that
cannot be reached is described with its URL (:func:`server_url`).
"""

from __future__ import annotations

import os
from pathlib import Path

import kubernetes
import urllib3
import yaml
from kubernetes.client import ApiException
from kubernetes.config import ConfigException

IN_CLUSTER_ENV = "KUBERNETES_SERVICE_HOST"
KUBECONFIG_ENV = "KUBECONFIG"
DEFAULT_KUBECONFIG = "~/.kube/config"
POOL_SIZE = 32  # watches hold connections open; workers and intake threads need their own


class KubeUnavailable(Exception):
    """The Kubernetes API could not be reached or did not answer in time."""


class KubeConfigError(Exception):
    """No usable configuration for the Kubernetes API; the message names the variable and the file."""


def api_client(*, kubeconfig: Path | None = None) -> kubernetes.client.ApiClient:
    """A client for the cluster this process runs in, or for ``kubeconfig`` (default: ``KUBECONFIG``)."""
    configuration = kubernetes.client.Configuration()
    configuration.connection_pool_maxsize = POOL_SIZE
    if kubeconfig is None and os.environ.get(IN_CLUSTER_ENV):
        loader = kubernetes.config.incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
            token_filename=kubernetes.config.incluster_config.SERVICE_TOKEN_FILENAME,
            cert_filename=kubernetes.config.incluster_config.SERVICE_CERT_FILENAME,
        )
        try:
            loader.load_and_set(configuration)  # type: ignore[no-untyped-call]
        except ConfigException as error:
            raise KubeConfigError(
                f"{IN_CLUSTER_ENV} is set but the in-cluster configuration cannot be loaded: {error}"
            ) from None
    else:
        _load_kubeconfig(kubeconfig, configuration)
    return kubernetes.client.ApiClient(configuration)


def _load_kubeconfig(kubeconfig: Path | None, configuration: kubernetes.client.Configuration) -> None:
    named = str(kubeconfig) if kubeconfig is not None else os.environ.get(KUBECONFIG_ENV)
    files = named or DEFAULT_KUBECONFIG
    paths = [Path(part).expanduser() for part in files.split(os.pathsep) if part]
    if not any(path.exists() for path in paths):
        if named:
            raise KubeConfigError(f"{KUBECONFIG_ENV}: {named} does not exist")
        raise KubeConfigError(
            f"{KUBECONFIG_ENV}: not set, and {paths[0]} does not exist "
            f"(set {KUBECONFIG_ENV}, or run in a pod)"
        )
    try:
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=os.pathsep.join(map(str, paths)), client_configuration=configuration
        )
    except OSError as error:
        raise KubeConfigError(
            f"{KUBECONFIG_ENV}: cannot read {error.filename or files}: {error.strerror}"
        ) from None
    except yaml.YAMLError as error:
        raise KubeConfigError(
            f"{KUBECONFIG_ENV}: {files} is not valid YAML ({_yaml_problem(error)})"
        ) from None
    except ConfigException as error:
        raise KubeConfigError(f"{KUBECONFIG_ENV}: {files}: {_one_line(str(error))}") from None
    except Exception as error:  # the loader fails on malformed structure with whatever it hit first
        raise KubeConfigError(
            f"{KUBECONFIG_ENV}: {files} is not a valid kubeconfig ({type(error).__name__}: {error})"
        ) from None


def server_url(client: kubernetes.client.ApiClient) -> str:
    """The API server's URL as this client reaches it, for messages."""
    host: str = client.configuration.host
    return host


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the API server is unreachable or overloaded (worth retrying later)."""
    if isinstance(error, KubeUnavailable | urllib3.exceptions.HTTPError | OSError | TimeoutError):
        return True
    return isinstance(error, ApiException) and (error.status in (0, 429) or error.status >= 500)


def describe_unavailable(error: BaseException) -> str:
    """Why a request got no answer, in a few words: urllib3 buries the cause in a long message."""
    if isinstance(error, ApiException):
        return f"answered {error.status} {error.reason}"
    reason = getattr(error, "reason", None)
    if isinstance(error, urllib3.exceptions.MaxRetryError) and isinstance(reason, BaseException):
        error = reason
    text = _one_line(str(error)).split("): ", 1)[-1]  # after the connection object's repr
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _yaml_problem(error: yaml.YAMLError) -> str:
    """The problem and its line, never the text around it (a kubeconfig holds credentials)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} at line {error.problem_mark.line + 1}"
    return type(error).__name__


def _one_line(text: str) -> str:
    return " ".join(text.split())
