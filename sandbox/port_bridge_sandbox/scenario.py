"""The demo's story: the actions ``port-bridge sandbox`` clicks, how Kratix treats each request, how
each run should end, and the narration of one run as the developer sees it in Port."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from port_bridge_sandbox.kratix import Behaviour, KratixSimulator
from port_bridge_sandbox.port import PortEmulator


@dataclass(frozen=True)
class Click:
    """One developer action in Port, how Kratix treats its request, and how its run should end."""

    title: str
    action: str
    inputs: dict[str, Any]
    expect: str
    entity: str | None = None
    kratix: Behaviour | None = None  # how the simulator treats this click's request (default: it works)
    promise: str | None = None  # the Promise of the request ``kratix`` applies to
    # What the project's pipeline does for this request (e.g. refuse it), for when the sandbox has
    # no .venv-pipelines and simulates pipelines instead of running them.
    simulated: Behaviour | None = None


# The sandbox gives create-namespace this timeout (its file says 15m) so the demo can show one.
DEMO_TIMEOUT_SECONDS = 6.0


SCENARIO = (
    Click(
        'Create PostgreSQL "orders" for production, with backups',
        "create-postgresql",
        {"name": "orders", "env": "prod", "teamId": "payments", "backupEnabled": True},
        "SUCCESS",
    ),
    Click('Create Redis "sessions"', "create-redis", {"name": "sessions", "size": "small"}, "SUCCESS"),
    Click(
        'Change "orders" to dev (a DAY-2 action)',
        "update-postgresql",
        {"env": "dev"},
        "SUCCESS",
        entity="default.orders",
    ),
    Click(
        "Create PostgreSQL with an invalid name",
        "create-postgresql",
        {"name": "Orders DB!", "env": "dev"},
        "FAILURE",
    ),
    Click(
        'Create PostgreSQL "ledger" with database "template1", which its Kratix pipeline refuses',
        "create-postgresql",
        {"name": "ledger", "env": "dev", "teamId": "payments", "dbName": "template1"},
        "FAILURE",
        simulated=Behaviour(configure="fail"),
        promise="postgresql",
    ),
    Click(
        'Create namespace "slow", whose Kratix pipeline never ends (a short timeout here)',
        "create-namespace",
        {"name": "slow", "namespaceName": "slow"},
        "FAILURE",
        kratix=Behaviour(configure="hang"),
        promise="namespace",
    ),
    Click('Delete Redis "sessions"', "delete-redis", {}, "SUCCESS", entity="default.sessions"),
)


def play(
    click: Click,
    *,
    port: PortEmulator,
    webhook: str,
    say: Callable[[str], None],
    timeout: float,
    kratix: KratixSimulator | None = None,
) -> bool:
    """Click one action as a developer would and narrate its run; whether it ended as expected."""
    behaviour = click.kratix
    if behaviour is None and kratix is not None and not kratix.runs_pipelines:
        behaviour = click.simulated
    if behaviour is not None and kratix is not None:
        kratix.behave(behaviour, promise=click.promise, name=str(click.inputs["name"]))
    started = time.monotonic()
    invocation = port.invoke(click.action, inputs=click.inputs, entity=click.entity, url=webhook)
    say(f"▶ {click.title}")
    say(f"    Port run {invocation.run_id}: webhook answered {invocation.response.status_code}")
    shown = 0
    while time.monotonic() - started < timeout:
        run = port.run(invocation.run_id)
        for entry in run.logs[shown:]:
            say(f"    │ {entry.message}")
        shown = len(run.logs)
        if run.status != "IN_PROGRESS":
            took = f"after {time.monotonic() - started:.1f}s"
            if run.status == click.expect:
                say(f"  ✓ {run.status}, as expected, {took}: {run.summary}")
            else:
                say(f"  ✗ {run.status}, expected {click.expect}, {took}: {run.summary}")
            return run.status == click.expect
        time.sleep(0.05)
    say(f"  ✗ still IN_PROGRESS after {timeout:.0f}s")
    return False
