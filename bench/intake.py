"""Benchmark: how fast intake takes Port's signed webhooks, against the least any receiver must do.

Why: Port waits on the webhook, so intake must answer quickly and keep up with bursts of runs.
The real ``port-bridge serve`` (gunicorn, 2 workers) takes signed ``create-postgresql`` webhooks,
each a distinct run, at concurrency 1, 8 and 32; the same load goes to a floor handler
(bench/floor.py: verify the HMAC, one Kubernetes create of an ActionRun-sized object, under
gunicorn with the same worker class, workers and threads). Figures per level: throughput,
p50/p99 latency, and CPU per request of the gunicorn workers and of the Kubernetes emulator;
then intake's ratios to the floor. The project's goal is an intake p50 within 1.5x the floor's.
Every intake answer must be 202 and store one ActionRun.

How: each server has a fresh Kubernetes emulator in a process of its own (bench/common.py), so
neither the load generator nor the other server shares its GIL. The load comes from this
process: one client thread per concurrent request, each on a keep-alive connection, a closed
loop. Both servers stay up and each level is measured in rounds that alternate which server
goes first, so a drift of the machine (a 2-core box shared by 5 busy processes) falls on both
alike; latencies and times are pooled over the rounds.

    .venv/bin/python -m bench.intake [--requests N] [--rounds R] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any, cast
from urllib.parse import urlsplit

import kubernetes
from pydantic import SecretStr

from bench.common import (
    ACTIONRUNS,
    BRIDGE_NAMESPACE,
    REPO,
    ClusterProcess,
    bridge_command,
    bridge_env,
    children,
    count_actionruns,
    cpu_seconds,
    free_port,
    percentile,
    start_process,
    stop_process,
    tail,
    verdict,
    wait_until_serving,
)
from port_bridge.intake.server import IntakeServer
from port_bridge.mapping.actions import load_actions
from port_bridge.port.client import PortClient
from port_bridge.settings import Settings
from port_bridge.startup import PortLogin
from port_bridge_sandbox.port import PortEmulator, port_json, render, sign, trigger_context
from port_bridge_sandbox.port.runs import new_run_id
from port_bridge_sandbox.port.state import user_id_for
from port_bridge_sandbox.shared import locate_shared_dir, require_file

ACTION = "create-postgresql"
USER_EMAIL = "developer@example.com"
GOAL_P50_RATIO = 1.5
WORKERS = 2
WARMUP_CONCURRENCY = 8


@dataclass
class Level:
    """What one server did at one concurrency level (pooled over rounds)."""

    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer
    worker_cpu: float = 0.0  # seconds of CPU used by the gunicorn workers
    emulator_cpu: float = 0.0  # and by the Kubernetes emulator

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def cpu_ms(self, seconds: float) -> float:
        return seconds / len(self.latencies) * 1000 if self.latencies else float("nan")

    def add(self, other: Level) -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.worker_cpu += other.worker_cpu
        self.emulator_cpu += other.emulator_cpu


@dataclass
class Server:
    """One server under test: its gunicorn master, its emulator, where it listens."""

    name: str
    url: str
    process: Popen[bytes]
    cluster: ClusterProcess
    log: Path
    sent: Counter[int] = field(default_factory=Counter)  # every answer, warm-up included

    def drive(self, payloads: Sequence[bytes], *, concurrency: int, secret: str) -> Level:
        workers = children(self.process.pid)
        before = cpu_seconds(workers), cpu_seconds([self.cluster.pid])
        level = drive(self.url + "/webhook", payloads, concurrency=concurrency, secret=secret)
        level.worker_cpu = cpu_seconds(workers) - before[0]
        level.emulator_cpu = cpu_seconds([self.cluster.pid]) - before[1]
        self.sent.update(level.statuses)
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited during the benchmark\n{tail(self.log)}")
        return level


# --- What Port sends ---------------------------------------------------------------------------


def inputs_for(name: str) -> dict[str, Any]:
    """The inputs of a Create PostgreSQL form, every field filled."""
    return {
        "name": name,
        "namespace": "team-a",
        "env": "dev",
        "teamId": "acid",
        "dbName": "postgres",
        "backupEnabled": False,
    }


def webhook_body(run_id: str, inputs: dict[str, Any], *, org_id: str, at: str) -> dict[str, Any]:
    """The v2 body ``create-postgresql``'s ``invocationMethod.body`` renders to for a run."""
    return {
        "runId": run_id,
        "action": ACTION,
        "operation": "CREATE",
        "blueprint": "postgresql",
        "inputs": inputs,
        "entity": {},
        "trigger": {
            "by": {"email": USER_EMAIL, "userId": user_id_for(USER_EMAIL), "orgId": org_id},
            "origin": "UI",
            "at": at,
        },
    }


def check_body_shape(port: PortEmulator) -> None:
    """Fail loudly if the bodies built here are not what Port renders from the action file."""
    action = port.action(ACTION)
    assert action is not None, f"the Port emulator has no action {ACTION}"
    run_id, inputs = new_run_id(), inputs_for("shape-check")
    context = trigger_context(
        run_id=run_id,
        action=action,
        inputs=inputs,
        entity={},
        user_email=USER_EMAIL,
        operation="CREATE",
        org_id=port.org_id,
    )
    rendered = render(action["invocationMethod"]["body"], {**context, "secrets": {}})
    built = webhook_body(run_id, inputs, org_id=port.org_id, at=context["trigger"]["at"])
    if rendered != built:
        raise SystemExit(f"the benchmark's body differs from Port's rendering:\n{rendered}\n{built}")


def bodies(count: int, *, tag: str, org_id: str) -> list[bytes]:
    """``count`` distinct runs, serialised as Port does (compact, non-ASCII as is)."""
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return [
        port_json(webhook_body(new_run_id(), inputs_for(f"bench-{tag}-{n}"), org_id=org_id, at=at))
        for n in range(count)
    ]


# --- Load --------------------------------------------------------------------------------------


def drive(url: str, payloads: Sequence[bytes], *, concurrency: int, secret: str) -> Level:
    """Send every payload, ``concurrency`` at a time (closed loop), each signed as it leaves."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    level = Level(concurrency)
    lock = threading.Lock()
    pending = iter(payloads)
    start = threading.Barrier(concurrency + 1)

    def next_payload() -> bytes | None:
        with lock:
            return next(pending, None)

    def client() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        start.wait()
        while (payload := next_payload()) is not None:
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "x-port-timestamp": timestamp,
                "x-port-signature": sign(payload, secret=secret, timestamp=timestamp),
            }
            began = time.perf_counter()
            try:
                connection.request("POST", parts.path, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                with lock:
                    level.statuses[0] += 1
                continue
            elapsed = time.perf_counter() - began
            with lock:
                level.latencies.append(elapsed)
                level.statuses[response.status] += 1
        connection.close()

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    level.seconds = time.perf_counter() - began
    return level


# --- Servers -----------------------------------------------------------------------------------


def gunicorn_options(settings: Settings) -> list[str]:
    """The floor's gunicorn flags: read from intake's own gunicorn configuration, so they match."""
    secret = settings.port_client_secret.get_secret_value()
    with PortClient(settings.port_api_url, client_id=settings.port_client_id, client_secret=secret) as client:
        cfg = IntakeServer(
            settings, port_login=PortLogin(client, secret=secret)
        ).cfg  # the login is not tried
    flags = [
        f"--workers={cfg.workers}",
        f"--worker-class={cfg.worker_class_str}",
        f"--threads={cfg.threads}",
        f"--timeout={cfg.timeout}",
        f"--graceful-timeout={cfg.graceful_timeout}",
        f"--keep-alive={cfg.keepalive}",
    ]
    if cfg.worker_tmp_dir:
        flags.append(f"--worker-tmp-dir={cfg.worker_tmp_dir}")
    return flags


def start_server(
    stack: ExitStack,
    name: str,
    command: Callable[[str], list[str]],
    *,
    port: PortEmulator,
    workdir: Path,
    **env: str,
) -> Server:
    """A fresh emulator, then ``command(bind address)`` with the bridge's environment."""
    cluster = stack.enter_context(ClusterProcess())
    bind = f"127.0.0.1:{free_port()}"
    environment = bridge_env(
        kubeconfig=cluster.write_kubeconfig(workdir / f"{name}.kubeconfig"),
        port_url=port.url,
        client_id=port.client_id,
        client_secret=port.client_secret,
        PORT_BRIDGE_BIND=bind,
        PORT_BRIDGE_WORKERS=str(WORKERS),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / f"{name}-metrics"),
        **env,
    )
    log = workdir / f"{name}.log"
    process = start_process(command(bind), env=environment, log=log)
    stack.callback(stop_process, process)
    server = Server(name, f"http://{bind}", process, cluster, log)
    wait_until_serving(server.url + "/healthz", process, log)
    return server


def template_actionrun(client: kubernetes.client.ApiClient) -> dict[str, Any]:
    """One ActionRun intake stored, as the floor's template: what intake sent, no server fields."""
    api = kubernetes.client.CustomObjectsApi(client)
    listed = cast(
        dict[str, Any], api.list_namespaced_custom_object(*ACTIONRUNS[:2], BRIDGE_NAMESPACE, ACTIONRUNS[2])
    )
    run = listed["items"][0]
    metadata = run["metadata"]
    return {
        "apiVersion": run["apiVersion"],
        "kind": run["kind"],
        "metadata": {
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "labels": dict(metadata.get("labels") or {}),
            "annotations": dict(metadata.get("annotations") or {}),
        },
        "spec": run["spec"],
    }


# --- Report ------------------------------------------------------------------------------------


def report(results: list[tuple[Level, Level]], *, intake: Server, floor: Server, per_level: int) -> bool:
    print()
    print(f"Signed {ACTION} webhooks: {per_level} distinct runs per level and server, closed loop")
    header = (
        f"{'conc.':>5} │ {'intake req/s':>12} {'p50 ms':>7} {'p99 ms':>7} │ "
        f"{'floor req/s':>11} {'p50 ms':>7} {'p99 ms':>7} │ {'p50 x':>6} {'req/s x':>7} │ "
        f"{'CPU ms/req: intake':>18} {'floor':>5} {'kube':>9}"
    )
    print(header)
    print("─" * len(header))
    met: list[bool] = []
    for ours, base in results:
        p50_ratio = ours.ms(50) / base.ms(50)
        met.append(p50_ratio <= GOAL_P50_RATIO)
        print(
            f"{ours.concurrency:>5} │ {ours.throughput:>12.1f} {ours.ms(50):>7.2f} {ours.ms(99):>7.2f} │ "
            f"{base.throughput:>11.1f} {base.ms(50):>7.2f} {base.ms(99):>7.2f} │ "
            f"{p50_ratio:>6.2f} {ours.throughput / base.throughput:>7.2f} │ "
            f"{ours.cpu_ms(ours.worker_cpu):>18.2f} {base.cpu_ms(base.worker_cpu):>5.2f} "
            f"{ours.cpu_ms(ours.emulator_cpu):>4.2f}/{base.cpu_ms(base.emulator_cpu):>4.2f}"
        )
    print(
        "x: intake / floor (p50 above 1: intake slower; req/s below 1: intake slower). CPU: gunicorn\n"
        "workers' user+system CPU per request; kube: the Kubernetes emulator's, intake/floor runs."
    )
    print()
    failing = [str(ours.concurrency) for (ours, _), ok in zip(results, met, strict=True) if not ok]
    print(
        f"Goal: intake p50 within {GOAL_P50_RATIO}x the floor's at every level: {verdict(all(met))}"
        + (f" (exceeded at concurrency {', '.join(failing)})" if failing else "")
    )
    with intake.cluster.client() as client:
        intake_runs = count_actionruns(client)
    with floor.cluster.client() as client:
        floor_runs = count_actionruns(client)
    answers_ok = set(intake.sent) == {202}
    print(
        f"Intake answers (warm-up included): {_statuses(intake.sent)}: "
        f"{'all 202' if answers_ok else 'NOT all 202'}"
    )
    total = intake.sent.total()
    print(f"ActionRuns stored by intake: {intake_runs} for {total} requests: {verdict(intake_runs == total)}")
    print(f"Floor answers: {_statuses(floor.sent)}; objects stored: {floor_runs} for {floor.sent.total()}")
    for server in (intake, floor):
        if errors := server.cluster.internal_errors():
            print(f"Kubernetes emulator errors behind {server.name}: {errors[:3]}")
    return (
        answers_ok and intake_runs == total and set(floor.sent) == {202} and floor_runs == floor.sent.total()
    )


def _statuses(statuses: Counter[int]) -> str:
    return ", ".join(f"{count} x {status or 'no answer'}" for status, count in sorted(statuses.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Intake under gunicorn against a floor handler.")
    parser.add_argument("--requests", type=int, default=1500, help="requests per level and server")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per level")
    parser.add_argument("--warmup", type=int, default=200, help="requests per server before measuring")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 requests, 1 round")
    parser.add_argument("--concurrency", default="1,8,32", help="levels (default 1,8,32)")
    args = parser.parse_args(argv)
    per_level, rounds, warmup = (300, 1, 50) if args.quick else (args.requests, args.rounds, args.warmup)
    levels = [int(level) for level in args.concurrency.split(",")]
    shared = locate_shared_dir()
    started = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-intake-")))
        spec = require_file(shared / "port" / "apispec.yaml", what="Port's OpenAPI spec")
        port = stack.enter_context(PortEmulator(spec_path=spec))
        for path in sorted((REPO / "blueprints").glob("*.json")):
            port.add_blueprint(json.loads(path.read_text()))
        port.add_action(load_actions(REPO / "actions")[ACTION].raw_action)
        check_body_shape(port)
        secret, org = port.client_secret, port.org_id
        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(secret),
            port_api_url=port.url,
            workers=WORKERS,
        )
        flags = gunicorn_options(settings)
        print(f"gunicorn for both: {' '.join(flags)}", flush=True)

        intake = start_server(
            stack, "intake", lambda _bind: bridge_command("serve"), port=port, workdir=workdir
        )
        intake.drive(
            bodies(warmup, tag="intake-w", org_id=org), concurrency=WARMUP_CONCURRENCY, secret=secret
        )
        template = workdir / "actionrun-template.json"
        with intake.cluster.client() as client:
            template.write_text(json.dumps(template_actionrun(client)))
        floor = start_server(
            stack,
            "floor",
            lambda bind: [sys.executable, "-m", "gunicorn", f"--bind={bind}", *flags, "bench.floor:app"],
            port=port,
            workdir=workdir,
            BENCH_FLOOR_TEMPLATE=str(template),
        )
        floor.drive(bodies(warmup, tag="floor-w", org_id=org), concurrency=WARMUP_CONCURRENCY, secret=secret)
        print(
            f"intake on {intake.url}, floor on {floor.url}; warmed up with {warmup} requests each", flush=True
        )

        results: list[tuple[Level, Level]] = []
        for concurrency in levels:
            pooled = {intake.name: Level(concurrency), floor.name: Level(concurrency)}
            for round_number in range(rounds):
                order = (intake, floor) if round_number % 2 == 0 else (floor, intake)
                share = per_level // rounds + (1 if round_number < per_level % rounds else 0)
                for server in order:
                    payloads = bodies(share, tag=f"{server.name}-{concurrency}-{round_number}", org_id=org)
                    pooled[server.name].add(server.drive(payloads, concurrency=concurrency, secret=secret))
            ours, base = pooled[intake.name], pooled[floor.name]
            print(
                f"  concurrency {concurrency:>2}: intake p50 {ours.ms(50):6.2f} ms, "
                f"{ours.throughput:6.1f} req/s; floor p50 {base.ms(50):6.2f} ms, "
                f"{base.throughput:6.1f} req/s",
                flush=True,
            )
            results.append((ours, base))
        ok = report(results, intake=intake, floor=floor, per_level=per_level)
    print(f"Total time: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
