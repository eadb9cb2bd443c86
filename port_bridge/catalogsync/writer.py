"""Sending a pass to Port: upserts 20 to a bulk call, deletes 100, every call behind the term's fence.

Port answers a bulk upsert where some entities failed with 207 and an error per entity
(:meth:`~port_bridge.port.entities.EntitiesApi.bulk_upsert` also splits a batch Port finds too
large): each is sorted by what it means. One Port may accept later (404: an entity its relations
name is not there yet; 409; 429; 5xx) is tried again; one Port refuses for what it is (422: a
property the blueprint lacks or has another type) is left until the request changes, with one
warning, so a bad mapping does not cost a call per entity per pass.

A bulk delete is all or nothing: if one entity has dependents Port deletes none. The entities of
such a call are then deleted one by one, and those Port keeps refusing are left in Port with a
warning (they are looked at again at the next full pass).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from port_bridge.catalogsync.plan import Delete, Upsert
from port_bridge.port.client import PortClient
from port_bridge.port.entities import BULK_LIMIT, EntityError
from port_bridge.port.errors import PortApiError

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({404, 408, 409, 429})


@dataclass
class Sent:
    """What came of a pass's writes."""

    written: list[Upsert] = field(default_factory=list)
    refused: list[tuple[Upsert, EntityError]] = field(default_factory=list)
    retry: list[Upsert] = field(default_factory=list)
    deleted: list[Delete] = field(default_factory=list)
    kept: list[tuple[Delete, str]] = field(default_factory=list)  # deletes Port refused, and why
    calls: int = 0


class Writer:
    def __init__(self, port: PortClient, *, before_write: Callable[[], None]) -> None:
        self._port, self._before_write = port, before_write

    def upsert(self, blueprint: str, upserts: Sequence[Upsert], sent: Sent) -> None:
        """Write ``upserts`` (all of ``blueprint``) with ``merge``, without ``run_id``."""
        for start in range(0, len(upserts), BULK_LIMIT):
            chunk = list(upserts[start : start + BULK_LIMIT])
            self._before_write()
            result = self._port.bulk_upsert(blueprint, [upsert.body for upsert in chunk])
            sent.calls += result.batches
            failed = {error.index: error for error in result.errors}
            for index, upsert in enumerate(chunk):
                error = failed.get(index)
                if error is None:
                    sent.written.append(upsert)
                elif error.status_code in RETRY_STATUSES or error.status_code >= 500:
                    sent.retry.append(upsert)
                else:
                    sent.refused.append((upsert, error))

    def delete(self, blueprint: str, deletes: Sequence[Delete], sent: Sent) -> None:
        """Delete the entities of ``blueprint``; those already gone count as deleted."""
        for start in range(0, len(deletes), 100):
            chunk = list(deletes[start : start + 100])
            self._before_write()
            sent.calls += 1
            try:
                self._port.bulk_delete(blueprint, [delete.key[1] for delete in chunk])
            except PortApiError as refused:
                log.info(
                    "catalog sync: Port refused deleting %d %s entities at once (%s); one by one then",
                    len(chunk),
                    blueprint,
                    refused.code,
                )
                self._one_by_one(blueprint, chunk, sent)
            else:
                sent.deleted += chunk

    def _one_by_one(self, blueprint: str, deletes: Sequence[Delete], sent: Sent) -> None:
        for delete in deletes:
            self._before_write()
            sent.calls += 1
            try:
                self._port.delete_entity(blueprint, delete.key[1])
            except PortApiError as refused:
                sent.kept.append((delete, f"{refused.status} {refused.code}"))
            else:
                sent.deleted.append(delete)
