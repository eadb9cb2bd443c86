"""The run pages' routes: JSON for programs, HTML for a person who followed the Port run's link.

``GET /runs`` lists the newest runs and ``GET /runs/<run id>`` shows one with its journal; a
browser (``Accept: text/html``) gets a page rendered from the same answer (Jinja escapes every
value), anything else the JSON. With ``PORT_BRIDGE_RUNS_TOKEN`` set, both need
``Authorization: Bearer <token>`` (compared in constant time) and answer 401 without it.
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, g, jsonify, render_template, request
from pydantic import SecretStr

from port_bridge.intake.answers import Answer
from port_bridge.intake.runpage import describe, list_runs
from port_bridge.kube.objects import KubeObjects

HTML = "text/html"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="port-bridge runs"'}
# The pages run no script and load nothing: their only styles are inline.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def add_run_pages(app: Flask, *, objects: KubeObjects, namespace: str, token: SecretStr | None) -> None:
    """Serve ``/runs`` and ``/runs/<run id>`` from the ActionRuns in ``namespace``."""

    def unauthorized() -> Answer | None:
        if token is None:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
            return None
        message = "these pages need the header Authorization: Bearer <PORT_BRIDGE_RUNS_TOKEN>"
        return Answer(401, {"error": "unauthorized", "message": message}, "unauthorized", dict(CHALLENGE))

    @app.get("/runs")
    def runs_page() -> tuple[Response | str, int, dict[str, str]]:
        answer = unauthorized() or list_runs(objects=objects, namespace=namespace)
        return _shown(answer, "runs.html")

    @app.get("/runs/<run_id>")
    def run_page(run_id: str) -> tuple[Response | str, int, dict[str, str]]:
        answer = unauthorized() or describe(run_id, objects=objects, namespace=namespace)
        return _shown(answer, "run.html")


def wants_html() -> bool:
    """Whether the caller prefers HTML to JSON (a browser does; curl and programs do not)."""
    return request.accept_mimetypes.best_match(["application/json", HTML]) == HTML


def _shown(answer: Answer, template: str) -> tuple[Response | str, int, dict[str, str]]:
    g.outcome = answer.outcome
    headers = {**answer.headers, "Vary": "Accept, Authorization", "Cache-Control": "no-store"}
    if not wants_html():
        return jsonify(answer.body), answer.status, headers
    headers.update(PAGE_HEADERS)
    page = template if answer.status == 200 else "refusal.html"
    return render_template(page, answer=answer.body, status=answer.status), answer.status, headers
