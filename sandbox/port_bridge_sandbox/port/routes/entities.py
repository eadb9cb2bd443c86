"""Entities of a blueprint: create/upsert/merge one or up to 20 at once, read, list, count, delete
one or up to 100 at once."""

from __future__ import annotations

from typing import Any

from port_bridge_sandbox.port.routes.base import ApiRequest, Backend, Reply, Route


def create_entity(backend: Backend, request: ApiRequest) -> Reply:
    entity, _ = backend.state.write_entity(
        request.params["blueprint_identifier"],
        request.body or {},
        request=request.label,
        **_write_options(request),
    )
    return 201, {"ok": True, "entity": entity}


def create_entities(backend: Backend, request: ApiRequest) -> Reply:
    written, errors = backend.state.write_entities(
        request.params["blueprint_identifier"],
        request.body["entities"],
        request=request.label,
        **_write_options(request),
    )
    return (207 if errors else 200), {"ok": True, "entities": written, "errors": errors}


def get_entity(backend: Backend, request: ApiRequest) -> Reply:
    entity = backend.state.entity(request.params["blueprint_identifier"], request.params["entity_identifier"])
    return 200, {"ok": True, "entity": entity}


def list_entities(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "entities": backend.state.entities(request.params["blueprint_identifier"])}


def count_entities(backend: Backend, request: ApiRequest) -> Reply:
    return 200, {"ok": True, "count": len(backend.state.entities(request.params["blueprint_identifier"]))}


def delete_entity(backend: Backend, request: ApiRequest) -> Reply:
    backend.state.delete_entity(
        request.params["blueprint_identifier"],
        request.params["entity_identifier"],
        delete_dependents=request.query["delete_dependents"],
        run_id=request.query.get("run_id"),
        request=request.label,
    )
    return 200, {"ok": True}


def delete_entities(backend: Backend, request: ApiRequest) -> Reply:
    deleted = backend.state.delete_entities(
        request.params["blueprint_identifier"],
        request.body["entities"],
        delete_dependents=request.query["delete_dependents"],
        run_id=request.query.get("run_id"),
        request=request.label,
    )
    return 200, {"ok": True, "deletedEntities": deleted}


def _write_options(request: ApiRequest) -> dict[str, Any]:
    query = request.query
    return {
        "upsert": query["upsert"],
        "merge": query.get("merge", False),
        "run_id": query.get("run_id"),
        "create_missing_related_entities": query.get("create_missing_related_entities", False),
        "validation_only": query.get("validation_only", False),
    }


_ENTITY = "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"
ROUTES = (
    Route("POST", "/v1/blueprints/{blueprint_identifier}/entities", create_entity),
    Route("GET", "/v1/blueprints/{blueprint_identifier}/entities", list_entities),
    Route("POST", "/v1/blueprints/{blueprint_identifier}/entities/bulk", create_entities),
    Route("GET", "/v1/blueprints/{blueprint_identifier}/entities-count", count_entities),
    Route("GET", _ENTITY, get_entity),
    Route("DELETE", _ENTITY, delete_entity),
    Route("POST", "/v1/blueprints/{blueprint_identifier}/bulk/entities/delete", delete_entities),
)
