"""Starting the production processes: ``serve``, ``controller`` and ``run``.

Each checks its configuration before doing anything else (:mod:`port_bridge.startup`), so a
misconfigured pod fails at start with one clear line instead of at the first developer's click.
``serve`` prepares prometheus-client's multiprocess directory first of all, before anything
imports prometheus-client, and removes it when it stops.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from types import FrameType

import kubernetes

from port_bridge.intake.multiprocess import MULTIPROC_ENV, prepare_metrics_dir
from port_bridge.logs import configure_logging
from port_bridge.mapping.actions import ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.scorecards.model import Scorecard
from port_bridge.settings import (
    ConfigurationError,
    Settings,
    env_name,
    settings_from_environment,
    split_address,
)
from port_bridge.startup import PortLogin, check_actions, check_bind, check_scorecards, connect_kubernetes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """What the start-up checks produced, for the process to use rather than build again."""

    settings: Settings
    kube: kubernetes.client.ApiClient
    actions: dict[str, ActionConfig]
    scorecards: dict[str, list[Scorecard]]


def check_configuration(*, binds: tuple[str, ...]) -> Checked:
    """Every check that does not need Port; raises :class:`ConfigurationError` with the reason."""
    settings = settings_from_environment()
    configure_logging(level=settings.log_level, secrets=settings.secret_values)
    settings.require_port_credentials()
    actions = check_actions(settings)
    scorecards = check_scorecards(settings, actions)
    for field in binds:
        check_bind(field, getattr(settings, field))
    return Checked(settings, connect_kubernetes(settings), actions, scorecards)


def port_client(settings: Settings, *, max_retry_seconds: float) -> PortClient:
    return PortClient(
        settings.port_api_url,
        client_id=settings.port_client_id,
        client_secret=settings.port_client_secret.get_secret_value(),
        max_retry_seconds=max_retry_seconds,
    )


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, for a graceful shutdown (the Lease is released)."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received signal %d; shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def serve() -> int:
    try:
        metrics_dir = prepare_metrics_dir()  # before anything imports prometheus-client
    except OSError as error:
        raise ConfigurationError(
            f"{MULTIPROC_ENV}: cannot create a directory in {error.filename}: {error.strerror}"
        ) from None
    try:
        checked = check_configuration(binds=("bind",))
        checked.kube.close()  # type: ignore[no-untyped-call]  # workers build their own after the fork
        settings = checked.settings
        with port_client(settings, max_retry_seconds=0) as port:
            login = PortLogin(port, secret=settings.port_client_secret.get_secret_value())
            login.check()
        from port_bridge.intake.server import serve as serve_intake

        log.info("intake starting on %s", settings.bind)
        serve_intake(settings, port_login=login)
    finally:
        metrics_dir.remove()
    return 0


def controller() -> int:
    _metrics_in_this_process()
    checked = check_configuration(binds=("controller_bind",))
    settings = checked.settings
    stop = stop_on_signals()
    with port_client(settings, max_retry_seconds=settings.port_retry_seconds) as port:
        refusals = _log_in(port, settings, stop)
        _run_controller(checked, port, stop)
    return _exit_code(refusals)


def run_both() -> int:
    """Intake (gunicorn, a child process) and the controller (here) in one pod."""
    intake_env = os.environ.copy()
    _metrics_in_this_process()
    checked = check_configuration(binds=("bind", "controller_bind"))
    settings = checked.settings
    _check_distinct_ports(settings)
    stop = stop_on_signals()
    with port_client(settings, max_retry_seconds=settings.port_retry_seconds) as port:
        refusals = _log_in(port, settings, stop)
        intake = subprocess.Popen([sys.executable, "-m", "port_bridge", "serve"], env=intake_env)
        _stop_when_exits(intake, stop)
        try:
            _run_controller(checked, port, stop)
        finally:
            if intake.poll() is None:
                intake.terminate()
                try:
                    intake.wait(30)
                except subprocess.TimeoutExpired:
                    intake.kill()
    if intake.returncode not in (0, -signal.SIGTERM):
        log.error("intake exited with %s", intake.returncode)
        return 2 if intake.returncode == 2 else 1
    return _exit_code(refusals)


def _log_in(port: PortClient, settings: Settings, stop: threading.Event) -> list[ConfigurationError]:
    """Ask Port for a token; a refusal ends the process now, or, if Port does not answer yet, once it does."""
    refusals: list[ConfigurationError] = []
    login = PortLogin(port, secret=settings.port_client_secret.get_secret_value())
    if not login.check():

        def give_up(refusal: ConfigurationError) -> None:
            refusals.append(refusal)
            stop.set()

        login.keep_trying(stop, on_refused=give_up)
    return refusals


def _run_controller(checked: Checked, port: PortClient, stop: threading.Event) -> None:
    from port_bridge.controller.main import run_controller

    log.info("controller %s starting", checked.settings.identity)
    run_controller(
        checked.settings,
        stop,
        api_client=checked.kube,
        port=port,
        actions=checked.actions,
        scorecards=checked.scorecards,
    )


def _exit_code(refusals: list[ConfigurationError]) -> int:
    if refusals:
        raise refusals[0]
    return 0


def _stop_when_exits(process: subprocess.Popen[bytes], stop: threading.Event) -> None:
    def watch() -> None:
        process.wait()
        stop.set()

    threading.Thread(target=watch, name="intake-watch", daemon=True).start()


def _metrics_in_this_process() -> None:
    """The controller's metrics live in its own registry; prometheus-client must not write files for them.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (manifests set it for intake), prometheus-client would
    keep every value of this one process in files in that directory and leave them there.
    """
    os.environ.pop(MULTIPROC_ENV, None)


def _check_distinct_ports(settings: Settings) -> None:
    if not settings.controller_bind or settings.bind.startswith(("unix:", "fd://")):
        return
    intake_port, controller_port = split_address(settings.bind)[1], split_address(settings.controller_bind)[1]
    if intake_port == controller_port != 0:
        raise ConfigurationError(
            f"{env_name('controller_bind')}: must use another port than {env_name('bind')} ({intake_port}): "
            "`run` serves both in one pod"
        )
