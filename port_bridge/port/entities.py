"""Entities: upsert one or many (tied to a run), read one or all of a blueprint, delete one.

Bulk upserts go out in batches of at most 20 entities and under 1 MiB, the limits of Port's bulk
route (research/port.md §3.2). Port answers a batch where some entities failed with 207 and
per-entity errors; those are collected into :class:`BulkUpsertResult`, with indexes into the
caller's whole list, rather than raised, since the rest of the batch was written. A batch Port
finds too large (413) is split in two and each half sent; an entity too large on its own is
one more per-entity error. A refusal of a whole batch (an unknown blueprint, a finished run)
raises and leaves later batches unsent. Bulk deletes go out 100 identifiers at a time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from port_bridge.port.errors import NotFound, PortApiError
from port_bridge.port.transport import ApiArea, Json, flag, segment, unwrap

BULK_LIMIT = 20
BULK_DELETE_LIMIT = 100
BULK_BYTES = 1024 * 1024 - 4096  # Port refuses bodies over 1 MiB; room for the envelope


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
        pending = list(reversed(_batches(entities)))  # (start, batch), the next one last
        while pending:
            start, batch = pending.pop()
            try:
                answer = self._transport.request(
                    "POST",
                    _entities_path(blueprint) + "/bulk",
                    params=_write_params(run_id, merge=merge),
                    json={"entities": batch},
                )
            except PortApiError as refused:
                if refused.status != 413:
                    raise
                batches += 1
                if len(batch) == 1:
                    errors.append(_too_large(batch[0], start, refused))
                else:
                    half = len(batch) // 2
                    pending += [(start + half, batch[half:]), (start, batch[:half])]
                continue
            batches += 1
            written += [_rebased(item, start) for item in answer.body.get("entities") or []]
            errors += [_entity_error(item, start) for item in answer.body.get("errors") or []]
        return BulkUpsertResult(tuple(written), tuple(errors), batches)

    def bulk_delete(
        self, blueprint: str, identifiers: Sequence[str], *, delete_dependents: bool = False
    ) -> list[str]:
        """Delete entities of one blueprint, 100 a call; the identifiers Port says it deleted.

        Port deletes none of a call's entities if one has dependents (and ``delete_dependents`` is
        false): that refusal raises :class:`~port_bridge.port.errors.PortApiError`.
        """
        deleted: list[str] = []
        params = {"delete_dependents": flag(delete_dependents)}
        for start in range(0, len(identifiers), BULK_DELETE_LIMIT):
            chunk = list(identifiers[start : start + BULK_DELETE_LIMIT])
            answer = self._transport.request(
                "POST",
                f"/v1/blueprints/{segment(blueprint)}/bulk/entities/delete",
                params=params,
                json={"entities": chunk},
            )
            deleted += [str(item) for item in answer.body.get("deletedEntities") or []]
        return deleted

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


def _batches(entities: Sequence[Mapping[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """``(start, batch)``: at most :data:`BULK_LIMIT` entities and about :data:`BULK_BYTES` a batch."""
    batches: list[tuple[int, list[dict[str, Any]]]] = []
    batch: list[dict[str, Any]] = []
    size, start = 0, 0
    for index, entity in enumerate(entities):
        length = len(json.dumps(entity, ensure_ascii=False).encode()) + 1
        if batch and (len(batch) == BULK_LIMIT or size + length > BULK_BYTES):
            batches.append((start, batch))
            batch, size, start = [], 0, index
        batch.append(dict(entity))
        size += length
    if batch:
        batches.append((start, batch))
    return batches


def _too_large(entity: Mapping[str, Any], index: int, refused: PortApiError) -> EntityError:
    identifier = entity.get("identifier")
    return EntityError(
        identifier=identifier if isinstance(identifier, str) else "",
        index=index,
        status_code=413,
        error=refused.code,
        message=refused.message,
    )


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
