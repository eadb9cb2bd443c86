"""What both benchmarks need: a prepared Kubernetes emulator in a process of its own, clients that
count what they send, the bridge's commands as processes, and figures.

The emulator gets its own process because everything in one Python process shares one GIL: a
load generator (or the Kratix simulator and the Port emulator) in the same process as the API
server would slow the server down and be measured as the bridge's latency. The child serves the
emulator prepared like the ``cluster`` fixture (tests/conftest.py) and answers a few questions
over a pipe: how many requests it served (``requests_served``) and which watches are open, with
the client port of each, so a watch can be attributed to the process owning that port.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import urlsplit

import kubernetes
import requests

from port_bridge_sandbox.kube import KubeApiServer, KubeEmulator
from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.kube.paths import parse_resource_path
from port_bridge_sandbox.shared import locate_shared_dir

REPO = Path(__file__).resolve().parents[1]
BRIDGE_NAMESPACE = "port-bridge"
TEAM_NAMESPACES = ("team-a", "team-b")
MAPPED_PROMISES = ("postgresql", "redis", "namespace")  # as the `cluster` fixture installs them
ACTIONRUNS = ("port-bridge.io", "v1alpha1", "actionruns")
CallKey = tuple[str, str]  # (method, plural), as the emulator's requests_served counts them


# --- The Kubernetes emulator in a child process ---------------------------------------------


@dataclass(frozen=True)
class OpenWatch:
    """A watch request the emulator is still streaming, and the client's TCP port."""

    peer_port: int
    plural: str
    namespace: str | None


class _WatchTrackingEmulator(KubeEmulator):
    """The emulator, also remembering which watch streams are open (used in the child only)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.streaming: dict[int, OpenWatch] = {}
        self._watch_ids = itertools.count()

    async def _watch(self, request: Any, served: Any, target: Any) -> Any:
        transport = request.raw.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        watch_id = next(self._watch_ids)
        self.streaming[watch_id] = OpenWatch(peer[1] if peer else 0, target.plural, target.namespace)
        try:
            return await super()._watch(request, served, target)
        finally:
            del self.streaming[watch_id]


def _prepare_cluster(server: KubeApiServer, shared: Path) -> None:
    """What the ``cluster`` fixture does: Kratix's CRDs, the ActionRun CRD, namespaces, Promises."""
    for path in sorted((shared / "kratix" / "crds").glob("*.yaml")):
        server.apply_file(path)
    server.apply_file(REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml")
    for namespace in (BRIDGE_NAMESPACE, *TEAM_NAMESPACES):
        server.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for name in MAPPED_PROMISES:
        server.apply(next(load_manifests(shared / "kratix" / "promises" / f"{name}.yaml")))


def _serve_cluster(conn: Connection, shared: str) -> None:
    """The child: serve the prepared emulator and answer the parent's questions until "stop"."""
    from port_bridge_sandbox.kube import server as server_module

    vars(server_module)["KubeEmulator"] = _WatchTrackingEmulator  # what KubeApiServer builds, in this process
    server = KubeApiServer().start()
    try:
        _prepare_cluster(server, Path(shared))
        conn.send(("ok", server.url))
        while True:
            command, argument = conn.recv()
            if command == "stop":
                break
            try:
                conn.send(("ok", _answer(server, command, argument)))
            except Exception as error:
                conn.send(("error", repr(error)))
    finally:
        server.stop()
        conn.send(("ok", "stopped"))


def _answer(server: KubeApiServer, command: str, argument: Any) -> Any:
    emulator = server.emulator
    if command == "requests_served":
        return server.call(lambda: dict(emulator.requests_served))
    if command == "open_watches":
        assert isinstance(emulator, _WatchTrackingEmulator)
        return server.call(lambda: list(emulator.streaming.values()))
    if command == "internal_errors":
        return server.call(lambda: [repr(error) for error in emulator.internal_errors])
    if command == "write_kubeconfig":
        return str(server.write_kubeconfig(Path(argument)))
    raise ValueError(f"unknown command {command!r}")


class ClusterProcess:
    """The Kubernetes emulator, prepared like the ``cluster`` fixture, served by a child process."""

    def __init__(self, shared: Path | None = None) -> None:
        self._shared = shared or locate_shared_dir()
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self.url = ""

    def start(self) -> Self:
        context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve_cluster, args=(child, str(self._shared)), name="kube-emulator", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        self.url = self._receive(timeout=60)
        return self

    def stop(self) -> None:
        if self._conn is None or self._process is None:
            return
        with contextlib.suppress(OSError, EOFError), self._lock:
            self._conn.send(("stop", None))
            if self._conn.poll(15):
                self._conn.recv()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()
        self._conn = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self._process is not None and self._process.pid is not None
        return self._process.pid

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def requests_served(self) -> Counter[CallKey]:
        return Counter(self._ask("requests_served"))

    def open_watches(self) -> list[OpenWatch]:
        found: list[OpenWatch] = self._ask("open_watches")
        return found

    def internal_errors(self) -> list[str]:
        found: list[str] = self._ask("internal_errors")
        return found

    def write_kubeconfig(self, path: Path) -> Path:
        return Path(self._ask("write_kubeconfig", str(path)))

    def client(self) -> kubernetes.client.ApiClient:
        """A client of the official library for the benchmark's own reads."""
        configuration = kubernetes.client.Configuration()
        configuration.host = self.url
        return kubernetes.client.ApiClient(configuration)

    def _ask(self, command: str, argument: Any = None) -> Any:
        with self._lock:
            assert self._conn is not None, "the Kubernetes emulator is not running"
            self._conn.send((command, argument))
            return self._receive(timeout=60)

    def _receive(self, *, timeout: float) -> Any:
        assert self._conn is not None
        if not self._conn.poll(timeout):
            raise RuntimeError("the Kubernetes emulator process did not answer")
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"the Kubernetes emulator process failed: {value}")
        return value


class CountingApiClient(kubernetes.client.ApiClient):
    """An official client that counts (and times) the resource requests it sends.

    Keys are ``(method, plural)`` parsed from the path exactly as the emulator counts its
    ``requests_served``, so what in-process clients sent can be subtracted from what the
    emulator served to leave what other processes (the controller) asked for.
    """

    def __init__(self, url: str, *, pool_size: int = 32) -> None:
        configuration = kubernetes.client.Configuration()
        configuration.host = url
        configuration.connection_pool_maxsize = pool_size
        super().__init__(configuration)
        self.sent: Counter[CallKey] = Counter()
        self.seconds: defaultdict[CallKey, list[float]] = defaultdict(list)
        self._count_lock = threading.Lock()

    def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        target = parse_resource_path(urlsplit(url).path)
        if target is None:
            return super().call_api(method, url, *args, **kwargs)
        key = (method.upper(), target.plural)
        with self._count_lock:
            self.sent[key] += 1
        started = time.perf_counter()
        try:
            return super().call_api(method, url, *args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            with self._count_lock:
                self.seconds[key].append(elapsed)

    def snapshot(self) -> Counter[CallKey]:
        with self._count_lock:
            return Counter(self.sent)


def count_actionruns(client: kubernetes.client.ApiClient) -> int:
    api = kubernetes.client.CustomObjectsApi(client)
    listed = cast(
        dict[str, Any], api.list_namespaced_custom_object(*ACTIONRUNS[:2], BRIDGE_NAMESPACE, ACTIONRUNS[2])
    )
    return len(listed["items"])


# --- Processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bridge_command(*args: str) -> list[str]:
    """``port-bridge <args>`` from this virtualenv (``python -m port_bridge`` if not installed)."""
    script = Path(sys.executable).with_name("port-bridge")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "port_bridge", *args]


def bridge_env(
    *, kubeconfig: Path, port_url: str, client_id: str, client_secret: str, **extra: str
) -> dict[str, str]:
    """The environment a deployed bridge gets: Kubernetes, Port, its own PORT_BRIDGE_ settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORT_BRIDGE_", "PORT_CLIENT_", "KUBERNETES_")) and key != "PORT_API_URL"
    }
    env.update(
        KUBECONFIG=str(kubeconfig),
        PORT_CLIENT_ID=client_id,
        PORT_CLIENT_SECRET=client_secret,
        PORT_API_URL=port_url,
        PORT_BRIDGE_CONFIG_DIR=str(REPO),
        PORT_BRIDGE_NAMESPACE=BRIDGE_NAMESPACE,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_process(argv: Sequence[str], *, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a command with its output in ``log`` (a pipe nobody reads would block it)."""
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 -- our own commands, no shell
            list(argv), env=dict(env), stdout=output, stderr=subprocess.STDOUT, cwd=REPO
        )


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 20.0) -> int:
    """SIGTERM (a graceful stop), then SIGKILL if it does not exit in time; the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path, *, timeout: float = 60) -> None:
    """Poll ``url`` until it answers 200; fail with the process's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} never served: the process exited\n{tail(log)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def tcp_ports(pid: int, *, remote_port: int) -> set[int]:
    """Local ports of ``pid``'s established TCP connections to ``remote_port`` on this host.

    Read from /proc: the process's socket inodes (``/proc/<pid>/fd``), then the connections of
    its network namespace that own those inodes (``/proc/<pid>/net/tcp``).
    """
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for entry in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(entry)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def memory_mib(pid: int, field: str = "VmHWM") -> float | None:
    """A memory figure of a running process from /proc, in MiB: ``VmHWM`` (peak RSS), ``VmRSS``..."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- Figures -----------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; NaN if there are none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"
