"""``port-bridge serve``: intake under gunicorn.

Workers are separate processes (``gthread``: a few threads each), so each builds its own app,
Kubernetes client and Port client after the fork. Metrics from every worker are aggregated
through prometheus-client's multiprocess directory, which the command prepares before anything
imports prometheus-client (:mod:`.multiprocess`): this module imports it only in a hook that
runs once gunicorn is serving.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from port_bridge.logs import logging_config
from port_bridge.settings import Settings
from port_bridge.startup import LoginState, PortLogin


def build_app(settings: Settings, *, port_login: PortLogin) -> Any:
    """The intake app as a worker serves it, reporting unrecordable runs through the Port client.

    ``port_login`` is how Port answered the credentials when ``serve`` started; unless it
    accepted them, the worker keeps asking in the background and ``/readyz`` shows the answer.
    """
    from port_bridge.intake.app import create_app
    from port_bridge.intake.closing import PortRunCloser
    from port_bridge.port.client import PortClient

    port = PortClient(
        settings.port_api_url,
        client_id=settings.port_client_id,
        client_secret=settings.port_client_secret.get_secret_value(),
        max_retry_seconds=5.0,
    )
    secret = settings.port_client_secret.get_secret_value()
    login = PortLogin(port, secret=secret, state=port_login.state, detail=port_login.detail)
    if login.state is not LoginState.ACCEPTED:
        login.keep_trying(threading.Event())  # a daemon thread: ends when Port answers, or with the worker
    return create_app(settings, closer=PortRunCloser(port), port_login=login)


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class IntakeServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, *, port_login: PortLogin) -> None:
        self._settings = settings
        self._port_login = port_login
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        options: dict[str, Any] = {
            "bind": settings.bind,
            "workers": settings.workers,
            "worker_class": "gthread",
            "threads": settings.threads,
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "logconfig_dict": logging_config(level=settings.log_level, secrets=settings.secret_values),
            "child_exit": _child_exit,
            "proc_name": "port-bridge-intake",
            "control_socket_disable": True,  # gunicorn's control socket wants a writable $HOME
        }
        shared_memory = Path("/dev/shm")  # noqa: S108 -- gunicorn's heartbeat files belong in memory
        if shared_memory.is_dir():
            options["worker_tmp_dir"] = str(shared_memory)
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return build_app(self._settings, port_login=self._port_login)


def serve(settings: Settings, *, port_login: PortLogin) -> None:
    """Serve until gunicorn stops; ``port_login`` is the start-up check (workers read only its answer)."""
    IntakeServer(settings, port_login=port_login).run()
