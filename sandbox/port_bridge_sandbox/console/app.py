"""The console's Flask app: Port's self-service pages, run pages and catalog for the sandbox.

Everything is read from the Port emulator's state; a submitted form starts the run through the
emulator's own invocation path (:meth:`PortEmulator.invoke`: the run is created and its signed
webhook sent, as when a developer presses the button in Port). Pages are server-rendered (Jinja
autoescapes every value); a little JavaScript checks patterns as the user types and polls the JSON
routes to keep runs live. The only POST is an action's form. Requests naming another host (DNS
rebinding) or posted from another origin are refused, since the sandbox starts real work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from port_bridge_sandbox.console.forms import Submission, Typed, form_fields, read_form
from port_bridge_sandbox.console.views import action_card, action_cards, catalog, run_json
from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.server import PortEmulator

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
DEVELOPER = "developer@example.com"
# Only the console's own script, styles and forms; no framing (a click on Execute starts real work).
CONTENT_SECURITY_POLICY = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def create_console(port: PortEmulator, *, webhook_url: str, user_email: str = DEVELOPER) -> Flask:
    """The console for the organisation ``port`` emulates; runs' webhooks go to ``webhook_url``."""
    app = Flask("port_bridge_sandbox.console")
    state = port.state

    @app.before_request
    def local_only() -> None:
        if urlsplit("//" + request.host).hostname not in LOCAL_HOSTS:
            abort(421, f"the console answers on 127.0.0.1 only, not {request.host}")
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin and urlsplit(origin).netloc != request.host:
            abort(403, f"a form posted from {origin} cannot start runs here")

    def entity_ids(blueprint: str) -> list[str]:
        try:
            return sorted(entity["identifier"] for entity in state.entities(blueprint))
        except PortError:
            return []

    def action_page(
        identifier: str,
        *,
        entity: str | None,
        status: int = 200,
        submission: Submission | None = None,
        typed: Typed | None = None,
        problem: str | None = None,
    ) -> tuple[str, int]:
        """The action's form (on ``entity`` for DAY-2 and DELETE), as typed and with its problems."""
        action = state.catalog.find_action(identifier)
        if action is None:
            abort(404, f"there is no action {identifier!r}")
        card = action_card(action)
        needs_entity = card.operation != "CREATE"
        entity_json: dict[str, Any] = {}
        if needs_entity and entity and card.blueprint:
            try:
                entity_json = state.entity(card.blueprint, entity)
            except PortError:
                abort(404, f"there is no {card.blueprint} entity {entity!r}")
        fields = form_fields(
            action["trigger"].get("userInputs") or {},
            entity=entity_json,
            user_email=user_email,
            choices=entity_ids,
            typed=typed,
            errors=submission.errors if submission else None,
        )
        page = render_template(
            "action.html",
            action=card,
            fields=fields,
            entity=entity if entity_json else None,
            entities=entity_ids(card.blueprint) if needs_entity and card.blueprint else [],
            needs_entity=needs_entity,
            problem=problem,
        )
        return page, status

    @app.get("/")
    def index() -> str:
        return render_template("index.html", actions=action_cards(state))

    @app.get("/actions/<identifier>")
    def show_action(identifier: str) -> tuple[str, int]:
        return action_page(identifier, entity=request.args.get("entity") or None)

    @app.post("/actions/<identifier>")
    def start_run(identifier: str) -> Any:
        action = state.catalog.find_action(identifier)
        if action is None:
            abort(404, f"there is no action {identifier!r}")
        card = action_card(action)
        entity = request.form.get("__entity") or None
        if not card.startable:
            abort(422, f"{card.title} runs a {card.invocation} workflow, which the sandbox does not run")
        submission, typed = read_form(
            action["trigger"].get("userInputs") or {}, request.form.to_dict(flat=False)
        )
        if card.operation != "CREATE" and entity is None:
            return action_page(identifier, entity=None, status=422, problem="choose the entity to run it on")
        if submission.errors:
            problem = "; ".join(f"{name} {message}" for name, message in submission.errors.items())
            return action_page(
                identifier, entity=entity, status=422, submission=submission, typed=typed, problem=problem
            )
        try:
            invocation = port.invoke(
                identifier, inputs=submission.inputs, entity=entity, user_email=user_email, url=webhook_url
            )
        except (LookupError, ValueError) as error:
            return action_page(identifier, entity=None, status=422, typed=typed, problem=str(error))
        except requests.RequestException as error:
            problem = f"the webhook at {webhook_url} could not be delivered: {type(error).__name__}"
            return action_page(identifier, entity=entity, status=502, typed=typed, problem=problem)
        return redirect(url_for("show_run", run_id=invocation.run_id), code=303)

    @app.get("/runs")
    def show_runs() -> str:
        return render_template("runs.html", runs=[run_json(run) for run in reversed(state.runs())])

    @app.get("/runs/<run_id>")
    def show_run(run_id: str) -> str:
        try:
            run = state.run(run_id)
        except PortError:
            abort(404, f"there is no run {run_id!r}")
        return render_template("run.html", run=run_json(run))

    @app.get("/catalog")
    def show_catalog() -> str:
        return render_template("catalog.html", blueprints=catalog(state))

    @app.get("/api/runs")
    def runs_json() -> Response:
        return jsonify(runs=[run_json(run) for run in reversed(state.runs())])

    @app.get("/api/runs/<run_id>")
    def run_json_route(run_id: str) -> Response:
        try:
            return jsonify(run_json(state.run(run_id)))
        except PortError:
            abort(404, f"there is no run {run_id!r}")

    @app.after_request
    def hardened(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> tuple[str | Response, int]:
        if request.path.startswith("/api/"):
            return jsonify(error=error.name, message=error.description), error.code or 500
        return render_template("error.html", error=error), error.code or 500

    return app
