"""Carrying a decided pass out: writes in an order Port accepts, deletes unless too many, the outcome
kept in memory and told in logs and metrics.

The safety threshold judges a pass's deletes together: more than ``delete_threshold`` of the
entities the sync mirrors (and more than ``delete_floor``) at once is what a bad mapping, an empty
list from a failing API or a wrong kubeconfig produces, so none of them is made; a log line and
``port_bridge_catalog_deletes_held_back_total`` say so, and ``held_back`` (shown by ``/readyz``)
stays until a full pass finds no reason to hold back.

Port's refusals are logged with their status and code, and the names of the properties Port
objected to, never Port's message: it can quote the values sent (as the Port client never logs it).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Collection, Mapping

from port_bridge.catalogsync.memory import EntityKey, Memory, RequestName, request_name
from port_bridge.catalogsync.metrics import CatalogMetrics
from port_bridge.catalogsync.plan import Blueprint, Delete, Plan, Upsert, write_order
from port_bridge.catalogsync.writer import Sent, Writer
from port_bridge.port.entities import EntityError
from port_bridge.port.errors import PortApiError

log = logging.getLogger(__name__)
_PROPERTY = re.compile(r"properties(?:\.|\[')([A-Za-z0-9@_=\-]+)")


class Executor:
    def __init__(
        self,
        *,
        memory: Memory,
        writer: Writer,
        delete_threshold: float,
        delete_floor: int,
        retry: Callable[[Collection[RequestName]], None],
        metrics: CatalogMetrics | None,
    ) -> None:
        self._memory, self._writer, self._retry, self._metrics = memory, writer, retry, metrics
        self._threshold, self._floor = delete_threshold, delete_floor
        self.refused: dict[EntityKey, str] = {}  # fingerprints Port refused, by entity
        self.held_back = 0

    def carry_out(self, plan: Plan, blueprints: Mapping[str, Blueprint], *, full: bool) -> None:
        for key, fingerprint, mirrors in plan.confirmed:
            self._memory.wrote(key, fingerprint, mirrors)
        if plan.failed:
            log.warning(
                "catalog sync: the entity mapping failed on %d requests (their entities are left alone): %s",
                len(plan.failed),
                "; ".join(plan.failed[:3]) + ("; ..." if len(plan.failed) > 3 else ""),
            )
        sent = Sent()
        for blueprint in write_order(blueprints, plan.upserts):
            try:
                self._writer.upsert(blueprint, plan.upserts[blueprint], sent)
            except PortApiError as refused:  # the whole call: the blueprint went, or Port's route refuses
                log.warning(
                    "catalog sync: Port refused the %s entities: %d %s",
                    blueprint,
                    refused.status,
                    refused.code,
                )
                sent.refused += [(upsert, _refusal(upsert, refused)) for upsert in plan.upserts[blueprint]]
        deletes = list(plan.deletes.values())
        if deletes and self._hold_back(len(deletes)):
            deletes = []
        elif full:
            self.held_back = 0
        by_blueprint: dict[str, list[Delete]] = {}
        for delete in deletes:
            by_blueprint.setdefault(delete.key[0], []).append(delete)
        for blueprint, chosen in sorted(by_blueprint.items()):
            self._writer.delete(blueprint, chosen, sent)
        self._record(plan, sent, full=full)

    def _hold_back(self, count: int) -> bool:
        managed = self._memory.managed
        allowed = max(self._floor, math.floor(self._threshold * managed))
        if count <= allowed:
            return False
        self.held_back = count
        log.warning(
            "catalog sync: holding back %d deletes of the %d entities it mirrors (over %g%% in one pass, "
            "PORT_BRIDGE_CATALOG_DELETE_THRESHOLD): a bad mapping, an empty list from a failing API or a "
            "wrong kubeconfig looks like this; if those requests are really gone, raise the threshold "
            "for a moment or delete the entities in Port",
            count,
            managed,
            self._threshold * 100,
        )
        if self._metrics is not None:
            self._metrics.held_back.inc(count)
        return True

    def _record(self, plan: Plan, sent: Sent, *, full: bool) -> None:
        for upsert in sent.written:
            self._memory.wrote(upsert.key, upsert.fingerprint, upsert.mirrors)
            self.refused.pop(upsert.key, None)
        for upsert, error in sent.refused:
            self.refused[upsert.key] = upsert.fingerprint
            log.warning(
                "catalog sync: Port refused entity %s of %s (%s): %d %s%s",
                upsert.key[1],
                upsert.key[0],
                upsert.ref.text,
                error.status_code,
                error.error,
                objected_to(error.message),
            )
        if sent.retry:
            self._retry([request_name(upsert.ref) for upsert in sent.retry])
        for delete in sent.deleted:
            self._memory.forget(delete.key)
        for delete, why in sent.kept:
            log.warning("catalog sync: Port keeps entity %s of %s: %s", delete.key[1], delete.key[0], why)
        if self._metrics is not None:
            metrics = self._metrics
            metrics.passes.labels(kind="full" if full else "watch").inc()
            metrics.unchanged.inc(plan.unchanged)
            metrics.writes.labels(operation="upsert").inc(len(sent.written))
            metrics.writes.labels(operation="delete").inc(len(sent.deleted))
            metrics.refused.inc(len(sent.refused))
            metrics.calls.inc(sent.calls)
            metrics.mirrored.set(self._memory.managed)


def objected_to(message: str) -> str:
    """`` (properties: a, b)`` naming what Port's message objects to, without the values it quotes."""
    names = sorted(set(_PROPERTY.findall(message)))
    return f" (properties: {', '.join(names)})" if names else ""


def _refusal(upsert: Upsert, refused: PortApiError) -> EntityError:
    return EntityError(upsert.key[1], -1, refused.status, refused.code, refused.message)
