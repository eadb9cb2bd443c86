"""Benchmark: a pipeline's log line, from the moment it is written to the moment Port has it.

Why: pipeline logs are polled (port_bridge/pipelinelogs/collector.py says why), so a line waits
for the next poll, then for the reconciler to take it and the outbox to send it; and every run in
flight costs ``pods``/``pods/log`` reads. This measures both, with the real ``run_controller`` in
this process against the Kubernetes and Port emulators over HTTP, intake serving Port's webhooks
and the Kratix simulator holding each run's pipeline running (``hang``).

For each poll interval (default: 2 s, the default setting, and 0.5 s) and number of runs in flight
(1 and 20): every run gets a pipeline Pod (the Job's labels, as the Job controller makes it), then
each Pod's container writes a line every 0.1 s for ``--seconds``. Printed: the delay from each
write (``time.time()`` after ``PodLogs.write`` returned) to Port answering the log call carrying
it (the emulator stamps each call as it answers, same clock), p50 / p95 / max; and the
Kubernetes reads of Pods and their logs per run per second (what the emulator served).

    .venv/bin/python -m bench.pipelinelogs [--runs 1,20] [--polls 2,0.5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

import kubernetes
from kubernetes.client import BatchV1Api, CoreV1Api
from pydantic import SecretStr

from bench.common import REPO, percentile
from port_bridge.controller.main import run_controller
from port_bridge.controller.manager import Controller
from port_bridge.intake.app import create_app
from port_bridge.mapping.actions import load_actions
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Behaviour, KratixSimulator, Timings
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator

NAMESPACE = "port-bridge"
CONTAINER = "instance-configure"


def pipeline_pod(core: CoreV1Api, batch: BatchV1Api, request: str) -> str:
    selector = f"kratix.io/promise-name=postgresql,kratix.io/resource-name={request}"
    deadline = time.monotonic() + 30
    while not (jobs := batch.list_namespaced_job("default", label_selector=selector).items):
        if time.monotonic() > deadline:
            raise SystemExit(f"no pipeline Job for {request}")
        time.sleep(0.01)
    metadata = jobs[-1].metadata
    assert metadata is not None and metadata.name
    body: Any = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{metadata.name}-pod",
            "namespace": "default",
            "labels": {**(metadata.labels or {}), "job-name": metadata.name},
        },
        "spec": {"containers": [{"name": CONTAINER, "image": "pipeline"}]},
    }
    core.create_namespaced_pod("default", body)
    return f"{metadata.name}-pod"


def measure(runs: int, poll: float, seconds: float) -> tuple[list[float], float]:
    """Delays (s) from write to Port, and Pod reads per run per second."""
    with KubeApiServer() as kube, PortEmulator() as port:
        for path in sorted((REPO / "deploy" / "kratix" / "crds").glob("*.yaml")):
            kube.apply_file(path)
        kube.apply_file(REPO / "deploy" / "crds" / "actionruns.port-bridge.io.yaml")
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for path in sorted((REPO / "deploy" / "kratix" / "promises").glob("*.yaml")):
            kube.apply_file(path)
        actions = load_actions(REPO / "actions")
        for path in sorted((REPO / "blueprints").glob("*.json")):
            port.add_blueprint(json.loads(path.read_text()))
        for config in actions.values():
            port.add_action(config.raw_action)
        configuration = kubernetes.client.Configuration()
        configuration.host = kube.url
        configuration.connection_pool_maxsize = 64
        client = kubernetes.client.ApiClient(configuration)
        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(port.client_secret),
            port_api_url=port.url,
            namespace=NAMESPACE,
            config_dir=REPO,
            lease_seconds=5,
            lease_renew_deadline_seconds=3.0,
            lease_retry_seconds=0.2,
            controller_bind="",
            pipeline_log_max_lines=10_000,
            pipeline_log_max_bytes=512 * 1024,
            pipeline_log_poll_seconds=poll,
            catalog_sync=False,
        )
        kratix = KratixSimulator(client, timings=Timings(pickup=0.01, pipeline=0.02, works=0.01)).start()
        kratix.behave(Behaviour(configure="hang"))
        intake = WsgiThread(create_app(settings, api_client=client, actions=actions)).start()
        stop, leading = threading.Event(), list[Controller]()
        thread = threading.Thread(
            target=run_controller,
            args=(settings, stop),
            kwargs={"api_client": client, "actions": actions, "on_started": leading},
            daemon=True,
        )
        thread.start()
        try:
            while not leading:
                time.sleep(0.01)
            core, batch = CoreV1Api(client), BatchV1Api(client)
            names = [f"orders-{n:02d}" for n in range(runs)]
            run_ids = {}
            for name in names:
                invocation = port.invoke(
                    "create-postgresql", inputs={"name": name, "env": "dev"}, url=intake.url + "/webhook"
                )
                run_ids[name] = invocation.run_id
            pods = {name: pipeline_pod(core, batch, name) for name in names}
            served_before = kube.call(lambda: kube.emulator.requests_served["GET", "pods"])
            started, written = time.monotonic(), dict[str, float]()
            sequence = 0
            while time.monotonic() - started < seconds:
                for name in names:
                    text = f"{name} line {sequence}"
                    kube.pod_logs.write("default", pods[name], text + "\n", container=CONTAINER)
                    written[f"[{CONTAINER}] {text}"] = time.time()
                sequence += 1
                time.sleep(0.1)
            elapsed = time.monotonic() - started
            reads = kube.call(lambda: kube.emulator.requests_served["GET", "pods"]) - served_before
            deadline = time.monotonic() + 4 * poll + 10
            arrived: dict[str, float] = {}
            while len(arrived) < len(written) and time.monotonic() < deadline:
                for call in list(port.calls):
                    if call.method == "POST" and call.path.endswith("/logs") and isinstance(call.json, dict):
                        message = call.json.get("message")
                        if message in written and message not in arrived:
                            arrived[message] = call.at
                time.sleep(0.05)
            missing = len(written) - len(arrived)
            if missing:
                raise SystemExit(f"{missing} of {len(written)} lines never reached Port")
            return [arrived[line] - written[line] for line in written], reads / runs / elapsed
        finally:
            stop.set()
            thread.join(15)
            intake.stop()
            kratix.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1,20")
    parser.add_argument("--polls", default="2,0.5")
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    print("pipeline log lines, written every 0.1 s by each run's pipeline Pod, until Port has them:")
    for poll in (float(value) for value in options.polls.split(",")):
        for runs in (int(value) for value in options.runs.split(",")):
            delays, reads = measure(runs, poll, options.seconds)
            print(
                json.dumps(
                    {
                        "poll_s": poll,
                        "runs": runs,
                        "lines": len(delays),
                        "delay_p50_ms": round(percentile(delays, 50) * 1000),
                        "delay_p95_ms": round(percentile(delays, 95) * 1000),
                        "delay_max_ms": round(max(delays) * 1000),
                        "pod_reads_per_run_per_s": round(reads, 2),
                    }
                )
            )


if __name__ == "__main__":
    main()
