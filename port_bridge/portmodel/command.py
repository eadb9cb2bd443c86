"""``port-bridge apply [--dry-run] [--prune]``: make Port's model what the files say, showing the diff.

The order of a run: settings and credentials (exit 2 naming the variable), the files with every
problem Port would refuse (exit 2 naming each file and field), Port's answer to the
credentials, a read of what Port has, the references the files make (exit 2 again, still before
any write), then the plan is printed and, unless ``--dry-run``, carried out. A run that finds
nothing to change writes nothing. Exit status 1 means Port refused or did not answer, or
``--prune`` left something it could not delete; what was done is printed either way.
"""

from __future__ import annotations

import sys
from typing import TextIO

from port_bridge.logs import configure_logging
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortError
from port_bridge.portmodel.checks import reference_problems
from port_bridge.portmodel.execute import ApplyFailed, Executor
from port_bridge.portmodel.files import KINDS, Model, ModelError, load_model
from port_bridge.portmodel.plan import Step, make_plan
from port_bridge.portmodel.records import Records
from port_bridge.portmodel.remote import read_snapshot
from port_bridge.portmodel.report import render_plan
from port_bridge.settings import ConfigurationError, Settings, env_name, settings_from_environment
from port_bridge.startup import PortLogin

MAX_RETRY_SECONDS = 30.0
NOTHING = "nothing was written"


def run_apply(*, dry_run: bool, prune: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``apply``; the plan goes to ``out`` (standard output), problems to ``err`` (standard error)."""
    out, err = out or sys.stdout, err or sys.stderr
    settings = settings_from_environment()
    secret = settings.port_client_secret.get_secret_value()
    configure_logging(level=settings.log_level, secrets=[secret])
    settings.require_port_credentials()
    model = _load(settings)
    with PortClient(
        settings.port_api_url,
        client_id=settings.port_client_id,
        client_secret=secret,
        max_retry_seconds=MAX_RETRY_SECONDS,
    ) as port:
        login = PortLogin(port, secret=secret)
        if not login.check():
            print(
                f"port-bridge: Port at {port.base_url} does not answer ({login.detail}); {NOTHING}", file=err
            )
            return 1
        return _apply(port, model, dry_run=dry_run, prune=prune, out=out, err=err)


def _apply(port: PortClient, model: Model, *, dry_run: bool, prune: bool, out: TextIO, err: TextIO) -> int:
    records = Records(port)
    try:
        snapshot = read_snapshot(port, model, records, prune=prune)
    except PortError as error:
        print(f"port-bridge: cannot read the model from Port: {error}; {NOTHING}", file=err)
        return 1
    plan = make_plan(model, snapshot, prune=prune)
    problems = reference_problems(model, snapshot.blueprints())
    if problems:
        raise ConfigurationError(f"{env_name('config_dir')}: {NOTHING}: {'; '.join(problems)}")
    print(f"port-bridge apply: {_describe(model)} -> {port.base_url}", file=out)
    for line in render_plan(plan):
        print(line, file=out)
    if dry_run:
        if plan.writes_anything:
            print(f"Dry run: {NOTHING}.", file=out)
        return 0
    if plan.writes_anything:
        executor = Executor(port, records)
        try:
            executor.run(plan)
        except ApplyFailed as failure:
            print(f"port-bridge: stopped after {failure.done} writes: {failure}", file=err)
            return 1
        print(f"Done: {executor.writes} writes.", file=out)
    blocked = len(plan.of(Step.BLOCKED))
    if blocked:
        print(f"port-bridge: --prune could not delete {blocked} object(s), see above", file=err)
        return 1
    return 0


def _load(settings: Settings) -> Model:
    try:
        return load_model(settings.config_dir)
    except ModelError as error:
        raise ConfigurationError(f"{env_name('config_dir')}: {NOTHING}: {error}") from None


def _describe(model: Model) -> str:
    counts = ", ".join(_count(len(model.of_kind(kind)), kind) for kind in KINDS)
    return f"{model.directory} ({counts})"


def _count(number: int, kind: str) -> str:
    return f"{number} {kind}" if number == 1 else f"{number} {kind}s"
