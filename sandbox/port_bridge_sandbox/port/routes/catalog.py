"""Blueprints, actions and scorecards: the configuration that is pushed to Port as code, and removed."""

from __future__ import annotations

from port_bridge_sandbox.port.routes.base import ApiRequest, Backend, Reply, Route


def create_blueprint(backend: Backend, request: ApiRequest) -> Reply:
    return 201, {"ok": True, "blueprint": backend.state.catalog.create_blueprint(request.body)}


def list_blueprints(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "blueprints": backend.state.catalog.blueprints()}


def get_blueprint(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "blueprint": backend.state.catalog.blueprint(request.params["identifier"])}


def replace_blueprint(backend: Backend, request: ApiRequest) -> Reply:
    blueprint = backend.state.catalog.replace_blueprint(request.params["identifier"], request.body)
    return 200, {"ok": True, "blueprint": blueprint}


def patch_blueprint(backend: Backend, request: ApiRequest) -> Reply:
    blueprint = backend.state.catalog.patch_blueprint(request.params["identifier"], request.body or {})
    return 200, {"ok": True, "blueprint": blueprint}


def delete_blueprint(backend: Backend, request: ApiRequest) -> Reply:
    delete_actions = bool(request.query.get("delete_actions", False))
    backend.state.delete_blueprint(request.params["identifier"], delete_actions=delete_actions)
    return 200, {"ok": True}


def create_action(backend: Backend, request: ApiRequest) -> Reply:
    return 201, {"ok": True, "action": backend.state.catalog.create_action(request.body)}


def list_actions(backend: Backend, request: ApiRequest) -> Reply:
    actions = backend.state.catalog.actions(
        identifiers=request.query.get("action_identifier", ()),
        blueprints=request.query.get("blueprint_identifier", ()),
    )
    return 200, {"ok": True, "actions": actions}


def get_action(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "action": backend.state.catalog.action(request.params["action_identifier"])}


def replace_action(backend: Backend, request: ApiRequest) -> Reply:
    action = backend.state.catalog.replace_action(request.params["action_identifier"], request.body)
    return 200, {"ok": True, "action": action}


def delete_action(backend: Backend, request: ApiRequest) -> Reply:
    backend.state.catalog.delete_action(request.params["action_identifier"])
    return 200, {"ok": True}


def create_scorecard(backend: Backend, request: ApiRequest) -> Reply:
    scorecard = backend.state.catalog.create_scorecard(request.params["blueprint_identifier"], request.body)
    return 201, {"ok": True, "scorecard": scorecard}


def put_scorecards(backend: Backend, request: ApiRequest) -> Reply:
    scorecards = backend.state.catalog.put_scorecards(request.params["blueprint_identifier"], request.body)
    return 200, {"ok": True, "scorecards": scorecards}


def list_blueprint_scorecards(backend: Backend, request: ApiRequest) -> Reply:
    scorecards = backend.state.catalog.scorecards(request.params["blueprint_identifier"])
    return 200, {"ok": True, "scorecards": scorecards}


def get_scorecard(backend: Backend, request: ApiRequest) -> Reply:
    params = request.params
    scorecard = backend.state.catalog.scorecard(
        params["blueprint_identifier"], params["scorecard_identifier"]
    )
    return 200, {"ok": True, "scorecard": scorecard}


def replace_scorecard(backend: Backend, request: ApiRequest) -> Reply:
    params = request.params
    scorecard = backend.state.catalog.replace_scorecard(
        params["blueprint_identifier"], params["scorecard_identifier"], request.body
    )
    return 200, {"ok": True, "scorecard": scorecard}


def delete_scorecard(backend: Backend, request: ApiRequest) -> Reply:
    params = request.params
    backend.state.catalog.delete_scorecard(params["blueprint_identifier"], params["scorecard_identifier"])
    return 200, {"ok": True}


def list_scorecards(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "scorecards": backend.state.catalog.scorecards()}


_SCORECARDS = "/v1/blueprints/{blueprint_identifier}/scorecards"
ROUTES = (
    Route("POST", "/v1/blueprints", create_blueprint),
    Route("GET", "/v1/blueprints", list_blueprints),
    Route("GET", "/v1/blueprints/{identifier}", get_blueprint),
    Route("PUT", "/v1/blueprints/{identifier}", replace_blueprint),
    Route("PATCH", "/v1/blueprints/{identifier}", patch_blueprint),
    Route("DELETE", "/v1/blueprints/{identifier}", delete_blueprint),
    Route("POST", "/v1/actions", create_action),
    Route("GET", "/v1/actions", list_actions),
    Route("GET", "/v1/actions/{action_identifier}", get_action),
    Route("PUT", "/v1/actions/{action_identifier}", replace_action),
    Route("DELETE", "/v1/actions/{action_identifier}", delete_action),
    Route("POST", _SCORECARDS, create_scorecard),
    Route("PUT", _SCORECARDS, put_scorecards),
    Route("GET", _SCORECARDS, list_blueprint_scorecards),
    Route("GET", _SCORECARDS + "/{scorecard_identifier}", get_scorecard),
    Route("PUT", _SCORECARDS + "/{scorecard_identifier}", replace_scorecard),
    Route("DELETE", _SCORECARDS + "/{scorecard_identifier}", delete_scorecard),
    Route("GET", "/v1/scorecards", list_scorecards),
)
