"""A Kubernetes API server on 127.0.0.1 for tests and the sandbox: kmock behind a stricter subclass."""

from port_bridge_sandbox.kube.emulator import KubeEmulator
from port_bridge_sandbox.kube.podlogs import PodLogs
from port_bridge_sandbox.kube.server import KubeApiServer

__all__ = ["KubeApiServer", "KubeEmulator", "PodLogs"]
