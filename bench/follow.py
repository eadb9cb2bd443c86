"""Benchmark: runs followed through the controller, from Kratix's last write to Port's SUCCESS.

Why: the controller is what a developer waits on once Kratix is done, and it must stay cheap
(calls to both APIs, one Port token, a constant number of watches, bounded memory) however many
runs are in flight. For each size (1, 100, 1,000 runs) it starts afresh: the Kubernetes emulator
in a process of its own (bench/common.py), the Port emulator, a current-era Kratix simulator with
fast timings, intake in this process, and ``port-bridge controller`` as a subprocess, so its
memory and its calls can be told apart from everything else's.

The runs are created as Port creates them: ``PortEmulator.invoke`` creates each Port run and
delivers its signed webhook (the v2 body of ``create-postgresql``) to intake, which stores the
ActionRun; 8 deliveries at a time, with the controller already leading.

Measured:

* latency: from the simulator's final write (``KratixSimulator.milestones``: taken when the write
  that makes the request Reconciled has been answered) to Port recording SUCCESS (the ``at`` of
  the run's SUCCESS status change: stamped by the Port emulator as it applies the PATCH, to the
  millisecond, on the same clock; polling for it would add the polling interval);
* Kubernetes calls per run made by the controller: what the emulator served
  (``requests_served``) between "controller ready" and "all runs finished", minus what the
  in-process clients (simulator, intake) sent, which are counted client-side with the same keys;
  Lease calls are shown apart (they follow time, not runs); Port calls per run (every call the
  Port emulator recorded in that window comes from the controller) and token requests in all;
* watches: the watch streams the emulator has open whose client port belongs to the controller
  process (its sockets, read from /proc), sampled every 0.2 s while runs are in flight;
* memory: the controller's peak RSS, ``VmHWM`` from /proc just before it is stopped. Not
  ``ru_maxrss`` from ``os.wait4``: Linux carries the high-water mark across ``exec``, so a child
  forked from this (large) process reports this process's size; it is printed for reference.

    .venv/bin/python -m bench.follow [--sizes 1,100,1000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from math import nan
from pathlib import Path
from subprocess import Popen
from typing import TypeVar

import requests
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bench.common import (
    REPO,
    CallKey,
    ClusterProcess,
    CountingApiClient,
    bridge_command,
    bridge_env,
    cpu_seconds,
    free_port,
    memory_mib,
    percentile,
    start_process,
    tail,
    tcp_ports,
    verdict,
)
from port_bridge.intake.app import create_app
from port_bridge.mapping.actions import load_actions
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Era, KratixSimulator, Timings
from port_bridge_sandbox.port import PortEmulator, RecordedCall
from port_bridge_sandbox.shared import locate_shared_dir, require_file

ACTION = "create-postgresql"
NAMESPACE = "team-a"
TIMINGS = Timings(pickup=0.01, pipeline=0.05, works=0.02, delete_pipeline=0.05)
CONTROLLER_ENV = {
    "PORT_BRIDGE_IDENTITY": "bench-controller",
    "PORT_BRIDGE_LEASE_SECONDS": "5",
    "PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS": "3",
    "PORT_BRIDGE_LEASE_RETRY_SECONDS": "0.5",
}
DELIVERY_THREADS = 8
SAMPLE_SECONDS = 0.2
GOALS = {"p50_ms": 100.0, "p99_ms": 500.0, "rss_mib": 200.0}
TERMINAL = ("SUCCESS", "FAILURE")
_RUN_PATH = re.compile(r"/v1/actions/runs/([^/]+)")
T = TypeVar("T")


@dataclass
class Sample:
    at: float
    watches: Counter[str]  # the controller's open watch streams, by resource
    connections: int  # the controller's TCP connections to the Kubernetes API


@dataclass
class Idle:
    """The controller left alone once every run had finished."""

    seconds: float
    rss_before: float  # MiB (VmRSS)
    rss_after: float
    depth_before: float  # its work queue depth metric
    depth_after: float


@dataclass
class SizeResult:
    runs: int
    created: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    single_terminal: int = 0  # runs with exactly one terminal status change
    latencies: list[float] = field(default_factory=list)  # seconds
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (Kratix done, latency) s
    missing_milestones: int = 0
    follow_seconds: float = 0.0  # first delivery to the last SUCCESS
    total_seconds: float = 0.0  # everything, setup included
    peak_in_flight: int = 0
    delivery_seconds: float = 0.0
    window_seconds: float = 0.0  # controller ready to all finished
    controller_calls: Counter[CallKey] = field(default_factory=Counter)
    simulator_calls: Counter[CallKey] = field(default_factory=Counter)
    intake_calls: Counter[CallKey] = field(default_factory=Counter)
    unattributed: dict[CallKey, int] = field(default_factory=dict)  # negative remainders, if any
    simulator_write_ms: tuple[float, float] = (0.0, 0.0)  # p50, p99 of its status PATCH round trips
    port_calls: Counter[str] = field(default_factory=Counter)
    token_requests: int = 0
    spec_violations: int = 0
    samples: list[Sample] = field(default_factory=list)
    controller_metrics: dict[str, float] = field(default_factory=dict)  # from its /metrics
    idle: Idle | None = None
    rss_mib: float = 0.0  # VmHWM
    ru_maxrss_mib: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds used in the window, by process
    problems: list[str] = field(default_factory=list)

    @property
    def lease_calls(self) -> int:
        return sum(count for (_, plural), count in self.controller_calls.items() if plural == "leases")

    @property
    def kube_calls_per_run(self) -> float:
        return (self.controller_calls.total() - self.lease_calls) / self.runs

    @property
    def port_calls_per_run(self) -> float:
        return self.port_calls.total() / self.runs

    @property
    def watch_range(self) -> tuple[int, int]:
        counts = [sample.watches.total() for sample in self.samples] or [0]
        return min(counts), max(counts)

    @property
    def max_connections(self) -> int:
        return max((sample.connections for sample in self.samples), default=0)

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


# --- Pieces --------------------------------------------------------------------------------------


def port_emulator(shared: Path) -> PortEmulator:
    port = PortEmulator(spec_path=require_file(shared / "port" / "apispec.yaml", what="Port's OpenAPI spec"))
    port.start()
    for path in sorted((REPO / "blueprints").glob("*.json")):
        port.add_blueprint(json.loads(path.read_text()))
    for config in load_actions(REPO / "actions").values():
        port.add_action(config.raw_action)
    for path in sorted((REPO / "scorecards").glob("*/*.json")):
        port.add_scorecard(path.parent.name, json.loads(path.read_text()))
    return port


def wait_for(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """The first truthy value of ``condition()``; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def controller_watches(cluster: ClusterProcess, pid: int) -> Sample:
    """The watch streams the emulator serves to ``pid`` (matched by the client's TCP port)."""
    ports = tcp_ports(pid, remote_port=cluster.port)
    watches = Counter(watch.plural for watch in cluster.open_watches() if watch.peer_port in ports)
    return Sample(time.monotonic(), watches, len(ports))


class Sampler:
    """Samples the controller's watches and connections until stopped."""

    def __init__(self, cluster: ClusterProcess, pid: int) -> None:
        self.samples: list[Sample] = []
        self._cluster, self._pid = cluster, pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.samples.append(controller_watches(self._cluster, self._pid))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def wait_until_ready(controller: Popen[bytes], log: Path, cluster: ClusterProcess) -> Sample:
    """Until the controller leads, has started its workers and its watches stop changing."""

    def started() -> bool:
        if controller.poll() is not None:
            raise RuntimeError(f"the controller exited\n{tail(log)}")
        return "controller started" in log.read_text(errors="replace")

    wait_for(started, timeout=60, what="the controller to start")
    stable: list[Sample] = []

    def settled() -> Sample | None:
        sample = controller_watches(cluster, controller.pid)
        if stable and sample.watches != stable[-1].watches:
            stable.clear()
        stable.append(sample)
        return sample if sample.watches and len(stable) >= 10 else None

    found = wait_for(settled, timeout=30, what="the controller's watches", interval=0.1)
    assert found is not None
    return found


def finished_runs(calls: Sequence[RecordedCall]) -> set[str]:
    """Runs a recorded call closed (a PATCH with a terminal status that Port accepted)."""
    closed = set()
    for call in calls:
        body = call.json if isinstance(call.json, Mapping) else {}
        match = _RUN_PATH.fullmatch(call.path)
        if match and call.method == "PATCH" and call.status == 200 and body.get("status") in TERMINAL:
            closed.add(match.group(1))
    return closed


def port_route(call: RecordedCall) -> str:
    """A recorded call's method and path, run ids replaced: ``PATCH /v1/actions/runs/{id}``."""
    path = re.sub(r"/v1/actions/runs/[^/]+", "/v1/actions/runs/{id}", call.path)
    return f"{call.method} {path}"


def idle(pid: int, bind: str, seconds: float) -> Idle:
    """Leave the controller idle (every run finished) for ``seconds``; its RSS and queue depth around."""
    depth = "port_bridge_work_queue_depth"
    before = Idle(seconds, memory_mib(pid, "VmRSS") or nan, 0.0, scrape(bind).get(depth, nan), 0.0)
    time.sleep(seconds)
    before.rss_after, before.depth_after = memory_mib(pid, "VmRSS") or nan, scrape(bind).get(depth, nan)
    return before


def scrape(bind: str) -> dict[str, float]:
    """The controller's own metrics (reconciliations, errors, queue depth), if it serves them."""
    try:
        text = requests.get(f"http://{bind}/metrics", timeout=5).text
    except requests.RequestException:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def epoch(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def kill_if_running(process: Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(5)


def stop_controller(controller: Popen[bytes]) -> float:
    """SIGTERM (it releases the Lease) and reap it; ``ru_maxrss`` in MiB (see the module's docstring)."""
    controller.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(controller.pid, os.WNOHANG)
        if pid:
            controller.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024  # KiB on Linux
        time.sleep(0.05)
    controller.kill()
    _, status, usage = os.wait4(controller.pid, 0)
    controller.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024


def minus(a: Counter[CallKey], *others: Counter[CallKey]) -> dict[CallKey, int]:
    """``a`` minus the others, key by key, negative results kept (they would mean a miscount)."""
    result = {key: a[key] - sum(other[key] for other in others) for key in set(a).union(*others)}
    return {key: value for key, value in result.items() if value}


# --- One size ------------------------------------------------------------------------------------


def run_size(
    runs: int, *, shared: Path, workdir: Path, settings_env: Mapping[str, str], idle_seconds: float = 0.0
) -> SizeResult:
    started = time.monotonic()
    result = SizeResult(runs)
    with ExitStack() as stack:
        cluster = stack.enter_context(ClusterProcess(shared))
        port = port_emulator(shared)
        stack.callback(port.stop)
        simulator_client = stack.enter_context(CountingApiClient(cluster.url))
        intake_client = stack.enter_context(CountingApiClient(cluster.url))
        # Pipelines simulated in-process: the figures are port-bridge's, not the pipeline processes'.
        kratix = KratixSimulator(
            simulator_client, era=Era.CURRENT, timings=TIMINGS, pipelines_python=None
        ).start()
        stack.callback(kratix.stop)
        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(port.client_secret),
            port_api_url=port.url,
            config_dir=REPO,
        )
        app = create_app(settings, api_client=intake_client, actions=load_actions(REPO / "actions"))
        intake = stack.enter_context(WsgiThread(app))

        env = bridge_env(
            kubeconfig=cluster.write_kubeconfig(workdir / f"kubeconfig-{runs}"),
            port_url=port.url,
            client_id=port.client_id,
            client_secret=port.client_secret,
            PORT_BRIDGE_CONTROLLER_BIND=f"127.0.0.1:{free_port()}",  # its probes and metrics
            **{**CONTROLLER_ENV, **settings_env},
        )
        log = workdir / f"controller-{runs}.log"
        controller = start_process(bridge_command("controller"), env=env, log=log)
        stack.callback(kill_if_running, controller)
        ready = wait_until_ready(controller, log, cluster)
        print(
            f"  {runs} runs: controller ready (pid {controller.pid}), watching "
            f"{', '.join(sorted(ready.watches))}",
            flush=True,
        )

        processes = {
            "controller": controller.pid,
            "Kubernetes emulator": cluster.pid,
            "this process": os.getpid(),
        }
        cpu_before = {name: cpu_seconds([pid]) for name, pid in processes.items()}
        ready_at = time.monotonic()
        served_before = cluster.requests_served()
        simulator_before, intake_before = simulator_client.snapshot(), intake_client.snapshot()
        port_calls_before = len(port.calls)
        names: dict[str, str] = {}  # run id -> request name
        delivered = threading.Lock()
        with Sampler(cluster, controller.pid) as sampler:
            delivered_at = time.time()

            def deliver(n: int) -> None:
                name = f"db-{n:04d}"
                inputs = {"name": name, "namespace": NAMESPACE, "env": "dev", "teamId": "acid"}
                invocation = port.invoke(ACTION, inputs=inputs, url=intake.url + "/webhook")
                with delivered:
                    names[invocation.run_id] = name
                    result.answers[invocation.response.status_code] += 1

            with ThreadPoolExecutor(DELIVERY_THREADS) as pool:
                list(pool.map(deliver, range(runs)))
            result.created = len(names)
            result.delivery_seconds = time.time() - delivered_at

            closed: set[str] = set()
            scanned = port_calls_before

            def all_finished() -> bool:
                nonlocal scanned
                calls = port.calls
                closed.update(finished_runs(calls[scanned:]))
                scanned = len(calls)
                return closed >= names.keys()

            try:
                wait_for(all_finished, timeout=60 + 0.2 * runs, what="every run to finish", interval=0.1)
            except TimeoutError as error:
                result.problems.append(str(error))
            result.window_seconds = time.monotonic() - ready_at
            result.cpu = {name: cpu_seconds([pid]) - cpu_before[name] for name, pid in processes.items()}
            served_after = cluster.requests_served()
            simulator_after, intake_after = simulator_client.snapshot(), intake_client.snapshot()
            result.samples = list(sampler.samples)
        port_calls = port.calls[port_calls_before:]
        result.controller_metrics = scrape(env["PORT_BRIDGE_CONTROLLER_BIND"])
        if idle_seconds:
            result.idle = idle(controller.pid, env["PORT_BRIDGE_CONTROLLER_BIND"], idle_seconds)
        result.rss_mib = memory_mib(controller.pid) or float("nan")
        result.ru_maxrss_mib = stop_controller(controller)

        result.simulator_calls = simulator_after - simulator_before
        result.intake_calls = intake_after - intake_before
        remainder = minus(served_after - served_before, result.simulator_calls, result.intake_calls)
        result.controller_calls = Counter({key: value for key, value in remainder.items() if value > 0})
        result.unattributed = {key: value for key, value in remainder.items() if value < 0}
        writes = [
            s for (method, _), times in simulator_client.seconds.items() if method == "PATCH" for s in times
        ]
        result.simulator_write_ms = (percentile(writes, 50) * 1000, percentile(writes, 99) * 1000)
        result.port_calls = Counter(port_route(call) for call in port_calls)
        result.token_requests = port.token_requests
        result.spec_violations = len(port.spec_violations)

        spans: list[tuple[float, float]] = []
        last_success = delivered_at
        for run_id, name in names.items():
            run = port.run(run_id)
            result.statuses[run.status] += 1
            result.single_terminal += len(run.terminal_reports) == 1
            success = next((change for change in run.history if change.status == "SUCCESS"), None)
            finished = kratix.milestones.get(("postgresql", NAMESPACE, name))
            if success is None:
                continue
            last_success = max(last_success, epoch(success.at))
            spans.append((epoch(run.created_at), epoch(success.at)))
            if finished is None:
                result.missing_milestones += 1
            else:
                result.latencies.append(epoch(success.at) - finished)
                result.timeline.append((finished - delivered_at, epoch(success.at) - finished))
        result.follow_seconds = last_success - delivered_at
        result.peak_in_flight = peak_overlap(spans)
        result.problems += [f"Kratix simulator: {error!r}" for error in kratix.errors[:3]]
        result.problems += [f"Kubernetes emulator: {error}" for error in cluster.internal_errors()[:3]]
        if controller.returncode != 0:
            result.problems.append(f"the controller exited with {controller.returncode}\n{tail(log)}")
    result.total_seconds = time.monotonic() - started
    return result


def peak_overlap(spans: Sequence[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans open at one moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


# --- Report --------------------------------------------------------------------------------------


def report_size(result: SizeResult) -> None:
    n = result.runs
    print(f"\n── {n} run{'s' if n != 1 else ''} {'─' * 60}")
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items()))
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(result.answers.items()))
    print(f"Runs: {result.created} delivered (intake answered {answers}); ended: {statuses}")
    print(f"  exactly one terminal status in Port: {result.single_terminal} of {n}")
    print(
        f"  wall: {result.follow_seconds:.1f} s from the first delivery to the last SUCCESS "
        f"({result.total_seconds:.1f} s with setup); peak runs in flight: {result.peak_in_flight}"
    )
    print(
        f"Latency, Kratix's final write -> Port SUCCESS: p50 {result.ms(50):.1f} ms, "
        f"p99 {result.ms(99):.1f} ms, max {result.ms(100):.1f} ms ({len(result.latencies)} runs)"
    )
    if n >= 100:
        print(f"  by when Kratix finished (deliveries took {result.delivery_seconds:.1f} s), p50/max ms:")
        print("   " + timeline_slices(result.timeline))
    print(
        f"  the milestone is taken when the simulator's write returns: its status PATCHes took "
        f"p50 {result.simulator_write_ms[0]:.1f} ms, p99 {result.simulator_write_ms[1]:.1f} ms"
    )
    per_run = ", ".join(
        f"{method} {plural} {count / n:.2f}"
        for (method, plural), count in sorted(result.controller_calls.items())
        if plural != "leases"
    )
    print(f"Kubernetes calls by the controller per run: {result.kube_calls_per_run:.2f} ({per_run})")
    print(
        f"  plus {result.lease_calls} Lease calls in the {result.window_seconds:.1f} s window "
        f"(renewal every {CONTROLLER_ENV['PORT_BRIDGE_LEASE_RETRY_SECONDS']} s, not per run)"
    )
    print(
        f"  for comparison, per run: simulator {result.simulator_calls.total() / n:.1f}, "
        f"intake {result.intake_calls.total() / n:.2f}"
    )
    if result.unattributed:
        print(f"  (miscount: more sent than served for {result.unattributed})")
    routes = ", ".join(f"{route} {count / n:.2f}" for route, count in sorted(result.port_calls.items()))
    print(f"Port calls per run: {result.port_calls_per_run:.2f} ({routes})")
    print(
        f"  token requests in all: {result.token_requests}; "
        f"calls outside Port's OpenAPI spec: {result.spec_violations}"
    )
    low, high = result.watch_range
    kinds = Counter[str]()
    for sample in result.samples:
        kinds |= sample.watches
    print(
        f"Watches open by the controller while runs were in flight: {low}..{high} "
        f"({', '.join(f'{plural} {count}' for plural, count in sorted(kinds.items()))}; "
        f"{len(result.samples)} samples); its TCP connections to the API: at most {result.max_connections}"
    )
    busy = sum(result.cpu.values()) / result.window_seconds / (os.cpu_count() or 1) * 100
    shares = ", ".join(f"{name} {seconds / n * 1000:.0f}" for name, seconds in result.cpu.items())
    print(
        f"CPU ms per run: {shares} (simulator, Port emulator, intake); the {os.cpu_count()} CPUs were "
        f"{busy:.0f}% busy"
    )
    metrics = result.controller_metrics
    if reconciles := metrics.get("port_bridge_reconcile_duration_seconds_count"):
        errors = {
            name.split("cause=")[1].rstrip("}"): int(value)
            for name, value in metrics.items()
            if name.startswith("port_bridge_reconcile_errors_total{") and value
        }
        mean_ms = metrics.get("port_bridge_reconcile_duration_seconds_sum", 0.0) / reconciles * 1000
        print(
            f"Controller's own metrics: {reconciles / n:.1f} reconciliations per run "
            f"(mean {mean_ms:.1f} ms), retried errors {errors or 'none'}, work queue depth at the end "
            f"{metrics.get('port_bridge_work_queue_depth', float('nan')):.0f}"
        )
    if (rest := result.idle) is not None:
        print(
            f"Then {rest.seconds:.0f} s with every run finished: controller RSS {rest.rss_before:.1f} -> "
            f"{rest.rss_after:.1f} MiB, work queue depth {rest.depth_before:.0f} -> {rest.depth_after:.0f}"
        )
    print(
        f"Controller peak RSS: {result.rss_mib:.0f} MiB (VmHWM; ru_maxrss {result.ru_maxrss_mib:.0f} MiB "
        "counts the benchmark's image it was forked from)"
    )
    if result.missing_milestones:
        print(f"  {result.missing_milestones} runs have no simulator milestone")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")


def timeline_slices(timeline: Sequence[tuple[float, float]], slices: int = 6) -> str:
    """Latency p50/max of the runs whose final write fell in each of ``slices`` equal spans of time."""
    if not timeline:
        return "-"
    end = max(at for at, _ in timeline) or 1.0
    parts = []
    for index in range(slices):
        low, high = end * index / slices, end * (index + 1) / slices
        last = index == slices - 1
        chosen = [latency for at, latency in timeline if low <= at < high or (last and at == end)]
        if chosen:
            digits = 0 if end >= 20 else 1
            parts.append(
                f"{low:.{digits}f}-{high:.{digits}f}s: {len(chosen)} runs "
                f"{percentile(chosen, 50) * 1000:.0f}/{max(chosen) * 1000:.0f}"
            )
    return "; ".join(parts)


def report_goals(results: Sequence[SizeResult]) -> bool:
    print(f"\n── Summary {'─' * 60}")
    header = (
        f"{'runs':>5} │ {'wall s':>6} │ {'p50 ms':>7} {'p99 ms':>7} │ {'kube/run':>8} {'port/run':>8} │ "
        f"{'tokens':>6} │ {'watches':>7} │ {'RSS MiB':>7} │ SUCCESS"
    )
    print(header)
    print("─" * len(header))
    for r in results:
        low, high = r.watch_range
        print(
            f"{r.runs:>5} │ {r.follow_seconds:>6.1f} │ {r.ms(50):>7.1f} {r.ms(99):>7.1f} │ "
            f"{r.kube_calls_per_run:>8.2f} {r.port_calls_per_run:>8.2f} │ {r.token_requests:>6} │ "
            f"{f'{low}..{high}':>7} │ {r.rss_mib:>7.0f} │ {r.statuses['SUCCESS']}/{r.runs}"
        )
    print()
    largest = max(results, key=lambda r: r.runs)
    checks = {
        f"p50 <= {GOALS['p50_ms']:.0f} ms at {largest.runs} runs ({largest.ms(50):.1f} ms)": largest.ms(50)
        <= GOALS["p50_ms"],
        f"p99 <= {GOALS['p99_ms']:.0f} ms at {largest.runs} runs ({largest.ms(99):.1f} ms)": largest.ms(99)
        <= GOALS["p99_ms"],
        "one token request in all, for each size": all(r.token_requests == 1 for r in results),
        "watches constant in the number of runs": len({r.watch_range for r in results}) == 1
        and results[0].watch_range[0] == results[0].watch_range[1],
        f"controller RSS <= {GOALS['rss_mib']:.0f} MiB": all(r.rss_mib <= GOALS["rss_mib"] for r in results),
        "every run ended SUCCESS": all(r.statuses["SUCCESS"] == r.runs for r in results),
    }
    for check, met in checks.items():
        print(f"Goal: {check}: {verdict(met)}")
    return all(checks.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Runs followed through the controller, at several sizes.")
    parser.add_argument("--sizes", default="1,100,1000", help="runs in flight, comma-separated")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a controller setting to try, e.g. PORT_BRIDGE_CONTROLLER_WORKERS=16 (repeatable)",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after the runs, leave the controller idle this long and report its RSS and queue depth",
    )
    args = parser.parse_args(argv)
    settings_env = dict(item.split("=", 1) for item in args.set)
    if args.idle and "PORT_BRIDGE_RESYNC_SECONDS" not in settings_env:
        print("note: --idle shows little unless resyncs happen: see PORT_BRIDGE_RESYNC_SECONDS (default 30)")
    sizes = [int(size) for size in args.sizes.split(",")]
    shared = locate_shared_dir()
    started = time.monotonic()
    print(
        f"Kratix simulator: current era, pickup {TIMINGS.pickup}s, pipeline {TIMINGS.pipeline}s, "
        f"works {TIMINGS.works}s; controller: port-bridge controller with "
        f"{' '.join(f'{k}={v}' for k, v in {**CONTROLLER_ENV, **settings_env}.items())}",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        for size in sizes:
            result = run_size(
                size, shared=shared, workdir=Path(tmp), settings_env=settings_env, idle_seconds=args.idle
            )
            report_size(result)
            results.append(result)
    ok = report_goals(results)
    print(f"Total time: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
