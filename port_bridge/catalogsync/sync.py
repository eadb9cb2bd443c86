"""The catalog sync: every request of a mapped Promise is an entity in Port, with its Kratix state.

It runs in the controller while it leads (one thread per leadership term, every write behind the
term's fence, through the term's Port client in the background priority of the shared budget, so
run reports always come first). It reads Kubernetes only through the controller's watch caches:

* **Watch-driven.** Every change the request watches see (and every run that ends, handing a
  request back) marks the request; after a short linger, to gather what changes together into
  one bulk call, a pass looks at the marked requests.
* **Full passes** at start (once the caches are listed) and every ``resync_seconds``: Port's
  entities of the mirrored blueprints are read afresh, so the sync's memory is rebuilt from Port
  and whatever a watch missed or someone changed in Port is put right.
* **Deletes** of a pass are judged together: more than ``delete_threshold`` of the mirrored
  entities (and more than ``delete_floor``) at once is what a bad mapping, a failing API's empty
  list or a wrong kubeconfig produces, so none of them is made; a log line and
  ``port_bridge_catalog_deletes_held_back_total`` say so, and ``/readyz`` shows it until a full
  pass finds no reason to hold back.

Port being away stops a pass; the requests it did not finish stay marked and the pass is tried
again with a growing wait. Nothing of this ever fails a run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from port_bridge.catalogsync.memory import EntityKey, Known, Memory, RequestName, request_name
from port_bridge.catalogsync.metrics import CatalogMetrics
from port_bridge.catalogsync.mirror import EntityBuilder, Mirror, choose_mirrors
from port_bridge.catalogsync.plan import Blueprint, Delete, Plan, Planner, Upsert, write_order
from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES, REQUEST, RequestRef, parse_request
from port_bridge.catalogsync.writer import Sent, Writer
from port_bridge.controller.errors import Deposed
from port_bridge.controller.watching import ObjectCache, object_key
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.objects import Object, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.port.entities import EntityError
from port_bridge.port.errors import PortApiError, PortUnavailable
from port_bridge.scorecards.model import Scorecard

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # entities Port may accept later are tried again after this


@dataclass(frozen=True)
class CatalogOptions:
    resync_seconds: float = 600.0
    delete_threshold: float = 0.5  # share of the mirrored entities one pass may delete
    delete_floor: int = 5  # a pass deleting this many or fewer is never held back
    linger_seconds: float = 0.5  # changes gathered into one pass
    start_timeout_seconds: float = 30.0  # for the watch caches to be listed before the first pass
    max_backoff_seconds: float = 60.0


class CatalogSync:
    def __init__(
        self,
        *,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        promises: PromiseCatalog,
        caches: Callable[[], Mapping[Resource, ObjectCache]],
        followed: Callable[[RequestRef], bool],
        runs_synced: threading.Event,
        scorecards: Mapping[str, Sequence[Scorecard]],
        options: CatalogOptions,
        metrics: CatalogMetrics | None = None,
        fence: Callable[[], None] = lambda: None,
    ) -> None:
        self._port, self._actions, self._promises, self._caches = port, actions, promises, caches
        self._followed, self._runs_synced, self._options = followed, runs_synced, options
        self._metrics = metrics
        self._memory = Memory()
        self._builder = EntityBuilder(scorecards)
        self._writer = Writer(port, before_write=fence)
        self._lock = threading.Lock()
        self._dirty: set[RequestName] = set()
        self._retry: set[RequestName] = set()
        self._retry_at = 0.0
        self._wake = threading.Event()
        self._refused: dict[EntityKey, str] = {}  # fingerprints Port refused, by entity
        self._blueprints: dict[str, Blueprint] = {}
        self._warned: set[str] = set()
        self._state = "starting"
        self._last_full: str | None = None
        self._last_error: str | None = None
        self._held_back = 0
        self.passes = 0

    # -- What the controller tells it ------------------------------------------------------------

    def changed(self, resource: Resource, request: Object) -> None:
        """A watch saw a request change, appear or go."""
        namespace, name = object_key(request)
        self._mark([(resource.group, resource.plural, namespace, name)])

    def released(self, requests: Iterable[RequestName]) -> None:
        """A run that followed these requests ended: their entities are the sync's again."""
        self._mark(requests)

    def status(self) -> dict[str, Any]:
        """For the controller's ``/readyz``."""
        with self._lock:
            pending = len(self._dirty | self._retry)
        return {
            "state": self._state,
            "mirrored": self._memory.managed,
            "pending": pending,
            "lastFullSync": self._last_full,
            "deletesHeldBack": self._held_back,
            "refused": len(self._refused),
            "lastError": self._last_error,
        }

    # -- The loop ------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Sync until ``stop`` is set or the term ends."""
        try:
            self._await_caches(stop)
            self._loop(stop)
        except Deposed:
            pass
        finally:
            self._state = "stopped"

    def _loop(self, stop: threading.Event) -> None:
        next_full, failures = time.monotonic(), 0
        while not stop.is_set():
            full = time.monotonic() >= next_full
            if not full and not self._pending():
                self._wake.wait(min(max(next_full - time.monotonic(), 0.0), self._retry_wait()))
                self._wake.clear()
                continue
            if not full and stop.wait(self._options.linger_seconds):
                return
            try:
                if full:
                    self._full_pass()
                else:
                    self._watch_pass()
            except Deposed:
                raise
            except Exception as error:
                failures += 1
                wait = min(2.0**failures, self._options.max_backoff_seconds)
                self._failed(error, wait)
                if full:
                    next_full = time.monotonic() + wait
                stop.wait(wait)
                continue
            failures = 0
            if full:
                next_full = time.monotonic() + self._options.resync_seconds

    def wake(self) -> None:
        """Look at the stop event now (the controller is stopping)."""
        self._wake.set()

    def _await_caches(self, stop: threading.Event) -> None:
        """Wait for the ActionRuns (who follows what) and the requests to be listed, within limits."""
        deadline = time.monotonic() + self._options.start_timeout_seconds
        for event in (self._runs_synced, *(cache.synced for cache in self._caches().values())):
            while not event.is_set() and not stop.is_set() and time.monotonic() < deadline:
                event.wait(0.05)

    def _pending(self) -> bool:
        with self._lock:
            if self._retry and time.monotonic() >= self._retry_at:
                self._dirty |= self._retry
                self._retry = set()
            return bool(self._dirty)

    def _retry_wait(self) -> float:
        with self._lock:
            return max(self._retry_at - time.monotonic(), 0.05) if self._retry else math.inf

    def _mark(self, requests: Iterable[RequestName]) -> None:
        with self._lock:
            self._dirty.update(requests)
        self._wake.set()

    def _failed(self, error: Exception, wait: float) -> None:
        if isinstance(error, PortUnavailable):
            self._state = "waiting for Port"
            log.warning("catalog sync: Port is unavailable (%s); trying again in %.0f s", error, wait)
        else:
            self._state = "failing"
            log.exception("catalog sync: a pass failed; trying again in %.0f s", wait, exc_info=error)
        self._last_error = str(error)

    # -- Passes ----------------------------------------------------------------------------------

    def _full_pass(self) -> None:
        with self._lock:
            self._dirty.clear()  # a full pass looks at every request
        self._state = "syncing"
        mirrors = choose_mirrors(self._actions)
        stored = self._read_port(mirrors)
        planner = self._planner(stored)
        plan, synced, present = Plan(), set(), set()
        for (group, plural), (promise, resource) in self._resources(mirrors).items():
            cache = self._caches().get(resource)
            if cache is None or not cache.synced.is_set():
                continue  # not listed yet: nothing can be concluded about its requests
            synced.add((group, plural))
            for request in cache.values():
                namespace, name = object_key(request)
                ref = RequestRef.of(resource, namespace, name)
                present.add(request_name(ref))
                planner.look(plan, mirrors[promise], ref, request)
        gone = [
            (key, name)
            for key, name in self._memory.managed_entities()
            if name[:2] in synced and name not in present
        ]
        planner.gone(plan, gone)
        del stored
        self._carry_out(plan, full=True)
        self._last_full = datetime.now(UTC).isoformat(timespec="seconds")

    def _watch_pass(self) -> None:
        with self._lock:
            names, self._dirty = self._dirty, set()
        try:
            self._state = "syncing"
            mirrors = choose_mirrors(self._actions)
            resources, caches = self._resources(mirrors), self._caches()
            planner, plan = self._planner(None), Plan()
            for name in sorted(names):
                found = resources.get(name[:2])
                cache = caches.get(found[1]) if found is not None else None
                if found is None or cache is None or not cache.synced.is_set():
                    continue  # not a mirrored Promise's, or not listed yet (the next full pass has it)
                promise, resource = found
                ref = RequestRef.of(resource, name[2], name[3])
                planner.look(plan, mirrors[promise], ref, cache.get((name[2], name[3])))
            self._carry_out(plan, full=False)
        except BaseException:
            with self._lock:
                self._dirty |= names
            raise

    def _planner(self, stored: Mapping[EntityKey, Mapping[str, Any]] | None) -> Planner:
        configure: dict[str, bool] = {}

        def has_configure_workflow(promise: str) -> bool:
            if promise not in configure:
                try:
                    configure[promise] = bool(self._promises.get(promise).configure_pipelines)
                except Exception:
                    configure[promise] = True  # as runs assume: the request's own status tells
            return configure[promise]

        return Planner(
            memory=self._memory,
            builder=self._builder,
            blueprints=self._blueprints,
            followed=self._followed,
            has_configure_workflow=has_configure_workflow,
            refused=dict(self._refused),
            stored=stored,
        )

    def _resources(self, mirrors: Mapping[str, Mirror]) -> dict[tuple[str, str], tuple[str, Resource]]:
        """Each mirrored Promise's request resource, by (group, plural); Promises not installed left out."""
        found = {}
        for promise in mirrors:
            try:
                api = self._promises.get(promise)
            except Exception as error:  # not installed (yet), or unreadable: its requests wait
                log.debug("catalog sync: Promise %s not mirrored now: %s", promise, error)
                continue
            found[(api.group, api.plural)] = (promise, Resource(api.group, api.version, api.plural))
        return found

    def _read_port(self, mirrors: Mapping[str, Mirror]) -> dict[EntityKey, Mapping[str, Any]]:
        """Every entity of the mirrored blueprints, as Port holds it now; the memory rebuilt from it."""
        stored: dict[EntityKey, Mapping[str, Any]] = {}
        known: dict[EntityKey, Known] = {}
        blueprints: dict[str, Blueprint] = {}
        for blueprint in sorted({mirror.blueprint for mirror in mirrors.values()}):
            definition = self._port.get_blueprint(blueprint)
            if definition is None:
                self._warn_once(f"blueprint {blueprint} is not in Port: its requests are not mirrored")
                continue
            properties = frozenset(((definition.get("schema") or {}).get("properties") or {}).keys())
            relations = (definition.get("relations") or {}).values()
            targets = frozenset(
                str(r["target"]) for r in relations if isinstance(r, Mapping) and r.get("target")
            )
            lacking = [name for name in BLUEPRINT_PROPERTIES if name not in properties]
            if lacking:
                self._warn_once(
                    f"blueprint {blueprint} lacks {', '.join(lacking)}: its entities are mirrored without "
                    + ("them (and never deleted)" if REQUEST in lacking else "them")
                )
            blueprints[blueprint] = Blueprint(properties, targets)
            for entity in self._port.list_entities(blueprint):
                key = (blueprint, str(entity.get("identifier")))
                stored[key] = entity
                marker = parse_request((entity.get("properties") or {}).get(REQUEST))
                known[key] = Known(None, marker)
        self._blueprints = blueprints
        self._memory.replace(known)
        return stored

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("catalog sync: %s", message)

    # -- Carrying a pass out ---------------------------------------------------------------------

    def _carry_out(self, plan: Plan, *, full: bool) -> None:
        for key, fingerprint, mirrors in plan.confirmed:
            self._memory.wrote(key, fingerprint, mirrors)
        if plan.failed:
            log.warning(
                "catalog sync: the entity mapping failed on %d requests (their entities are left alone): %s",
                len(plan.failed),
                "; ".join(plan.failed[:3]) + ("; ..." if len(plan.failed) > 3 else ""),
            )
        sent = Sent()
        for blueprint in write_order(self._blueprints, plan.upserts):
            try:
                self._writer.upsert(blueprint, plan.upserts[blueprint], sent)
            except (
                PortApiError
            ) as refused:  # the whole call: the blueprint went, or a body Port's route refuses
                log.warning("catalog sync: Port refused the %s entities: %s", blueprint, refused)
                sent.refused += [(upsert, _refusal(upsert, refused)) for upsert in plan.upserts[blueprint]]
        deletes = list(plan.deletes.values())
        if deletes and self._hold_back(len(deletes)):
            deletes = []
        elif full:
            self._held_back = 0
        by_blueprint: dict[str, list[Delete]] = {}
        for delete in deletes:
            by_blueprint.setdefault(delete.key[0], []).append(delete)
        for blueprint, chosen in sorted(by_blueprint.items()):
            self._writer.delete(blueprint, chosen, sent)
        self._record(plan, sent, full=full)

    def _hold_back(self, count: int) -> bool:
        managed = self._memory.managed
        allowed = max(self._options.delete_floor, math.floor(self._options.delete_threshold * managed))
        if count <= allowed:
            return False
        self._held_back = count
        log.warning(
            "catalog sync: holding back %d deletes of the %d entities it mirrors (over %g%% in one pass, "
            "PORT_BRIDGE_CATALOG_DELETE_THRESHOLD): a bad mapping, an empty list from a failing API or a "
            "wrong kubeconfig looks like this; if those requests are really gone, raise the threshold "
            "for a moment or delete the entities in Port",
            count,
            managed,
            self._options.delete_threshold * 100,
        )
        if self._metrics is not None:
            self._metrics.held_back.inc(count)
        return True

    def _record(self, plan: Plan, sent: Sent, *, full: bool) -> None:
        for upsert in sent.written:
            self._memory.wrote(upsert.key, upsert.fingerprint, upsert.mirrors)
            self._refused.pop(upsert.key, None)
        for upsert, error in sent.refused:
            self._refused[upsert.key] = upsert.fingerprint
            log.warning(
                "catalog sync: Port refused entity %s of %s (%s): %d %s: %s",
                upsert.key[1],
                upsert.key[0],
                upsert.ref.text,
                error.status_code,
                error.error,
                error.message,
            )
        if sent.retry:
            with self._lock:
                self._retry.update(request_name(upsert.ref) for upsert in sent.retry)
                self._retry_at = time.monotonic() + RETRY_SECONDS
        for delete in sent.deleted:
            self._memory.forget(delete.key)
        for delete, why in sent.kept:
            log.warning("catalog sync: Port keeps entity %s of %s: %s", delete.key[1], delete.key[0], why)
        self.passes += 1
        self._state, self._last_error = "synced", None
        if self._metrics is not None:
            metrics = self._metrics
            metrics.passes.labels(kind="full" if full else "watch").inc()
            metrics.unchanged.inc(plan.unchanged)
            metrics.writes.labels(operation="upsert").inc(len(sent.written))
            metrics.writes.labels(operation="delete").inc(len(sent.deleted))
            metrics.refused.inc(len(sent.refused))
            metrics.calls.inc(sent.calls)
            metrics.mirrored.set(self._memory.managed)


def _refusal(upsert: Upsert, refused: PortApiError) -> EntityError:
    return EntityError(upsert.key[1], -1, refused.status, refused.code, refused.message)
