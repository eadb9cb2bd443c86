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
* **A blueprint new to the sync** (a live Promise's, published after its requests are watched) is
  looked for in Port every few seconds, backing off while it is not there; once it is, its
  entities are read and every request of its Promise looked at.
* **Deletes** of a pass are judged together against the safety threshold (:mod:`.execute`).

Port being away stops a pass; the requests it did not finish stay marked and the pass is tried
again with a growing wait. Nothing of this ever fails a run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from port_bridge.catalogsync.execute import Executor
from port_bridge.catalogsync.memory import EntityKey, Memory, RequestName, request_name
from port_bridge.catalogsync.metrics import CatalogMetrics
from port_bridge.catalogsync.mirror import EntityBuilder, Mirror, choose_mirrors, resources_of
from port_bridge.catalogsync.pending import Pending
from port_bridge.catalogsync.plan import Blueprint, Plan, Planner
from port_bridge.catalogsync.reading import read_port
from port_bridge.catalogsync.state import RequestRef
from port_bridge.catalogsync.writer import Writer
from port_bridge.controller.errors import Deposed
from port_bridge.controller.watching import ObjectCache, object_key
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.objects import Object, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError, PortUnavailable
from port_bridge.scorecards.model import Scorecard

log = logging.getLogger(__name__)
RECHECK_SECONDS = (5.0, 300.0)  # a mirrored blueprint not in Port is looked for again, backing off


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
        self._executor = Executor(
            memory=self._memory,
            writer=Writer(port, before_write=fence),
            delete_threshold=options.delete_threshold,
            delete_floor=options.delete_floor,
            retry=self._pending_retry,
            metrics=metrics,
        )
        self._pending = Pending()
        self._blueprints: dict[str, Blueprint] = {}
        self._recheck_at, self._recheck_wait = 0.0, RECHECK_SECONDS[0]
        self._warned: set[str] = set()
        self._state = "starting"
        self._last_full: str | None = None
        self._last_error: str | None = None
        self.passes = 0

    # -- What the controller tells it ------------------------------------------------------------

    def changed(self, resource: Resource, request: Object) -> None:
        """A watch saw a request change, appear or go."""
        namespace, name = object_key(request)
        self._pending.mark([(resource.group, resource.plural, namespace, name)])

    def released(self, requests: Iterable[RequestName]) -> None:
        """A run that followed these requests ended: their entities are the sync's again."""
        self._pending.mark(requests)

    def status(self) -> dict[str, Any]:
        """For the controller's ``/readyz``."""
        return {
            "state": self._state,
            "mirrored": self._memory.managed,
            "pending": self._pending.count(),
            "lastFullSync": self._last_full,
            "deletesHeldBack": self._executor.held_back,
            "refused": len(self._executor.refused),
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
            if not full and not self._due():
                self._pending.wait(min(max(next_full - time.monotonic(), 0.0), self._wait_seconds()))
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
        self._pending.wake()

    def _await_caches(self, stop: threading.Event) -> None:
        """Wait for the ActionRuns (who follows what) and the requests to be listed, within limits."""
        deadline = time.monotonic() + self._options.start_timeout_seconds
        for event in (self._runs_synced, *(cache.synced for cache in self._caches().values())):
            while not event.is_set() and not stop.is_set() and time.monotonic() < deadline:
                event.wait(0.05)

    def _due(self) -> bool:
        """Whether a watch-driven pass has something to do now."""
        return self._pending.any() or (
            bool(self._unknown_blueprints()) and time.monotonic() >= self._recheck_at
        )

    def _wait_seconds(self) -> float:
        wait = self._pending.retry_wait()
        if self._unknown_blueprints():
            wait = min(wait, max(self._recheck_at - time.monotonic(), 0.05))
        return wait

    def _pending_retry(self, requests: Collection[RequestName]) -> None:
        self._pending.retry_later(requests)

    def _unknown_blueprints(self) -> set[str]:
        """Blueprints of mirrored Promises that the sync has not found in Port (yet)."""
        return {
            mirror.blueprint for mirror in choose_mirrors(self._actions).values()
        } - self._blueprints.keys()

    def _failed(self, error: Exception, wait: float) -> None:
        if isinstance(error, PortUnavailable):
            self._state = "waiting for Port"
            log.warning("catalog sync: Port is unavailable (%s); trying again in %.0f s", error, wait)
        elif isinstance(error, PortApiError):
            self._state = "refused by Port"
            log.error("catalog sync: %s; trying again in %.0f s", error, wait)
        else:
            self._state = "failing"
            log.exception("catalog sync: a pass failed; trying again in %.0f s", wait, exc_info=error)
        self._last_error = str(error)

    # -- Passes ----------------------------------------------------------------------------------

    def _full_pass(self) -> None:
        self._pending.forget_marks()  # a full pass looks at every request
        self._state = "syncing"
        mirrors = choose_mirrors(self._actions)
        view = read_port(self._port, {mirror.blueprint for mirror in mirrors.values()}, warn=self._warn_once)
        self._blueprints = view.blueprints
        self._memory.replace(view.known)
        self._recheck_at, self._recheck_wait = time.monotonic() + RECHECK_SECONDS[0], RECHECK_SECONDS[0]
        planner = self._planner(view.entities)
        plan, synced, present = Plan(), set(), set()
        for (group, plural), (promise, resource) in resources_of(mirrors, self._promises).items():
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
        del view
        self._carry_out(plan, full=True)
        self._last_full = datetime.now(UTC).isoformat(timespec="seconds")

    def _watch_pass(self) -> None:
        names = self._pending.take()
        try:
            self._state = "syncing"
            mirrors = choose_mirrors(self._actions)
            resources, caches = resources_of(mirrors, self._promises), self._caches()
            names |= self._find_new_blueprints(mirrors, resources, caches)
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
            self._pending.give_back(names)
            raise

    def _find_new_blueprints(
        self,
        mirrors: Mapping[str, Mirror],
        resources: Mapping[tuple[str, str], tuple[str, Resource]],
        caches: Mapping[Resource, ObjectCache],
    ) -> set[RequestName]:
        """Read the mirrored blueprints Port did not have at the last look; the requests now to mirror."""
        unknown = {mirror.blueprint for mirror in mirrors.values()} - self._blueprints.keys()
        if not unknown or time.monotonic() < self._recheck_at:
            return set()
        view = read_port(self._port, unknown, warn=self._warn_once)
        found = len(view.blueprints) == len(unknown)
        self._recheck_wait = RECHECK_SECONDS[0] if found else min(self._recheck_wait * 2, RECHECK_SECONDS[1])
        self._recheck_at = time.monotonic() + self._recheck_wait
        self._blueprints.update(view.blueprints)
        self._memory.add(view.known)
        names: set[RequestName] = set()
        for (group, plural), (promise, resource) in resources.items():
            cache = caches.get(resource)
            if mirrors[promise].blueprint in view.blueprints and cache is not None:
                names.update((group, plural, *object_key(request)) for request in cache.values())
        return names

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
            refused=dict(self._executor.refused),
            stored=stored,
        )

    def _carry_out(self, plan: Plan, *, full: bool) -> None:
        self._executor.carry_out(plan, self._blueprints, full=full)
        self.passes += 1
        self._state, self._last_error = "synced", None

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("catalog sync: %s", message)
