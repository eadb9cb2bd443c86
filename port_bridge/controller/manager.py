"""The controller process: watches, a work queue, workers, and a periodic resync.

One watch per kind: ActionRuns in the bridge's namespace, and the requests of every Promise an
action maps to (cluster-wide), however many runs are in flight. Each change queues the
ActionRuns it concerns; workers reconcile them one key at a time. A resync queues every
ActionRun now and then, so nothing depends on an event that was missed, and finished runs are
collected after their retention.

What a failed reconciliation leads to depends only on its class (:mod:`.errors`): temporary ones
back off per run, however long Port or the API server stay away; a conflict is looked at again at
once; a deposed leader stops; anything unexpected is retried ``unexpected_retries`` times, then
:meth:`~.reconciler.Reconciler.give_up` ends the run, so not even a bug leaves a run open.

With ``catalog`` options, the catalog sync (:mod:`port_bridge.catalogsync`) runs beside the
workers, fed by the same request watches and told when a run hands a request back.

Stopping (shutdown or a lost Lease) closes the watch streams, lets each worker finish the step it
is in (the term's :class:`~.fence.Fence` refuses any further write) and joins every thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from port_bridge.catalogsync import CatalogMetrics, CatalogOptions, CatalogSync, RequestRef
from port_bridge.controller.errors import ErrorKind, cause_of, kind_of
from port_bridge.controller.fence import Fence
from port_bridge.controller.index import RequestIndex
from port_bridge.controller.observability import ControllerMetrics
from port_bridge.controller.reconciler import Options, Reconciler
from port_bridge.controller.watching import ObjectCache, Watcher, object_key
from port_bridge.controller.workqueue import ShutDown, WorkQueue
from port_bridge.kratix.catalog import PROMISES, PromiseCatalog
from port_bridge.kube.actionruns import ACTIONRUNS
from port_bridge.kube.objects import KubeObjects, Object, Resource
from port_bridge.live.promises import ActionRegistry
from port_bridge.live.sync import KEY_PREFIX as PROMISE_KEY
from port_bridge.live.sync import PromiseSync, Publisher
from port_bridge.mapping.actions import ActionConfig
from port_bridge.pipelinelogs import PipelineLogOptions, PipelineLogs
from port_bridge.port.client import PortClient
from port_bridge.scorecards.model import Scorecard

log = logging.getLogger(__name__)


class Controller:
    def __init__(
        self,
        *,
        objects: KubeObjects,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        promises: PromiseCatalog,
        options: Options,
        scorecards: Mapping[str, Sequence[Scorecard]] | None = None,
        workers: int = 4,
        resync_seconds: float = 30.0,
        watch_timeout_seconds: int = 300,
        metrics: ControllerMetrics | None = None,
        clock: Callable[[], float] = time.time,
        fence: Fence | None = None,
        unexpected_retries: int = 5,
        stop_seconds: float = 5.0,
        publisher: Publisher | None = None,
        pipeline_logs: PipelineLogOptions | None = None,
        catalog: CatalogOptions | None = None,
        catalog_metrics: CatalogMetrics | None = None,
    ) -> None:
        registry = actions if isinstance(actions, ActionRegistry) else ActionRegistry(actions)
        self._objects, self._actions, self._promises = objects, registry, promises
        self._options, self._workers, self._resync = options, workers, resync_seconds
        self._watch_timeout, self._stop_seconds = watch_timeout_seconds, stop_seconds
        self._fence = fence if fence is not None else Fence(threading.Event())
        self._unexpected_retries = unexpected_retries
        self._unexpected: dict[str, int] = {}  # unexpected failures in a row, by run
        self.stopped = threading.Event()  # set once every worker and watch has stopped
        self._queue: WorkQueue[str] = WorkQueue()
        self._runs = ObjectCache()
        self._requests: dict[Resource, ObjectCache] = {}
        self._requests_lock = threading.Lock()  # new kinds are watched from the resync and from live Promises
        self._watchers: list[Watcher] = []
        self._promise_cache = ObjectCache()
        self._live = PromiseSync(
            registry=registry,
            cache=self._promise_cache,
            publisher=publisher,
            on_new_actions=self._watch_requests,
        )
        self._index = RequestIndex()
        self._pipeline_logs = PipelineLogs(
            objects.api_client,
            options=pipeline_logs or PipelineLogOptions(max_lines=0),
            runs=self._runs.values,
            wake=self._queue.add,
        )
        self._metrics = metrics
        if metrics is not None:
            metrics.queue_depth.set_function(lambda: len(self._queue))
            metrics.watch_restarts.set_function(lambda: sum(watcher.restarts for watcher in self._watchers))
        self.reconciler = Reconciler(
            objects=objects,
            port=port,
            actions=registry,
            scorecards=scorecards or {},
            promises=promises,
            run_lookup=lambda name: self._runs.get((options.namespace, name)),
            request_lookup=self._request,
            remember=self._remember_run,
            remember_request=self._remember_request,
            metrics=metrics,
            options=options,
            clock=clock,
            fence=self._fence.check,
            recording_threads=workers,
            pipeline_logs=self._pipeline_logs,
        )
        self.catalog = (
            None
            if catalog is None
            else CatalogSync(
                port=port.in_background(),
                actions=registry,
                promises=promises,
                caches=self._request_caches,
                followed=self._followed,
                runs_synced=self._runs.synced,
                scorecards=scorecards or {},
                options=catalog,
                metrics=catalog_metrics,
                fence=self._fence.check,
            )
        )

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set (leadership lost or shutdown), then wind down."""
        self._serve_live_promises()
        self._watch(ACTIONRUNS, self._runs, self._on_run, namespace=self._options.namespace)
        self._watch_requests()
        threads = [
            threading.Thread(target=self._work, name=f"reconcile-{n}", daemon=True)
            for n in range(self._workers)
        ]
        if self.catalog is not None:
            threads.append(
                threading.Thread(target=self.catalog.run, args=(stop,), name="catalog-sync", daemon=True)
            )
        for thread in threads:
            thread.start()
        self._pipeline_logs.start()
        log.info("controller started with %d workers", self._workers)
        while not stop.wait(self._resync):
            self._watch_requests()
            for run in self._runs.values():
                self._queue.add(run["metadata"]["name"])
        self._queue.shut_down()
        self._pipeline_logs.stop(timeout=self._stop_seconds)
        if self.catalog is not None:
            self.catalog.wake()
        deadline = time.monotonic() + self._stop_seconds
        for watcher in self._watchers:
            watcher.stop(timeout=0)  # close every stream now; joined below
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.reconciler.close()
        watches_ended = all(
            watcher.stop(timeout=max(0.0, deadline - time.monotonic())) for watcher in self._watchers
        )
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            log.error("workers still busy %.0f s after the controller stopped: %s", self._stop_seconds, stuck)
        elif watches_ended:
            self.stopped.set()
        log.info("controller stopped")

    @property
    def leading(self) -> bool:
        """Whether this controller's leadership term is still on (its fence lets writes through)."""
        return not self._fence.lost

    @property
    def watches(self) -> int:
        """How many watches are open: one per kind, whatever the number of runs."""
        return len(self._watchers)

    def _watch(
        self,
        resource: Resource,
        cache: ObjectCache,
        on_change: Callable[[Object, bool], None],
        *,
        namespace: str | None = None,
    ) -> None:
        watcher = Watcher(
            self._objects,
            resource,
            cache=cache,
            on_change=on_change,
            namespace=namespace,
            timeout_seconds=self._watch_timeout,
        )
        self._watchers.append(watcher.start())

    def _serve_live_promises(self) -> None:
        """Watch Promises, and serve the live ones' actions before any run of them is looked at."""
        self._watch(PROMISES, self._promise_cache, self._on_promise)
        if not self._promise_cache.synced.wait(self._stop_seconds):
            log.warning("Promises not listed yet; runs of live Promises may wait for them")
        for promise in self._promise_cache.values():
            self._live.serve(promise["metadata"]["name"])
        try:
            self._live.start()
        except Exception as error:  # Port away: what was published before is learnt on the next change
            log.warning("cannot read what was published to Port for live Promises: %s", error)

    def _on_promise(self, promise: Object, _deleted: bool) -> None:
        self._queue.add(PROMISE_KEY + promise["metadata"]["name"], urgent=True)

    def _watch_requests(self) -> None:
        """A watch for the requests of every mapped Promise not watched yet (Promises may come later)."""
        with self._requests_lock:
            self._watch_new_requests()

    def _watch_new_requests(self) -> None:
        for promise in sorted({promise for config in self._actions.values() for promise in config.promises}):
            try:
                api = self._promises.get(promise)
            except Exception as error:
                log.warning("cannot watch the requests of Promise %s yet: %s", promise, error)
                continue
            resource = Resource(api.group, api.version, api.plural)
            if resource not in self._requests:
                self._requests[resource] = cache = ObjectCache()
                self._watch(resource, cache, self._request_listener(resource))

    def _on_run(self, obj: Object, deleted: bool) -> None:
        self._follow(obj, deleted=deleted)
        if not deleted:
            self._queue.add(obj["metadata"]["name"])

    def _remember_run(self, obj: Object) -> None:
        """An ActionRun as this controller wrote it (its watch event will be taken for an echo)."""
        if self._runs.put(obj):
            self._follow(obj, deleted=False)

    def _follow(self, obj: Object, *, deleted: bool) -> None:
        released = self._index.update(obj, deleted=deleted)
        if released and self.catalog is not None:
            self.catalog.released(released)  # a run that ended hands its requests' entities back

    def _request_listener(self, resource: Resource) -> Callable[[Object, bool], None]:
        return lambda request, _deleted: self._on_request(resource, request)

    def _on_request(self, resource: Resource, request: Object) -> None:
        if self.catalog is not None:
            self.catalog.changed(resource, request)
        namespace, name = object_key(request)
        names = self._index.runs_following((resource.group, resource.plural, namespace, name))
        for run_name in names:
            self._queue.add(run_name, urgent=True)  # Kratix moved: this is what a developer waits for

    def _request_caches(self) -> dict[Resource, ObjectCache]:
        with self._requests_lock:
            return dict(self._requests)

    def _followed(self, ref: RequestRef) -> bool:
        return bool(self._index.runs_following((ref.group, ref.plural, ref.namespace, ref.name)))

    def _remember_request(self, resource: Resource, request: Object) -> None:
        cache = self._requests.get(resource)
        if cache is not None:
            cache.put(request)

    def _request(self, resource: Resource, namespace: str, name: str) -> Object | bool | None:
        """The cached request, ``None`` if it does not exist, ``True`` if the kind is not watched yet."""
        cache = self._requests.get(resource)
        if cache is None or not cache.synced.is_set():
            return True
        return cache.get((namespace, name))

    def _work(self) -> None:
        while True:
            try:
                name = self._queue.get()
            except ShutDown:
                return
            if name is None:
                continue
            started = time.perf_counter()
            try:
                delay = self._reconcile(name)
            except Exception as error:
                self._failed(name, error)
            else:
                self._succeeded(name, delay)
            finally:
                self._queue.done(name)
                if self._metrics is not None:
                    self._metrics.reconcile_duration.observe(time.perf_counter() - started)

    def _reconcile(self, key: str) -> float | None:
        if key.startswith(PROMISE_KEY):
            self._live.reconcile(key.removeprefix(PROMISE_KEY))
            return None
        return self.reconciler.reconcile(key)

    def _succeeded(self, name: str, delay: float | None) -> None:
        self._unexpected.pop(name, None)
        self._queue.forget(name)
        if delay is not None:
            self._queue.add_after(name, delay)

    def _failed(self, name: str, error: Exception) -> None:
        kind = kind_of(error)
        self._count_error(cause_of(error) if kind is ErrorKind.TEMPORARY else kind.value)
        if kind is ErrorKind.DEPOSED:
            return  # the next leader looks at this run again
        if kind is ErrorKind.CONFLICT:
            self._queue.add_after(name, 0.05)
            return
        if kind is ErrorKind.TEMPORARY:
            retry_in = self._queue.retry(name)
            log.warning("run %s waits for %s (retry in %.1fs): %s", name, cause_of(error), retry_in, error)
            return
        failures = self._unexpected[name] = self._unexpected.get(name, 0) + 1
        if failures <= self._unexpected_retries:
            retry_in = self._queue.retry(name)
            log.exception(
                "reconciling %s failed (%d of %d); retry in %.1fs",
                name,
                failures,
                self._unexpected_retries,
                retry_in,
                exc_info=error,
            )
            return
        if name.startswith(PROMISE_KEY):
            log.error("giving up on %s after %d failures", name, failures, exc_info=error)
            self._unexpected.pop(name, None)
            return
        log.error("reconciling %s failed %d times; ending the run", name, failures, exc_info=error)
        try:
            delay = self.reconciler.give_up(name, error)
        except Exception as again:
            if kind_of(again) in (ErrorKind.DEPOSED, ErrorKind.TEMPORARY, ErrorKind.CONFLICT):
                self._unexpected[name] = failures - 1  # the next unexpected failure gives up again
                self._failed(name, again)
                return
            log.exception("ending run %s failed too; retry in %.1fs", name, self._queue.retry(name))
            return
        self._succeeded(name, delay)

    def _count_error(self, cause: str) -> None:
        if self._metrics is not None:
            self._metrics.reconcile_errors.labels(cause=cause).inc()
