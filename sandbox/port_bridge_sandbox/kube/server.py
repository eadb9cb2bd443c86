"""Serving the Kubernetes emulator on 127.0.0.1 from a background thread.

The product and its tests use the synchronous ``kubernetes`` client, which must not share an
event loop with the server, so the emulator gets a thread and loop of its own. Stopping cancels
open watches first: aiohttp's graceful shutdown would otherwise wait on them for minutes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import kmock
import yaml

from port_bridge_sandbox.kube.crds import load_manifests
from port_bridge_sandbox.kube.emulator import DEFAULT_NAMESPACES, KubeEmulator
from port_bridge_sandbox.kube.podlogs import PodLogs

T = TypeVar("T")


class KubeApiServer:
    """A :class:`KubeEmulator` listening on ``host`` (a free port unless ``port`` is given)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        event_history: int = 10_000,
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
    ) -> None:
        self._host, self._port = host, port
        self._event_history, self._namespaces = event_history, tuple(namespaces)
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._emulator: KubeEmulator | None = None
        self._kmock_server: kmock.Server | None = None
        self._url = ""

    @property
    def url(self) -> str:
        return self._url

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def emulator(self) -> KubeEmulator:
        """The emulator itself; touch it only through :meth:`call` while the server runs (its
        ``faults`` and ``pod_logs`` are thread-safe and may be used from any thread)."""
        if self._emulator is None:
            raise RuntimeError("the Kubernetes emulator is not running")
        return self._emulator

    @property
    def pod_logs(self) -> PodLogs:
        """The containers' logs served by ``pods/log``: write to them from any thread."""
        return self.emulator.pod_logs

    def start(self, *, timeout: float = 10.0) -> Self:
        self._thread = threading.Thread(target=self._run, name="kube-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the Kubernetes emulator did not start in time")
        if self._startup_error is not None:
            raise RuntimeError("the Kubernetes emulator failed to start") from self._startup_error
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._loop is None or self._thread is None or not self._thread.is_alive():
            return

        async def shut_down() -> None:
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current and task is not self._main_task:
                    task.cancel()
            assert self._stop_requested is not None
            self._stop_requested.set()

        asyncio.run_coroutine_threadsafe(shut_down(), self._loop)
        self._thread.join(timeout)

    def drop_connections(self) -> None:
        """Cut every open connection (watches included), as a network blip would; state is kept."""
        if self._loop is None:
            return

        async def cut() -> None:
            assert self._kmock_server is not None
            runner = self._kmock_server.server.runner
            assert runner is not None and runner.server is not None
            for handler in runner.server.connections:
                if handler.transport is not None:
                    handler.transport.abort()

        asyncio.run_coroutine_threadsafe(cut(), self._loop).result(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` on the emulator's loop (where its state lives) and return the result."""
        if self._loop is None:
            raise RuntimeError("the Kubernetes emulator is not running")

        async def run() -> T:
            return function(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one object, as ``kubectl apply`` would."""
        return self.call(self.emulator.apply_manifest, manifest)

    def apply_file(self, path: Path) -> list[dict[str, Any]]:
        """Apply every document of a YAML file, for example a CRD or a Promise."""
        return [self.apply(manifest) for manifest in load_manifests(path)]

    def apply_files(self, paths: Iterable[Path]) -> list[dict[str, Any]]:
        return [applied for path in paths for applied in self.apply_file(path)]

    def kubeconfig(self, *, namespace: str = "default") -> dict[str, Any]:
        """A kubeconfig that points a client (or a subprocess via ``KUBECONFIG``) at this server."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.url}}],
            "users": [{"name": "sandbox", "user": {"token": "sandbox"}}],
            "contexts": [
                {
                    "name": "sandbox",
                    "context": {"cluster": "sandbox", "user": "sandbox", "namespace": namespace},
                }
            ],
            "current-context": "sandbox",
        }

    def write_kubeconfig(self, path: Path, *, namespace: str = "default") -> Path:
        path.write_text(yaml.safe_dump(self.kubeconfig(namespace=namespace)), encoding="utf-8")
        return path

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # surfaced to start() or, once running, ended by stop()
            if not self._ready.is_set():
                self._startup_error = error
                self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._main_task = asyncio.current_task()
        self._stop_requested = asyncio.Event()
        emulator = KubeEmulator(event_history=self._event_history, namespaces=self._namespaces)
        async with emulator, kmock.Server(emulator, host=self._host, port=self._port) as server:
            self._emulator, self._kmock_server = emulator, server
            self._url = f"http://{server.host}:{server.port}"
            self._ready.set()
            await self._stop_requested.wait()
