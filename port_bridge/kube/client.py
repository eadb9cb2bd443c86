"""Connecting to the Kubernetes API: in-cluster when running in a pod, else ``KUBECONFIG``.

The configuration is built per client (never the library's global default), so tests and the
sandbox can point several clients at different servers in one process.
"""

from __future__ import annotations

import os
from pathlib import Path

import kubernetes
import urllib3
from kubernetes.client import ApiException
from kubernetes.config import ConfigException

IN_CLUSTER_ENV = "KUBERNETES_SERVICE_HOST"
POOL_SIZE = 32  # watches hold connections open; workers and intake threads need their own


class KubeUnavailable(Exception):
    """The Kubernetes API could not be reached or did not answer in time."""


def api_client(*, kubeconfig: Path | None = None) -> kubernetes.client.ApiClient:
    """A client for the cluster this process runs in, or for ``kubeconfig`` (default: ``KUBECONFIG``)."""
    configuration = kubernetes.client.Configuration()
    configuration.connection_pool_maxsize = POOL_SIZE
    if kubeconfig is None and os.environ.get(IN_CLUSTER_ENV):
        loader = kubernetes.config.incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
            token_filename=kubernetes.config.incluster_config.SERVICE_TOKEN_FILENAME,
            cert_filename=kubernetes.config.incluster_config.SERVICE_CERT_FILENAME,
        )
        loader.load_and_set(configuration)  # type: ignore[no-untyped-call]
    else:
        path = kubeconfig or Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()
        try:
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(path), client_configuration=configuration
            )
        except (ConfigException, OSError) as error:
            raise KubeUnavailable(f"cannot load a kubeconfig from {path}: {error}") from error
    return kubernetes.client.ApiClient(configuration)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the API server is unreachable or overloaded (worth retrying later)."""
    if isinstance(error, KubeUnavailable | urllib3.exceptions.HTTPError | OSError | TimeoutError):
        return True
    return isinstance(error, ApiException) and (error.status in (0, 429) or error.status >= 500)
