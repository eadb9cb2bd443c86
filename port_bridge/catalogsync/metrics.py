"""What the catalog sync tells operators, on the controller's ``/metrics``.

The counters outlive leadership terms (each term has its own sync): they are made once per process
on the controller's registry. How often Port answered 429, and how long calls waited to stay
under Port's rate limit, are read from the Port client's budget (:mod:`port_bridge.port.budget`),
which reports and the sync share.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from port_bridge.port.budget import RateBudget


class CatalogMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.mirrored = Gauge(
            "port_bridge_catalog_entities",
            "Entities port-bridge mirrors from Kratix requests (and would delete with them)",
            registry=registry,
        )
        self.writes = Counter(
            "port_bridge_catalog_writes",
            "Entities the catalog sync wrote to Port, by operation (upsert, delete)",
            ["operation"],
            registry=registry,
        )
        self.calls = Counter(
            "port_bridge_catalog_port_calls", "Port calls the catalog sync made to write", registry=registry
        )
        self.unchanged = Counter(
            "port_bridge_catalog_unchanged",
            "Requests looked at whose entity in Port already said what the sync would write",
            registry=registry,
        )
        self.refused = Counter(
            "port_bridge_catalog_refused",
            "Entities Port refused (left until their request changes)",
            registry=registry,
        )
        self.held_back = Counter(
            "port_bridge_catalog_deletes_held_back",
            "Deletes not made because a pass would have deleted more than the safety threshold allows",
            registry=registry,
        )
        self.passes = Counter(
            "port_bridge_catalog_passes",
            "Passes of the catalog sync, by kind (full, watch)",
            ["kind"],
            registry=registry,
        )


class BudgetCollector(Collector):
    """Port's 429s and the time calls waited for the rate limit, read from a client's budget."""

    def __init__(self, budget: RateBudget) -> None:
        self._budget = budget

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = self._budget.stats
        throttled = CounterMetricFamily(
            "port_bridge_port_throttled", "Answers 429 (rate limited) received from Port, by every caller"
        )
        throttled.add_metric([], stats.throttled)
        yield throttled
        paced = CounterMetricFamily(
            "port_bridge_port_paced_seconds",
            "Time calls waited to stay under Port's rate limit, by priority (foreground, background)",
            labels=["priority"],
        )
        for priority in ("foreground", "background"):
            paced.add_metric([priority], stats.paced_seconds.get(priority, 0.0))
        yield paced
