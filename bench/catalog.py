"""Benchmark: the catalog sync of 10,000 requests of 3 Promises, and 1,000 runs followed beside it.

Why: the catalog sync must put every request in Port without costing Port more than its bulk route
needs (goal: at most 1.05 x 500 calls for 10,000 entities), write nothing that has not changed,
write a change in a handful of calls, and never cost the runs anything: no lost report, no 429,
and report latency not worse than twice what it is without the sync, while Port enforces its
published organisation limits (35,000 entity requests and 15,000 others per 5 minutes).

Each scenario starts afresh: the Kubernetes emulator in a process of its own (bench/common.py),
10,000 requests of the ``postgresql``, ``redis`` and ``namespace`` Promises created in it over
HTTP with a current-era status (mostly reconciled, some failed, some still running), the Port
emulator in this process with the project's blueprints, enforcing the published limits, and
``port-bridge controller`` as a subprocess (its Port calls are all the emulator records, its peak
RSS is read from /proc).

1. **Mirror**: the controller's first full pass (wall time from its start, Port calls by route,
   peak RSS); a second full pass with nothing changed (``PORT_BRIDGE_CATALOG_RESYNC_SECONDS``);
   then 100 requests changed at once (Port calls until all 100 are in Port, and how long).
2. **Runs without the sync**: 1,000 ``create-postgresql`` runs as bench/follow.py makes them (signed
   webhooks to intake, a current-era Kratix simulator), ``PORT_BRIDGE_CATALOG_SYNC=false``.
3. **Runs with the sync**: the same 1,000 runs delivered the moment the controller leads, so they
   are in flight while it mirrors the 10,000 requests.

The simulator leaves the 10,000 created requests alone (they stand for requests Kratix finished
long ago; otherwise it would re-run every one of them and the benchmark would measure it).
Latency is as in bench/follow.py: from the simulator's final write to Port recording SUCCESS.

``--window 10`` enforces the same limits per 10 s instead of per 5 minutes (the published rate
without its allowance for bursts), so that the runs' reports have to be paced.

    .venv/bin/python -m bench.catalog [--requests 10000] [--runs 1000] [--changed 100] [--window 300]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

import kubernetes
from pydantic import SecretStr

from bench.common import (
    REPO,
    ClusterProcess,
    bridge_command,
    bridge_env,
    free_port,
    memory_mib,
    percentile,
    start_process,
    tail,
    verdict,
)
from bench.follow import (
    CONTROLLER_ENV,
    epoch,
    finished_runs,
    kill_if_running,
    port_emulator,
    port_route,
    scrape,
    stop_controller,
    wait_for,
)
from port_bridge.intake.app import create_app
from port_bridge.kube.objects import KubeObjects, Resource
from port_bridge.mapping.actions import load_actions
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings
from port_bridge_sandbox.kratix import Era, KratixSimulator, Timings
from port_bridge_sandbox.port import PortEmulator, RateLimits
from port_bridge_sandbox.shared import locate_shared_dir

SEEDED = "bench.port-bridge.io/seeded"
NAMESPACES = ("default", "team-b")  # the runs use team-a
RUN_NAMESPACE = "team-a"
TIMINGS = Timings(pickup=0.01, pipeline=0.05, works=0.02, delete_pipeline=0.05)
RESYNC_SECONDS = 20
WHEN = "2026-05-01T10:00:00Z"
GOALS = {"initial_calls": 1.05 * 500, "changed_calls": 10, "p99_ratio": 2.0}


@dataclass(frozen=True)
class Kind:
    promise: str
    resource: Resource
    blueprint: str

    def spec(self, index: int, *, changed: bool = False) -> dict[str, Any]:
        if self.promise == "postgresql":
            return {
                "env": "prod" if changed else "dev",
                "teamId": f"team-{index % 7}",
                "dbName": f"db{index}",
            }
        if self.promise == "redis":
            return {"size": "large" if changed else "small"}
        return {"namespaceName": f"ns-{index}", "clusterName": "worker-2" if changed else "worker-1"}


KINDS = (
    Kind("postgresql", Resource("marketplace.kratix.io", "v1alpha2", "postgresqls"), "postgresql"),
    Kind("redis", Resource("marketplace.kratix.io", "v1alpha1", "redis"), "redis"),
    Kind("namespace", Resource("marketplace.kratix.io", "v1alpha1", "namespaces"), "kratix-namespace"),
)


def condition(kind: str, status: str, reason: str) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": reason, "lastTransitionTime": WHEN}


def kratix_status(index: int, kind: Kind) -> dict[str, Any]:
    """What Kratix (2025 onwards) left on the request: 1 in 20 failed, 1 in 25 running, else reconciled."""
    if index % 20 == 0:
        cwc = condition("ConfigureWorkflowCompleted", "False", "ConfigureWorkflowFailed")
        return {"message": "Pending", "workflows": 1, "workflowsFailed": 1, "conditions": [cwc]}
    if index % 25 == 0:
        cwc = condition("ConfigureWorkflowCompleted", "False", "PipelinesInProgress")
        return {"message": "Pending", "workflows": 1, "workflowsSucceeded": 0, "conditions": [cwc]}
    status: dict[str, Any] = {
        "message": "Resource requested",
        "observedGeneration": 1,
        "workflows": 1,
        "workflowsSucceeded": 1,
        "workflowsFailed": 0,
        "lastSuccessfulConfigureWorkflowTime": WHEN,
        "conditions": [
            condition("ConfigureWorkflowCompleted", "True", "PipelinesExecutedSuccessfully"),
            condition("WorksSucceeded", "True", "WorksSucceeded"),
            condition("Reconciled", "True", "Reconciled"),
        ],
    }
    if kind.promise == "postgresql":
        status["connectionDetails"] = {"host": f"req-{index}.postgresql.svc"}
    return status


def seeded_name(index: int) -> tuple[Kind, str, str]:
    return KINDS[index % 3], NAMESPACES[index % 2], f"req-{index:05d}"


def seed(client: kubernetes.client.ApiClient, count: int) -> float:
    """Create ``count`` requests (with Kratix's status) as kubectl and Kratix would; seconds taken."""
    objects, started = KubeObjects(client), time.monotonic()

    def create(index: int) -> None:
        kind, namespace, name = seeded_name(index)
        body = {
            "apiVersion": kind.resource.api_version,
            "kind": kind.promise,
            "metadata": {"name": name, "namespace": namespace, "labels": {SEEDED: "true"}},
            "spec": kind.spec(index),
        }
        objects.create(kind.resource, body, namespace=namespace)
        objects.patch_status(kind.resource, name, {"status": kratix_status(index, kind)}, namespace=namespace)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(count)))
    return time.monotonic() - started


class QuietKratix(KratixSimulator):
    """The simulator, leaving the seeded requests alone (Kratix finished with them long ago)."""

    def _on_request(self, promise: str, kind: str, request: dict[str, Any]) -> None:
        if (request["metadata"].get("labels") or {}).get(SEEDED) != "true":
            super()._on_request(promise, kind, request)


def limits(window: float) -> RateLimits:
    """Port's published limits, per ``window`` seconds instead of 300 (the same rate)."""
    published = RateLimits()
    scale = window / published.period
    return RateLimits(
        entities=round(published.entities * scale),
        other=round(published.other * scale),
        unauthenticated=published.unauthenticated,
        period=window,
    )


@contextlib.contextmanager
def environment(
    shared: Path, requests: int, window: float
) -> Iterator[tuple[ClusterProcess, PortEmulator, float]]:
    """A cluster holding ``requests`` requests and a Port enforcing the published limits."""
    with ClusterProcess(shared) as cluster:
        configuration = kubernetes.client.Configuration()
        configuration.host, configuration.connection_pool_maxsize = cluster.url, 32
        with kubernetes.client.ApiClient(configuration) as client:
            seconds = seed(client, requests)
        port = port_emulator(shared)
        port.limit_rate(limits(window))
        try:
            yield cluster, port, seconds
        finally:
            port.stop()


def start_controller(
    cluster: ClusterProcess, port: PortEmulator, workdir: Path, name: str, **settings: str
) -> tuple[Popen[bytes], Path, str]:
    bind = f"127.0.0.1:{free_port()}"
    env = bridge_env(
        kubeconfig=cluster.write_kubeconfig(workdir / f"kubeconfig-{name}"),
        port_url=port.url,
        client_id=port.client_id,
        client_secret=port.client_secret,
        PORT_BRIDGE_CONTROLLER_BIND=bind,
        **{**CONTROLLER_ENV, **settings},
    )
    log = workdir / f"controller-{name}.log"
    return start_process(bridge_command("controller"), env=env, log=log), log, bind


def metric(bind: str, name: str) -> float:
    return scrape(bind).get(name, 0.0)


def full_passes(bind: str) -> float:
    return metric(bind, "port_bridge_catalog_passes_total{kind=full}")


def upserts(bind: str) -> float:
    return metric(bind, "port_bridge_catalog_writes_total{operation=upsert}")


def writes_among(calls: Sequence[Any]) -> int:
    """Entity writes among recorded calls (bulk upserts and deletes)."""
    return sum(call.method in ("POST", "DELETE") and "/entities" in call.path for call in calls)


def alive(controller: Popen[bytes], log: Path) -> Callable[[], None]:
    def check() -> None:
        if controller.poll() is not None:
            raise RuntimeError(f"the controller exited\n{tail(log)}")

    return check


# --- 1. Mirror ------------------------------------------------------------------------------------


@dataclass
class Mirror:
    requests: int
    seed_seconds: float = 0.0
    initial_seconds: float = 0.0  # controller start to the end of its first full pass
    sync_seconds: float = 0.0  # its first Port call of the pass to the last
    initial_calls: Counter[str] = field(default_factory=Counter)
    entities: int = 0
    rss_mib: float = 0.0
    second_calls: Counter[str] = field(default_factory=Counter)
    second_writes: int = 0
    second_seconds: float = 0.0
    changed: int = 0
    changed_calls: Counter[str] = field(default_factory=Counter)
    changed_seconds: float = 0.0
    rate_limited: int = 0
    problems: list[str] = field(default_factory=list)


def mirror(shared: Path, workdir: Path, *, requests: int, changed: int, window: float) -> Mirror:
    result = Mirror(requests)
    with environment(shared, requests, window) as (cluster, port, seeded):
        result.seed_seconds = seeded
        started = time.monotonic()
        controller, log, bind = start_controller(
            cluster, port, workdir, "mirror", PORT_BRIDGE_CATALOG_RESYNC_SECONDS=str(RESYNC_SECONDS)
        )
        try:
            check = alive(controller, log)

            def passes(count: int) -> bool:
                check()
                return full_passes(bind) >= count

            wait_for(lambda: passes(1), timeout=600, what="the first full pass", interval=0.1)
            result.initial_seconds = time.monotonic() - started
            first = port.calls
            result.initial_calls = Counter(port_route(call) for call in first)
            stamps = [call.at for call in first if call.path != "/v1/auth/access_token"]
            result.sync_seconds = max(stamps) - min(stamps) if stamps else 0.0
            result.entities = int(metric(bind, "port_bridge_catalog_entities"))
            result.rss_mib = memory_mib(controller.pid) or float("nan")

            second_started = time.monotonic()
            wait_for(lambda: passes(2), timeout=600, what="the second full pass", interval=0.1)
            result.second_seconds = time.monotonic() - second_started
            second = port.calls[len(first) :]
            result.second_calls = Counter(port_route(call) for call in second)
            result.second_writes = writes_among(second)

            before, written = len(port.calls), upserts(bind)
            objects = KubeObjects(cluster.client())
            chosen = list(itertools.islice((i for i in range(requests) if i % 20 and i % 25), changed))
            changed_at = time.monotonic()

            def change(index: int) -> None:
                kind, namespace, name = seeded_name(index)
                objects.patch(
                    kind.resource, name, {"spec": kind.spec(index, changed=True)}, namespace=namespace
                )

            with ThreadPoolExecutor(16) as pool:
                list(pool.map(change, chosen))
            wait_for(lambda: upserts(bind) >= written + len(chosen), timeout=60, what="the changes in Port")
            result.changed, result.changed_seconds = len(chosen), time.monotonic() - changed_at
            result.changed_calls = Counter(port_route(call) for call in port.calls[before:])
            result.rss_mib = max(result.rss_mib, memory_mib(controller.pid) or 0.0)
            result.rate_limited = len(port.rate_limited)
        except Exception as error:
            result.problems.append(f"{error}\n{tail(log)}")
        finally:
            stop_controller(controller)
            kill_if_running(controller)
    return result


# --- 2, 3. Runs beside the sync --------------------------------------------------------------------


@dataclass
class Runs:
    sync: bool
    runs: int
    statuses: Counter[str] = field(default_factory=Counter)
    single_terminal: int = 0
    latencies: list[float] = field(default_factory=list)
    follow_seconds: float = 0.0
    sync_done_seconds: float | None = None  # controller start to the end of its first full pass
    rate_limited: int = 0
    throttled: float = 0.0
    paced: dict[str, float] = field(default_factory=dict)
    port_calls: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def lost(self) -> int:
        return self.runs - self.single_terminal


def runs_beside(shared: Path, workdir: Path, *, sync: bool, requests: int, runs: int, window: float) -> Runs:
    result = Runs(sync, runs)
    with contextlib.ExitStack() as stack:
        cluster, port, _ = stack.enter_context(environment(shared, requests, window))
        kube = stack.enter_context(kubernetes.client.ApiClient(_configuration(cluster.url)))
        kratix = QuietKratix(kube, era=Era.CURRENT, timings=TIMINGS).start()
        stack.callback(kratix.stop)
        settings = Settings(
            port_client_id=port.client_id,
            port_client_secret=SecretStr(port.client_secret),
            port_api_url=port.url,
            config_dir=REPO,
        )
        intake = stack.enter_context(
            WsgiThread(create_app(settings, api_client=kube, actions=load_actions(REPO / "actions")))
        )
        started = time.monotonic()
        controller, log, bind = start_controller(
            cluster,
            port,
            workdir,
            f"runs-{'sync' if sync else 'alone'}",
            PORT_BRIDGE_CATALOG_SYNC=str(sync).lower(),
        )
        stack.callback(kill_if_running, controller)
        check = alive(controller, log)

        def started_up() -> bool:
            check()
            return "controller started" in log.read_text(errors="replace")

        wait_for(started_up, timeout=120, what="the controller to lead")
        names: dict[str, str] = {}
        lock = threading.Lock()
        delivered_at = time.time()

        def deliver(n: int) -> None:
            name = f"db-{n:04d}"
            inputs = {"name": name, "namespace": RUN_NAMESPACE, "env": "dev", "teamId": "acid"}
            invocation = port.invoke("create-postgresql", inputs=inputs, url=intake.url + "/webhook")
            with lock:
                names[invocation.run_id] = name

        closed: set[str] = set()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(deliver, range(runs)))

        def all_finished() -> bool:
            check()
            closed.update(finished_runs(port.calls))
            if sync and result.sync_done_seconds is None and full_passes(bind) >= 1:
                result.sync_done_seconds = time.monotonic() - started
            return closed >= names.keys()

        try:
            wait_for(all_finished, timeout=120 + 0.5 * runs, what="every run to finish", interval=0.5)
            if sync and result.sync_done_seconds is None:
                wait_for(
                    lambda: full_passes(bind) >= 1, timeout=600, what="the first full pass", interval=0.2
                )
                result.sync_done_seconds = time.monotonic() - started
        except Exception as error:
            result.problems.append(str(error))
        result.throttled = metric(bind, "port_bridge_port_throttled_total")
        result.paced = {
            priority: metric(bind, f"port_bridge_port_paced_seconds_total{{priority={priority}}}")
            for priority in ("foreground", "background")
        }
        stop_controller(controller)
        result.rate_limited = len(port.rate_limited)
        result.port_calls = Counter(port_route(call) for call in port.calls)
        last = delivered_at
        for run_id, name in names.items():
            run = port.run(run_id)
            result.statuses[run.status] += 1
            result.single_terminal += run.status == "SUCCESS" and len(run.terminal_reports) == 1
            success = next((change for change in run.history if change.status == "SUCCESS"), None)
            done = kratix.milestones.get(("postgresql", RUN_NAMESPACE, name))
            if success is not None and done is not None:
                result.latencies.append(epoch(success.at) - done)
                last = max(last, epoch(success.at))
        result.follow_seconds = last - delivered_at
        result.problems += [f"Kratix simulator: {error!r}" for error in kratix.errors[:3]]
    return result


def _configuration(url: str) -> kubernetes.client.Configuration:
    configuration = kubernetes.client.Configuration()
    configuration.host, configuration.connection_pool_maxsize = url, 32
    return configuration


# --- Report -----------------------------------------------------------------------------------------


def routes(calls: Mapping[str, int]) -> str:
    return ", ".join(f"{route} {count}" for route, count in sorted(calls.items(), key=lambda item: -item[1]))


def report_mirror(m: Mirror) -> dict[str, bool]:
    n, total = m.requests, m.initial_calls.total()
    print(f"\n── Mirror: {n} requests of 3 Promises ({m.seed_seconds:.0f} s to create them) {'─' * 20}")
    print(
        f"First full pass: {m.entities} entities mirrored, {total} Port calls "
        f"({total / max(n / 20, 1):.3f} x {n / 20:.0f}, the bulk minimum); {routes(m.initial_calls)}"
    )
    print(
        f"  wall {m.initial_seconds:.1f} s from the controller's start (its Port calls span "
        f"{m.sync_seconds:.1f} s); controller peak RSS {m.rss_mib:.0f} MiB (VmHWM)"
    )
    print(
        f"Second full pass, nothing changed: {m.second_writes} writes, {m.second_calls.total()} calls "
        f"({routes(m.second_calls)})"
    )
    print(
        f"{m.changed} requests changed at once: {m.changed_calls.total()} Port calls "
        f"({routes(m.changed_calls)}), all in Port {m.changed_seconds:.1f} s after the first change"
    )
    print(f"429s Port answered: {m.rate_limited}")
    for problem in m.problems:
        print(f"PROBLEM: {problem}")
    changed = m.changed_calls.total()
    return {
        f"initial sync <= {GOALS['initial_calls']:.0f} Port calls ({total})": 0
        < total
        <= GOALS["initial_calls"],
        f"every request mirrored ({m.entities} of {n})": m.entities == n,
        f"second pass writes nothing ({m.second_writes})": m.second_writes == 0,
        f"{m.changed} changes in <= {GOALS['changed_calls']} calls ({changed})": 0
        < changed
        <= GOALS["changed_calls"],
    }


def report_runs(alone: Runs, beside: Runs) -> dict[str, bool]:
    for result in (alone, beside):
        label = "with the sync" if result.sync else "without the sync"
        print(f"\n── {result.runs} runs {label} {'─' * 40}")
        statuses = ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items()))
        print(f"Ended: {statuses}; exactly one terminal SUCCESS: {result.single_terminal}")
        print(
            f"Latency, Kratix's final write -> Port SUCCESS: p50 {result.ms(50):.0f} ms, "
            f"p99 {result.ms(99):.0f} ms, max {result.ms(100):.0f} ms; wall {result.follow_seconds:.1f} s"
        )
        if result.sync_done_seconds is not None:
            print(
                f"  the sync's first full pass ended {result.sync_done_seconds:.1f} s after the controller "
                "started"
            )
        paced = ", ".join(f"{priority} {seconds:.1f}" for priority, seconds in result.paced.items())
        print(
            f"  Port answered 429 {result.rate_limited} times (the controller counted "
            f"{result.throttled:.0f}); seconds calls waited for Port's limit: {paced}"
        )
        print(f"  Port calls: {result.port_calls.total()} ({routes(result.port_calls)})")
        for problem in result.problems:
            print(f"PROBLEM: {problem}")
    ratio = beside.ms(99) / alone.ms(99) if alone.ms(99) else float("nan")
    print(f"\np99 with the sync / without: {ratio:.2f}")
    return {
        f"0 lost reports ({beside.lost})": beside.lost == 0,
        f"0 429s answered to port-bridge ({beside.rate_limited})": beside.rate_limited == 0,
        f"p99 with the sync <= {GOALS['p99_ratio']:.0f} x without ({ratio:.2f})": ratio <= GOALS["p99_ratio"],
    }


def report(m: Mirror | None, alone: Runs | None, beside: Runs | None) -> bool:
    checks = report_mirror(m) if m is not None else {}
    if alone is not None and beside is not None:
        checks |= report_runs(alone, beside)
    print()
    for check, met in checks.items():
        print(f"Goal: {check}: {verdict(met)}")
    return all(checks.values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The catalog sync at scale, and runs beside it.")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1000, help="0 to skip the runs scenarios")
    parser.add_argument("--changed", type=int, default=100, help="0 to skip the mirror scenario")
    parser.add_argument(
        "--window", type=float, default=300.0, help="Port's limits per this many seconds (same rate)"
    )
    args = parser.parse_args(argv)
    shared, started = locate_shared_dir(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        workdir = Path(tmp)
        window = limits(args.window)
        print(
            f"Port enforces {window.entities} entity requests and {window.other} others per "
            f"{window.period:g} s",
            flush=True,
        )
        mirrored = alone = beside = None
        if args.changed:
            print(f"Mirror: {args.requests} requests ...", flush=True)
            mirrored = mirror(
                shared, workdir, requests=args.requests, changed=args.changed, window=args.window
            )
        if args.runs:
            print(f"Runs: {args.runs} without the sync ...", flush=True)
            alone = runs_beside(
                shared, workdir, sync=False, requests=args.requests, runs=args.runs, window=args.window
            )
            print(f"Runs: {args.runs} with the sync of {args.requests} requests ...", flush=True)
            beside = runs_beside(
                shared, workdir, sync=True, requests=args.requests, runs=args.runs, window=args.window
            )
    ok = report(mirrored, alone, beside)
    print(f"Total time: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
