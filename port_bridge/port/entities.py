"""Entities: upsert one or many (tied to a run), read one or all of a blueprint, delete one.

Bulk upserts go out in batches of at most 20, the limit of Port's bulk route (research/port.md
§3.2). Port answers a batch where some entities failed with 207 and per-entity errors; those are
collected into :class:`BulkUpsertResult`, with indexes into the caller's whole list, rather than
raised, since the rest of the batch was written. A refusal of a whole batch (an unknown
blueprint, a finished run) raises and leaves later batches unsent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from port_bridge.port.errors import NotFound
from port_bridge.port.transport import ApiArea, Json, flag, segment, unwrap

BULK_LIMIT = 20


@dataclass(frozen=True)
class EntityError:
    """One entity of a bulk upsert that Port refused; ``index`` is its place in the caller's list."""

    identifier: str
    index: int
    status_code: int
    error: str
    message: str


@dataclass(frozen=True)
class BulkUpsertResult:
    written: tuple[Json, ...]
    """Port's per-entity results (``identifier``, ``created``, ``index`` into the caller's list)."""
    errors: tuple[EntityError, ...]
    batches: int

    @property
    def ok(self) -> bool:
        return not self.errors


class EntitiesApi(ApiArea):
    def upsert_entity(
        self, blueprint: str, entity: Mapping[str, Any], *, run_id: str | None = None, merge: bool = True
    ) -> Json:
        """Create or update one entity (``merge``: only the fields given); returns it as Port stored it."""
        answer = self._transport.request(
            "POST", _entities_path(blueprint), params=_write_params(run_id, merge=merge), json=dict(entity)
        )
        return unwrap(answer.body, "entity")

    def bulk_upsert(
        self,
        blueprint: str,
        entities: Sequence[Mapping[str, Any]],
        *,
        run_id: str | None = None,
        merge: bool = True,
    ) -> BulkUpsertResult:
        written: list[Json] = []
        errors: list[EntityError] = []
        batches = 0
        for start in range(0, len(entities), BULK_LIMIT):
            batch = [dict(entity) for entity in entities[start : start + BULK_LIMIT]]
            answer = self._transport.request(
                "POST",
                _entities_path(blueprint) + "/bulk",
                params=_write_params(run_id, merge=merge),
                json={"entities": batch},
            )
            batches += 1
            written += [_rebased(item, start) for item in answer.body.get("entities") or []]
            errors += [_entity_error(item, start) for item in answer.body.get("errors") or []]
        return BulkUpsertResult(tuple(written), tuple(errors), batches)

    def get_entity(self, blueprint: str, identifier: str) -> Json | None:
        try:
            answer = self._transport.request("GET", _entity_path(blueprint, identifier), quiet={404})
        except NotFound:
            return None
        return unwrap(answer.body, "entity")

    def list_entities(self, blueprint: str) -> list[Json]:
        """Every entity of ``blueprint`` (Port sends them all at once); :class:`NotFound` if Port has
        no such blueprint."""
        items = self._transport.request("GET", _entities_path(blueprint), quiet={404}).body.get("entities")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def delete_entity(
        self, blueprint: str, identifier: str, *, run_id: str | None = None, delete_dependents: bool = False
    ) -> bool:
        """Delete one entity; ``False`` if Port answers 404 (it was already gone)."""
        params = {"delete_dependents": flag(delete_dependents)}
        if run_id is not None:
            params["run_id"] = run_id
        try:
            self._transport.request("DELETE", _entity_path(blueprint, identifier), params=params, quiet={404})
        except NotFound:
            return False
        return True


def _entities_path(blueprint: str) -> str:
    return f"/v1/blueprints/{segment(blueprint)}/entities"


def _entity_path(blueprint: str, identifier: str) -> str:
    return f"{_entities_path(blueprint)}/{segment(identifier)}"


def _write_params(run_id: str | None, *, merge: bool) -> dict[str, str]:
    params = {"upsert": "true", "merge": flag(merge)}
    if run_id is not None:
        params["run_id"] = run_id
    return params


def _rebased(item: Any, start: int) -> Json:
    result = dict(item) if isinstance(item, dict) else {}
    if isinstance(result.get("index"), int | float):
        result["index"] = int(result["index"]) + start
    return result


def _entity_error(item: Any, start: int) -> EntityError:
    raw = item if isinstance(item, dict) else {}
    index = raw.get("index")
    return EntityError(
        identifier=str(raw.get("identifier", "")),
        index=int(index) + start if isinstance(index, int | float) else -1,
        status_code=int(raw.get("statusCode", 0)),
        error=str(raw.get("error", "unknown")),
        message=str(raw.get("message", "")),
    )
