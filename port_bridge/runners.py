"""Starting the production processes: ``serve``, ``controller`` and ``run``.

Each validates its configuration before doing anything else (settings, Port credentials, the
action files), so a misconfigured pod fails at start with one clear message instead of at the
first developer's click.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

from pydantic import ValidationError

from port_bridge.logs import configure_logging
from port_bridge.mapping.actions import ActionConfigError, load_actions
from port_bridge.settings import ConfigurationError, Settings

log = logging.getLogger(__name__)


def load_settings() -> Settings:
    """Settings from the environment, checked; raises :class:`ConfigurationError` with the reason."""
    try:
        settings = Settings()
        settings.require_port_credentials()
        load_actions(settings.actions_dir)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid settings: {problems}") from None
    except (ValueError, ActionConfigError) as error:
        raise ConfigurationError(str(error)) from None
    configure_logging(level=settings.log_level, secrets=[settings.port_client_secret.get_secret_value()])
    return settings


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
    from port_bridge.intake.server import prepare_metrics_dir

    prepare_metrics_dir()  # before anything imports prometheus-client
    settings = load_settings()
    from port_bridge.intake.server import serve as serve_intake

    log.info("intake starting on %s", settings.bind)
    serve_intake(settings)
    return 0


def controller() -> int:
    settings = load_settings()
    from port_bridge.controller.main import run_controller

    stop = stop_on_signals()
    log.info("controller %s starting", settings.identity)
    run_controller(settings, stop)
    return 0


def run_both() -> int:
    """Intake (gunicorn, a child process) and the controller (here) in one pod."""
    settings = load_settings()
    from port_bridge.controller.main import run_controller

    stop = stop_on_signals()
    intake = subprocess.Popen([sys.executable, "-m", "port_bridge", "serve"], env=os.environ.copy())

    def stop_when_intake_exits() -> None:
        intake.wait()
        stop.set()

    threading.Thread(target=stop_when_intake_exits, name="intake-watch", daemon=True).start()
    try:
        run_controller(settings, stop)
    finally:
        if intake.poll() is None:
            intake.terminate()
            try:
                intake.wait(30)
            except subprocess.TimeoutExpired:
                intake.kill()
    if intake.returncode not in (0, -signal.SIGTERM):
        log.error("intake exited with %s", intake.returncode)
        return 1
    return 0
