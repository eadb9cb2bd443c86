"""The intake Flask application: ``POST /webhook``, ``/runs``, ``/healthz``, ``/readyz``, ``/metrics``.

``create_app`` builds everything from the settings it is given (explicit collaborators may be
passed in by tests and the sandbox); nothing is built at import. Every answer is JSON, but for
the run pages a browser asks for (:mod:`~port_bridge.intake.runviews`); errors never carry a
traceback, whatever the caller sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import kubernetes
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from port_bridge.intake.answers import Answer, RunCloser
from port_bridge.intake.health import Readiness
from port_bridge.intake.metrics import IntakeMetrics
from port_bridge.intake.runviews import add_run_pages
from port_bridge.intake.service import intake_for
from port_bridge.kube.client import api_client as build_api_client
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig, load_actions
from port_bridge.settings import Settings
from port_bridge.startup import PortLogin

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    api_client: kubernetes.client.ApiClient | None = None,
    actions: dict[str, ActionConfig] | None = None,
    closer: RunCloser | None = None,
    port_login: PortLogin | None = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """The intake app; ``api_client``, ``actions`` and ``closer`` default to what ``settings`` name."""
    client = api_client if api_client is not None else build_api_client(kubeconfig=settings.kubeconfig)
    objects = KubeObjects(client, request_timeout=settings.kube_timeout_seconds)
    configured = actions if actions is not None else load_actions(settings.actions_dir)
    intake = intake_for(settings, objects=objects, actions=configured, closer=closer, clock=clock)
    metrics = IntakeMetrics()
    readiness = Readiness(client, actions_loaded=len(configured), port_login=port_login, clock=clock)

    app = Flask("port_bridge.intake")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        outcome = getattr(g, "outcome", None) or str(response.status_code)
        metrics.observe(
            route=route, outcome=outcome, seconds=time.perf_counter() - g.get("started", time.perf_counter())
        )
        return response

    @app.post("/webhook")
    def webhook() -> tuple[Response, int, dict[str, str]]:
        body = request.get_data(cache=False)
        headers = {key.lower(): value for key, value in request.headers.items()}
        answer = intake.handle(headers, body)
        return _respond(answer)

    add_run_pages(app, objects=objects, namespace=settings.namespace, token=settings.runs_token)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="alive")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        ready, checks = readiness.check()
        return jsonify(ready=ready, checks=checks), 200 if ready else 503

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(metrics.exposition(), mimetype="text/plain; version=0.0.4")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        g.outcome = _HTTP_OUTCOMES.get(error.code or 500, "rejected")
        message = error.description or error.name
        if error.code == 413:
            message = f"the body is larger than the {settings.max_body_bytes} bytes port-bridge accepts"
        return jsonify(error=error.name.lower().replace(" ", "_"), message=message), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unexpected error while handling %s %s", request.method, request.path)
        g.outcome = "error"
        return jsonify(error="internal_error", message="port-bridge failed unexpectedly; see its logs"), 500

    return app


_HTTP_OUTCOMES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _respond(answer: Answer) -> tuple[Response, int, dict[str, str]]:
    g.outcome = answer.outcome
    return jsonify(answer.body), answer.status, answer.headers
