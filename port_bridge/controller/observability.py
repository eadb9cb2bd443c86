"""What the controller tells operators: metrics, and probes a kubelet can use.

The controller serves ``/healthz`` (the process and its election loop are alive), ``/readyz``
(ready to take over or leading; says which, and while leading how the catalog sync stands) and
``/metrics`` on its own small port (``PORT_BRIDGE_CONTROLLER_BIND``): how runs end, how long they
take, how long a reconciliation takes and why one failed, the work queue's depth, watch
reconnects, and which replica leads:
the leader gauge (labelled with the replica's identity) is set the moment leadership changes,
not when someone scrapes, and a counter says how often this replica became the leader.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, jsonify
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_RUN_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
_RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs_finished = Counter(
            "port_bridge_runs_finished",
            "Runs closed in Port, by action and result",
            ["action", "result"],
            registry=self.registry,
        )
        self.run_duration = Histogram(
            "port_bridge_run_duration_seconds",
            "From the webhook to the terminal status in Port",
            ["action"],
            registry=self.registry,
            buckets=_RUN_BUCKETS,
        )
        self.reconcile_duration = Histogram(
            "port_bridge_reconcile_duration_seconds",
            "Time for one reconciliation of one run",
            registry=self.registry,
            buckets=_RECONCILE_BUCKETS,
        )
        self.reconcile_errors = Counter(
            "port_bridge_reconcile_errors",
            "Reconciliations that will be retried, by cause",
            ["cause"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "port_bridge_work_queue_depth", "Runs waiting to be reconciled", registry=self.registry
        )
        self.watch_restarts = Gauge(
            "port_bridge_watch_restarts",
            "Watch reconnections after errors, since start",
            registry=self.registry,
        )
        self.leader = Gauge(
            "port_bridge_leader",
            "1 while this replica holds the Lease, else 0, by the replica's identity",
            ["identity"],
            registry=self.registry,
        )
        self.leader_transitions = Counter(
            "port_bridge_leader_transitions",
            "Times this replica became the Lease holder",
            ["identity"],
            registry=self.registry,
        )

    def leadership_changed(self, identity: str, leading: bool) -> None:
        """The leader elector's ``on_change``: called at the start (standby) and at every change."""
        self.leader.labels(identity=identity).set(1 if leading else 0)
        if leading:
            self.leader_transitions.labels(identity=identity).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def health_app(
    metrics: ControllerMetrics,
    *,
    leading: threading.Event,
    alive: Callable[[], bool],
    catalog: Callable[[], Mapping[str, Any] | None] = lambda: None,
) -> Flask:
    app = Flask("port_bridge.controller")

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        ok = alive()
        return jsonify(status="alive" if ok else "stuck", leading=leading.is_set()), 200 if ok else 503

    @app.get("/readyz")
    def readyz() -> Response:
        detail = catalog() if leading.is_set() else None
        extra = {"catalog": dict(detail)} if detail is not None else {}
        return jsonify(ready=True, role="leader" if leading.is_set() else "standby", **extra)

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(metrics.exposition(), mimetype="text/plain; version=0.0.4")

    return app
