"""Prometheus metrics for intake, correct under several gunicorn workers.

Each gunicorn worker is its own process, so counters live in prometheus-client's multiprocess
files when ``PROMETHEUS_MULTIPROC_DIR`` is set (``port-bridge serve`` sets it before anything imports
prometheus-client: see :mod:`.multiprocess`) and ``/metrics`` aggregates them; otherwise (tests,
the sandbox) a private registry.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from port_bridge.intake.multiprocess import MULTIPROC_ENV

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class IntakeMetrics:
    def __init__(self) -> None:
        self._multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self._registry = None if self._multiprocess else CollectorRegistry()
        self.requests = Counter(
            "port_bridge_http_requests",
            "HTTP requests served by intake, by route and outcome",
            ["route", "outcome"],
            registry=self._registry,
        )
        self.latency = Histogram(
            "port_bridge_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            ["route"],
            registry=self._registry,
            buckets=_LATENCY_BUCKETS,
        )

    def observe(self, *, route: str, outcome: str, seconds: float) -> None:
        self.requests.labels(route=route, outcome=outcome).inc()
        self.latency.labels(route=route).observe(seconds)

    def exposition(self) -> bytes:
        if self._registry is not None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
