"""Action runs: read, update (PATCH), logs, listing, and starting a run through the API."""

from __future__ import annotations

from port_bridge_sandbox.port.routes.base import ApiRequest, Backend, Reply, Route
from port_bridge_sandbox.port.runs import Run


def get_run(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "run": backend.state.run(request.params["run_id"]).to_json()}


def patch_run(backend: Backend, request: ApiRequest) -> Reply:
    run = backend.state.update_run(request.params["run_id"], request.body or {}, request=request.label)
    return 200, {"ok": True, "run": run.to_json()}


def add_log(backend: Backend, request: ApiRequest) -> Reply:
    log = backend.state.add_log(request.params["run_id"], request.body, request=request.label)
    return 201, {"ok": True, "runLog": log.to_json()}


def get_logs(backend: Backend, request: ApiRequest) -> Reply:
    logs = backend.state.logs(request.params["run_id"])
    offset = int(request.query.get("offset", 0))
    limit = int(request.query.get("limit", 50))
    return 200, {"ok": True, "runLogs": [log.to_json() for log in logs[offset : offset + limit]]}


def list_runs(backend: Backend, request: ApiRequest) -> Reply:
    runs = [run for run in backend.state.runs() if _listed(run, request)]
    limit = int(request.query.get("limit", 1000))
    return 200, {"ok": True, "runs": [run.to_json() for run in runs[:limit]]}


def execute_action(backend: Backend, request: ApiRequest) -> Reply:
    run = backend.state.create_run(
        request.params["action_identifier"],
        properties=request.body["properties"],
        entity=request.body.get("entity"),
        user_email=request.query.get("run_as", backend.state.actor),
        source="API",
        require_action=True,
    )
    if backend.deliver is not None:
        backend.deliver(run)
    return 202, {"ok": True, "run": run.to_json()}


def _listed(run: Run, request: ApiRequest) -> bool:
    query = request.query
    wanted = {
        "external_run_id": run.external_run_id,
        "action": run.action,
        "entity": run.entity,
        "blueprint": run.blueprint,
        "user_email": run.created_by,
    }
    if any(name in query and query[name] != value for name, value in wanted.items()):
        return False
    if "source" in query and run.source not in query["source"]:
        return False
    return "active" not in query or query["active"] != run.finished


ROUTES = (
    Route("GET", "/v1/actions/runs/{run_id}", get_run),
    Route("PATCH", "/v1/actions/runs/{run_id}", patch_run),
    Route("POST", "/v1/actions/runs/{run_id}/logs", add_log),
    Route("GET", "/v1/actions/runs/{run_id}/logs", get_logs),
    Route("GET", "/v1/actions/runs", list_runs),
    Route("POST", "/v1/actions/{action_identifier}/runs", execute_action),
)
