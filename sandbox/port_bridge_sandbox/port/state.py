"""The emulator's in-memory Port organisation: catalog, entities and action runs, safe across threads.

The HTTP handlers and the test helpers both go through :class:`PortState`, so a run created by a
test and one created over HTTP behave the same. Entity writes tied to a run (``run_id``) are
refused once the run has finished and are listed on the run as affected entities.

Choices where Port's docs are silent: an unknown ``run_id`` is 404; a bulk delete leaves out of
``deletedEntities`` the identifiers that do not exist (the rest are deleted); a relation to an entity that
does not exist is 404 unless ``create_missing_related_entities`` creates a bare placeholder;
deleting an entity that others relate to needs ``delete_dependents`` (else 422). A PATCH to the
run of a synchronized action is refused with ``run_synchronized_error`` (research/peers.md §5).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from port_bridge_sandbox.port.catalog import Catalog, action_blueprint
from port_bridge_sandbox.port.clock import now_iso
from port_bridge_sandbox.port.entities import build_entity, entity_identifier, relation_targets
from port_bridge_sandbox.port.errors import PortError, conflict, not_found
from port_bridge_sandbox.port.runs import AffectedEntity, Run, RunLog, new_run_id
from port_bridge_sandbox.port.scorecards import evaluate_scorecard

_OMITTED_WHEN_NULL = frozenset({"title", "icon"})


def user_id_for(email: str) -> str:
    """A stable Port-like user id for an email address."""
    return "u_" + hashlib.sha256(email.encode()).hexdigest()[:16]


class PortState:
    """Entities and runs of one emulated organisation, plus its :class:`Catalog`."""

    def __init__(self, *, actor: str) -> None:
        self.actor = actor
        self.catalog = Catalog(actor=actor)
        self._lock = threading.RLock()
        self._entities: dict[str, dict[str, dict[str, Any]]] = {}
        self._runs: dict[str, Run] = {}
        self._log_ids = itertools.count(1)

    # Runs

    def create_run(
        self,
        action_identifier: str,
        *,
        properties: Mapping[str, Any],
        entity: str | None,
        user_email: str,
        operation: str | None = None,
        source: str = "UI",
        require_action: bool = False,
    ) -> Run:
        action = self.catalog.find_action(action_identifier)
        if action is None and require_action:
            raise not_found(f"action {action_identifier!r}")
        trigger = (action or {}).get("trigger") or {}
        blueprint = action_blueprint(action) if action else None
        if require_action and entity is not None and blueprint is not None:
            self.entity(blueprint, entity)
        run = Run(
            id=new_run_id(),
            action=action_identifier,
            action_title=(action or {}).get("title"),
            blueprint=blueprint,
            entity=entity,
            properties=copy.deepcopy(dict(properties)),
            operation=operation or trigger.get("operation") or "CREATE",
            source=source,
            created_by=user_email,
        )
        with self._lock:
            self._runs[run.id] = run
        return run

    def run(self, run_id: str) -> Run:
        """A copy of the run, safe to inspect while requests keep arriving."""
        with self._lock:
            return copy.deepcopy(self._require_run(run_id))

    def runs(self) -> list[Run]:
        with self._lock:
            return copy.deepcopy(list(self._runs.values()))

    def update_run(self, run_id: str, body: Mapping[str, Any], *, request: str) -> Run:
        with self._lock:
            run = self._require_run(run_id)
            run.ensure_reportable(request)
            run.apply_patch(dict(body))
            return copy.deepcopy(run)

    def set_run_invocation(self, run_id: str, *, payload: dict[str, Any]) -> None:
        with self._lock:
            self._require_run(run_id).payload = copy.deepcopy(payload)

    def set_run_response(self, run_id: str, response: Any) -> None:
        """The backend's answer, as the execution agent stores it for a synchronized run."""
        with self._lock:
            self._require_run(run_id).response = copy.deepcopy(response)

    def finish_synchronized_run(self, run_id: str, *, ok: bool, response: Any, status_code: int) -> None:
        """Close a synchronized run from the backend's HTTP answer, as Port does."""
        with self._lock:
            run = self._require_run(run_id)
            run.response = response
            if not run.finished:
                summary = None if ok else f"Failed to invoke the webhook with status code: {status_code}"
                body = {"status": "SUCCESS" if ok else "FAILURE"} | ({"summary": summary} if summary else {})
                run.apply_patch(body, via="synchronized")

    def add_log(self, run_id: str, body: Mapping[str, Any], *, request: str) -> RunLog:
        with self._lock:
            run = self._require_run(run_id)
            run.ensure_open(request)
            return run.add_log(dict(body), log_id=f"log_{next(self._log_ids)}", created_by=self.actor)

    def logs(self, run_id: str) -> list[RunLog]:
        with self._lock:
            return list(self._require_run(run_id).logs)

    # Blueprints that hold entities

    def delete_blueprint(self, identifier: str, *, delete_actions: bool) -> None:
        """Delete a blueprint; refused while it has entities, as Port asks them deleted first."""
        with self._lock:
            entities = len(self._entities.get(identifier, {}))
            self.catalog.delete_blueprint(identifier, delete_actions=delete_actions, entities=entities)
            self._entities.pop(identifier, None)

    # Entities

    def write_entity(
        self,
        blueprint_id: str,
        body: Mapping[str, Any],
        *,
        upsert: bool,
        merge: bool = False,
        run_id: str | None = None,
        create_missing_related_entities: bool = False,
        validation_only: bool = False,
        request: str = "",
    ) -> tuple[dict[str, Any], bool]:
        """Create, replace or merge one entity; returns it (as Port shows it) and whether it is new."""
        with self._lock:
            run = self._open_run(run_id, request)
            entity, created = self._write(
                blueprint_id, body, upsert, merge, create_missing_related_entities, validation_only
            )
            if run is not None and not validation_only:
                run.affected_entities.append(AffectedEntity(blueprint_id, entity["identifier"], "upsert"))
            return self._shown(entity), created

    def write_entities(
        self, blueprint_id: str, bodies: list[Mapping[str, Any]], *, request: str = "", **options: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Bulk write: per-item results and per-item errors, as Port's bulk route reports them."""
        with self._lock:
            self.catalog.blueprint(blueprint_id)
            self._open_run(options.get("run_id"), request)
            written, errors = [], []
            for index, body in enumerate(bodies):
                try:
                    entity, created = self.write_entity(blueprint_id, body, request=request, **options)
                except PortError as error:
                    identifier = body.get("identifier")
                    errors.append(
                        {
                            "identifier": identifier if isinstance(identifier, str) else "",
                            "index": index,
                            "statusCode": error.status,
                            "error": error.code,
                            "message": error.message,
                        }
                    )
                else:
                    written.append({"created": created, "identifier": entity["identifier"], "index": index})
            return written, errors

    def entity(self, blueprint_id: str, identifier: str) -> dict[str, Any]:
        with self._lock:
            self.catalog.blueprint(blueprint_id)
            found = self._entities.get(blueprint_id, {}).get(identifier)
            if found is None:
                raise not_found(f"entity {identifier!r} of blueprint {blueprint_id!r}")
            return self._shown(found)

    def entities(self, blueprint_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self.catalog.blueprint(blueprint_id)
            return [self._shown(e) for e in self._entities.get(blueprint_id, {}).values()]

    def delete_entity(
        self, blueprint_id: str, identifier: str, *, delete_dependents: bool, run_id: str | None, request: str
    ) -> None:
        with self._lock:
            run = self._open_run(run_id, request)
            self.entity(blueprint_id, identifier)
            dependents = self._dependents(blueprint_id, identifier)
            if dependents and not delete_dependents:
                names = ", ".join(f"{bp}/{e}" for bp, e in dependents)
                raise PortError(
                    422, "has_dependents", f"entity {identifier!r} has dependent entities: {names}"
                )
            for dependent in [(blueprint_id, identifier), *dependents]:
                self._entities[dependent[0]].pop(dependent[1], None)
                if run is not None:
                    run.affected_entities.append(AffectedEntity(*dependent, "delete"))

    def delete_entities(
        self,
        blueprint_id: str,
        identifiers: list[str],
        *,
        delete_dependents: bool,
        run_id: str | None,
        request: str,
    ) -> list[str]:
        """Delete several entities of one blueprint: all of them, or none if one has dependents."""
        with self._lock:
            self.catalog.blueprint(blueprint_id)
            self._open_run(run_id, request)
            present = [
                ident for ident in dict.fromkeys(identifiers) if ident in self._entities.get(blueprint_id, {})
            ]
            if not delete_dependents:
                leaving = {(blueprint_id, ident) for ident in present}
                for ident in present:
                    outside = [d for d in self._dependents(blueprint_id, ident) if d not in leaving]
                    if outside:
                        names = ", ".join(f"{bp}/{e}" for bp, e in outside)
                        raise PortError(
                            422, "has_dependents", f"entity {ident!r} has dependent entities: {names}"
                        )
            for ident in present:
                if ident in self._entities.get(blueprint_id, {}):
                    self.delete_entity(
                        blueprint_id, ident, delete_dependents=True, run_id=run_id, request=request
                    )
            return present

    def _write(
        self,
        blueprint_id: str,
        body: Mapping[str, Any],
        upsert: bool,
        merge: bool,
        create_missing: bool,
        validation_only: bool,
    ) -> tuple[dict[str, Any], bool]:
        blueprint = self.catalog.blueprint(blueprint_id)
        identifier = entity_identifier(body)
        existing = self._entities.get(blueprint_id, {}).get(identifier)
        if existing is not None and not upsert:
            raise conflict(f"entity {identifier!r} of blueprint {blueprint_id!r} already exists")
        entity = build_entity(
            blueprint,
            body,
            identifier=identifier,
            existing=existing,
            merge=upsert and merge,
            actor=self.actor,
        )
        missing = [
            (target, ident)
            for target, ident in relation_targets(blueprint, entity["relations"])
            if ident not in self._entities.get(target, {}) and (target, ident) != (blueprint_id, identifier)
        ]
        if missing and not create_missing:
            raise not_found(f"related entity {missing[0][1]!r} of blueprint {missing[0][0]!r}")
        if not validation_only:
            for target, ident in missing:
                self._placeholder(target, ident)
            self._entities.setdefault(blueprint_id, {})[identifier] = entity
        return entity, existing is None

    def _placeholder(self, blueprint_id: str, identifier: str) -> None:
        self.catalog.blueprint(blueprint_id)
        now = now_iso()
        self._entities.setdefault(blueprint_id, {})[identifier] = {
            "identifier": identifier,
            "title": None,
            "icon": None,
            "team": [],
            "properties": {},
            "relations": {},
            "blueprint": blueprint_id,
            "createdAt": now,
            "createdBy": self.actor,
            "updatedAt": now,
            "updatedBy": self.actor,
        }

    def _dependents(self, blueprint_id: str, identifier: str) -> list[tuple[str, str]]:
        dependents = []
        for other_bp, entities in self._entities.items():
            blueprint = self.catalog.blueprint(other_bp)
            for other in entities.values():
                if (blueprint_id, identifier) in relation_targets(blueprint, other["relations"]):
                    dependents.append((other_bp, other["identifier"]))
        return dependents

    def _shown(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        results = {}
        for scorecard in self.catalog.scorecards(entity["blueprint"]):
            result = evaluate_scorecard(scorecard, entity, now=now)
            if result is not None:
                results[scorecard["identifier"]] = result
        shown = {
            k: copy.deepcopy(v) for k, v in entity.items() if v is not None or k not in _OMITTED_WHEN_NULL
        }
        return {**shown, "scorecards": results}

    def _open_run(self, run_id: str | None, request: str) -> Run | None:
        if run_id is None:
            return None
        run = self._require_run(run_id)
        run.ensure_open(request)
        return run

    def _require_run(self, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None:
            raise not_found(f"run {run_id!r}")
        return run
