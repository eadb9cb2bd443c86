"""``port-bridge sandbox``: the whole flow on one machine, with nothing to sign up for.

It starts the Kubernetes emulator (with the project's own Kratix CRDs and Promises under
``deploy/kratix`` and the ActionRun CRD), the Port emulator (with this repository's blueprints,
actions and scorecards), the Kratix simulator, intake and the controller, all on 127.0.0.1.
Then it acts as Port: it clicks the actions of :mod:`.scenario` (create, change, a rejected input,
a Kratix pipeline that refuses its request, one that never finishes within its action's timeout,
delete) and prints what a developer would see in the Port run: log lines as they arrive, the final
status, the catalog entity and its scorecard. The exit status says whether every run ended as it should. With
``--keep-running`` it stays up and prints what is needed to try it by hand (:mod:`.guide`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import kubernetes
from pydantic import SecretStr

from port_bridge.controller.main import run_controller
from port_bridge.intake.app import create_app
from port_bridge.intake.closing import PortRunCloser
from port_bridge.mapping.actions import ActionConfig, load_actions
from port_bridge.port.client import PortClient
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox import guide
from port_bridge_sandbox.console import create_console
from port_bridge_sandbox.kratix import Era, KratixSimulator, Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator
from port_bridge_sandbox.scenario import DEMO_TIMEOUT_SECONDS, SCENARIO, play

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "port-bridge"


class Narrator:
    def __init__(self, out: TextIO) -> None:
        self._out = out

    def say(self, text: str = "") -> None:
        print(text, file=self._out, flush=True)


@contextmanager
def sandbox(*, era: Era, speed: float, spec_path: Path | None = None) -> Iterator[dict[str, Any]]:
    """Everything running; yields the pieces (``kube``, ``port``, ``intake``, ``kratix``).

    Port's spec is ``spec_path``, else the one beside the clone when there is one, else none (the
    emulator then routes requests without checking them)."""
    with ExitStack() as stack:
        kube = stack.enter_context(KubeApiServer())
        for path in sorted((REPO / "deploy" / "kratix" / "crds").glob("*.yaml")):
            kube.apply_file(path)
        kube.apply_file(REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml")
        for namespace in (NAMESPACE, "team-a", "team-b"):
            kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        configuration = kubernetes.client.Configuration()
        configuration.host = kube.url
        configuration.connection_pool_maxsize = 32  # intake, the controller and the simulator share it
        api_client = stack.enter_context(kubernetes.client.ApiClient(configuration))

        port = stack.enter_context(PortEmulator(spec_path=spec_path))
        for path in sorted((REPO / "blueprints").glob("*.json")):
            port.add_blueprint(json.loads(path.read_text()))
        actions = _with_demo_timeout(load_actions(REPO / "actions"), speed=speed)
        for config in actions.values():
            port.add_action(config.raw_action)
        for path in sorted((REPO / "scorecards").glob("*/*.json")):
            port.add_scorecard(path.parent.name, json.loads(path.read_text()))

        kratix = KratixSimulator(
            api_client,
            era=era,
            pod_logs=kube.emulator.pod_logs,
            timings=Timings(
                pickup=0.3 / speed, pipeline=1.0 / speed, works=0.5 / speed, delete_pipeline=1.0 / speed
            ),
        ).start()
        stack.callback(kratix.stop)
        for path in sorted((REPO / "deploy" / "kratix" / "promises").glob("*.yaml")):
            kube.apply_file(path)

        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(port.client_secret),
            port_api_url=port.url,
            namespace=NAMESPACE,
            config_dir=REPO,
            lease_seconds=5,
            lease_renew_deadline_seconds=3.0,
            lease_retry_seconds=0.5,
            resync_seconds=5.0,
            controller_bind="",
        )
        reporter = stack.enter_context(
            PortClient(port.url, client_id=port.client_id, client_secret=port.client_secret)
        )
        app = create_app(settings, api_client=api_client, actions=actions, closer=PortRunCloser(reporter))
        intake = stack.enter_context(WsgiThread(app))
        port.invoker.set_secret("port-bridge-url", intake.url)  # the actions' webhook URL template reads it
        settings = settings.model_copy(update={"link_template": intake.url + "/runs/{run_id}"})

        stop = threading.Event()
        controller = threading.Thread(
            target=run_controller,
            args=(settings, stop),
            kwargs={
                "api_client": api_client,
                "actions": actions,
                "watch_timeout_seconds": 30,
            },
            name="controller",
            daemon=True,
        )
        controller.start()
        stack.callback(controller.join, 10)
        stack.callback(stop.set)
        console = stack.enter_context(WsgiThread(create_console(port, webhook_url=intake.url + "/webhook")))
        yield {
            "kube": kube,
            "port": port,
            "intake": intake,
            "kratix": kratix,
            "api_client": api_client,
            "actions": actions,
            "console": console,
        }


def _with_demo_timeout(actions: dict[str, ActionConfig], *, speed: float) -> dict[str, ActionConfig]:
    config = actions["create-namespace"]
    if config.kratix is None:
        return actions
    kratix = config.kratix.model_copy(update={"timeout_seconds": DEMO_TIMEOUT_SECONDS / speed})
    return {**actions, "create-namespace": config.model_copy(update={"kratix": kratix})}


def describe_catalog(port: PortEmulator, say: Callable[[str], None]) -> None:
    say("Catalog in Port:")
    for blueprint in ("postgresql", "redis"):
        for entity in port.state.entities(blueprint):
            levels = ", ".join(
                f"{name}: {card['level']}" for name, card in (entity.get("scorecards") or {}).items()
            )
            props = entity.get("properties") or {}
            summary = ", ".join(
                f"{key}={props[key]}"
                for key in ("kratixState", "environment", "size", "backupEnabled", "host")
                if key in props
            )
            say(f"  • {blueprint} {entity['identifier']}: {summary}" + (f"  [{levels}]" if levels else ""))


def run_sandbox(
    *,
    era: str = "current",
    keep_running: bool = False,
    speed: float = 1.0,
    out: TextIO = sys.stdout,
    spec_path: Path | None = None,
    stop: threading.Event | None = None,
) -> int:
    """The demo; with ``keep_running``, it then serves until interrupted (or ``stop`` is set)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    narrator = Narrator(out)
    say = narrator.say
    with sandbox(era=Era(era), speed=speed, spec_path=spec_path) as pieces:
        port, intake, kube = pieces["port"], pieces["intake"], pieces["kube"]
        say(f"port-bridge sandbox: everything on 127.0.0.1 (Kratix status format: {era})")
        say(f"  Kubernetes API  {kube.url}")
        say(f"  Port API        {port.url}")
        say(f"  intake          {intake.url}/webhook")
        say(f"  console         {pieces['console'].url}  (open it in a browser: actions, runs, catalog)")
        say(f"  Port emulator: {port.spec_note}")
        say(f"  Kratix: {pieces['kratix'].pipelines_note}")
        say("✓ marks a run that ended as the scenario expects (some are meant to fail), ✗ one that did not.")
        say()
        results = [
            play(
                click,
                port=port,
                webhook=intake.url + "/webhook",
                say=say,
                timeout=60 / min(speed, 1.0),
                kratix=pieces["kratix"],
            )
            for click in SCENARIO
        ]
        say()
        describe_catalog(port, say)
        violations = port.spec_violations
        outside = f", outside Port's OpenAPI spec: {len(violations)}"
        checked = outside if port.checks_spec else " (not checked)"
        say(f"Port API calls: {len(port.calls)}{checked}")
        ok = all(results) and not violations
        say("All runs ended as expected." if ok else "Some runs did not end as expected.")
        if keep_running:
            scratch = Path(tempfile.mkdtemp(prefix="port-bridge-sandbox-"))
            try:
                for line in guide.keep_running_lines(
                    port=port,
                    intake_url=intake.url,
                    kubeconfig=kube.write_kubeconfig(scratch / "kubeconfig", namespace=NAMESPACE),
                    namespace=NAMESPACE,
                ):
                    say(line)
                with contextlib.suppress(KeyboardInterrupt):
                    (stop or threading.Event()).wait()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1
