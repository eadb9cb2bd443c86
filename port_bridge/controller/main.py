"""``port-bridge controller``: the controller behind leader election, built from the settings.

Each leadership term gets its own controller and fence, and a view of the Port client whose waits
between retries belong to the term, so losing the Lease cuts them short (:mod:`.fence`). The
catalog sync (``PORT_BRIDGE_CATALOG_*``) runs in each term's controller; its metrics, and Port's
rate limit as the client's budget saw it, are kept for the whole process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import kubernetes

from port_bridge.catalogsync import BudgetCollector, CatalogMetrics, CatalogOptions
from port_bridge.controller.fence import Fence
from port_bridge.controller.leader import LeaderElector
from port_bridge.controller.manager import Controller
from port_bridge.controller.observability import ControllerMetrics, health_app
from port_bridge.controller.reconciler import Options
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.client import api_client as build_api_client
from port_bridge.kube.objects import KubeObjects
from port_bridge.live.promises import ActionRegistry
from port_bridge.live.publish import PortPublisher
from port_bridge.mapping.actions import ActionConfig, load_actions
from port_bridge.pipelinelogs import PipelineLogOptions
from port_bridge.port.client import PortClient
from port_bridge.scorecards.files import load_scorecard_dir
from port_bridge.scorecards.model import Scorecard
from port_bridge.serving import WsgiThread
from port_bridge.settings import Settings


def run_controller(
    settings: Settings,
    stop: threading.Event,
    *,
    api_client: kubernetes.client.ApiClient | None = None,
    port: PortClient | None = None,
    actions: dict[str, ActionConfig] | None = None,
    scorecards: Mapping[str, Sequence[Scorecard]] | None = None,
    watch_timeout_seconds: int = 300,
    on_started: list[Controller] | None = None,
) -> None:
    """Campaign for the Lease and, while holding it, run the controller; return when ``stop`` is set.

    ``port`` (default: a client built from the settings) is shared by every term, each term waiting
    between retries with its own fence.
    """
    client = api_client if api_client is not None else build_api_client(kubeconfig=settings.kubeconfig)
    objects = KubeObjects(client, request_timeout=settings.kube_timeout_seconds)
    reporter = port if port is not None else _port_client(settings)
    configured = ActionRegistry(actions if actions is not None else load_actions(settings.actions_dir))
    file_blueprints = _file_blueprints(settings)
    cards = scorecards if scorecards is not None else _scorecards(settings)
    promises = PromiseCatalog(objects)
    options = Options(
        namespace=settings.namespace,
        link_template=settings.link_template,
        retention_seconds=settings.retention_seconds,
    )
    metrics = ControllerMetrics()
    catalog_metrics = CatalogMetrics(metrics.registry)
    metrics.registry.register(BudgetCollector(reporter.budget))
    catalog = _catalog_options(settings)
    leading_now: list[Controller] = []  # this term's controller, for /readyz
    elector = LeaderElector(
        client,
        namespace=settings.namespace,
        name=settings.lease_name,
        identity=settings.identity,
        lease_seconds=settings.lease_seconds,
        renew_deadline_seconds=settings.lease_renew_deadline_seconds,
        retry_seconds=settings.lease_retry_seconds,
        on_change=metrics.leadership_changed,
    )
    health = _serve_health(
        settings.controller_bind,
        metrics,
        elector,
        settings.lease_retry_seconds,
        catalog=lambda: _catalog_status(leading_now),
    )

    def lead(lost: threading.Event) -> None:
        fence = Fence(lost)
        with reporter.with_sleep(fence.sleep) as term_port:
            controller = Controller(
                objects=objects,
                port=term_port,
                actions=configured,
                scorecards=cards,
                promises=promises,
                options=options,
                workers=settings.controller_workers,
                resync_seconds=settings.resync_seconds,
                watch_timeout_seconds=watch_timeout_seconds,
                metrics=metrics,
                fence=fence,
                stop_seconds=elector.stop_margin_seconds,
                publisher=PortPublisher(term_port, file_blueprints=file_blueprints),
                pipeline_logs=_pipeline_logs(settings),
                catalog=catalog,
                catalog_metrics=catalog_metrics,
            )
            if on_started is not None:
                on_started.append(controller)
            leading_now[:] = [controller]
            try:
                controller.run(lost)
            finally:
                leading_now.clear()

    try:
        elector.run(stop, lead=lead)
    finally:
        if health is not None:
            health.stop()
        if port is None:
            reporter.close()


def _pipeline_logs(settings: Settings) -> PipelineLogOptions:
    return PipelineLogOptions(
        max_lines=settings.pipeline_log_max_lines,
        max_bytes=settings.pipeline_log_max_bytes,
        poll_seconds=settings.pipeline_log_poll_seconds,
        request_timeout=settings.kube_timeout_seconds,
        secrets=(settings.port_client_secret.get_secret_value(),),
    )


def _catalog_options(settings: Settings) -> CatalogOptions | None:
    if not settings.catalog_sync:
        return None
    return CatalogOptions(
        resync_seconds=settings.catalog_resync_seconds,
        delete_threshold=settings.catalog_delete_threshold,
        delete_floor=settings.catalog_delete_floor,
    )


def _catalog_status(leading_now: list[Controller]) -> dict[str, Any] | None:
    controller = next(iter(leading_now), None)
    return controller.catalog.status() if controller is not None and controller.catalog is not None else None


def _file_blueprints(settings: Settings) -> set[str]:
    """The blueprints the project's files define: a live Promise's generated one never replaces them."""
    return {path.stem for path in (settings.config_dir / "blueprints").glob("*.json")}


def _scorecards(settings: Settings) -> dict[str, list[Scorecard]]:
    directory = settings.config_dir / "scorecards"
    return load_scorecard_dir(directory) if directory.is_dir() else {}


def _port_client(settings: Settings) -> PortClient:
    return PortClient(
        settings.port_api_url,
        client_id=settings.port_client_id,
        client_secret=settings.port_client_secret.get_secret_value(),
        max_retry_seconds=settings.port_retry_seconds,
    )


def _serve_health(
    bind: str,
    metrics: ControllerMetrics,
    elector: LeaderElector,
    retry: float,
    *,
    catalog: Callable[[], Mapping[str, Any] | None],
) -> WsgiThread | None:
    if not bind:
        return None
    host, _, port = bind.rpartition(":")
    grace = max(10.0, 5 * retry)
    app = health_app(
        metrics,
        leading=elector.leading,
        alive=lambda: time.monotonic() - elector.last_beat < grace,
        catalog=catalog,
    )
    return WsgiThread(app, host=host or "0.0.0.0", port=int(port)).start()  # noqa: S104
