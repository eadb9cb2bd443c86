"""One ActionRun, one step nearer its end: apply, follow Kratix, report to Port, close.

Level-triggered: each call reads the ActionRun and the Kratix request as they are now and
does whatever comes next. Everything done is written to the ActionRun's status before anything
is reported, so a controller killed at any moment resumes where it stopped:

1. **apply**: create, change or delete the Kratix request (labelled and annotated with the run),
   recording the generation submitted;
2. **follow**: classify the request (:func:`port_bridge.kratix.status.classify`); each transition
   becomes a line in the run's journal; the run's own timeout fails what Kratix never fails;
3. **decide**: the outcome is written to status *before* it is reported;
4. **report**: the journal is an outbox: its lines (after a first "received" line with
   externalRunId and link) go to Port in order, and the statusLabel follows Kratix. Kratix work
   never waits for Port: when Port is down the journal fills and is delivered when Port returns.
   Last come the catalog entity (upserted or deleted with ``run_id``) and exactly one terminal
   PATCH; a repeat after a crash finds Port refusing to change a finished run, which is
   recorded, not retried, so Port shows one terminal status.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes.client import ApiException

from port_bridge.controller.observability import ControllerMetrics
from port_bridge.kratix.catalog import PromiseCatalog, PromiseNotInstalled
from port_bridge.kratix.promise import PromiseWithoutApi
from port_bridge.kratix.status import KratixState, Phase, classify
from port_bridge.kube.actionruns import ACTION_LABEL, ACTIONRUNS, RUN_ID_ANNOTATION, label_value, now_rfc3339
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects, Object, Resource
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_entity
from port_bridge.port.client import PortClient
from port_bridge.port.errors import NotFound, PortApiError, PortUnavailable, RunAlreadyFinished

log = logging.getLogger(__name__)

ACTIONRUN_ANNOTATION = "port-bridge.io/actionrun"
REQUESTED_BY_ANNOTATION = "port-bridge.io/requested-by"
MANAGED_BY = {"app.kubernetes.io/managed-by": "port-bridge"}
JOBS = Resource("batch", "v1", "jobs")
SUCCESS, FAILURE = "SUCCESS", "FAILURE"


class Conflict(Exception):
    """The ActionRun changed under us (another writer); look again at its latest state."""


@dataclass(frozen=True)
class Options:
    namespace: str
    link_template: str | None = None  # e.g. "https://bridge.example.com/runs/{run_id}"
    retention_seconds: float = 7 * 24 * 3600.0


def _seconds_since(timestamp: str | None, now: float) -> float:
    if not timestamp:
        return 0.0
    parsed = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return now - parsed.timestamp()


class Reconciler:
    def __init__(
        self,
        *,
        objects: KubeObjects,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        promises: PromiseCatalog,
        run_lookup: Callable[[str], Object | None],
        request_lookup: Callable[[Resource, str, str], Object | bool | None],
        remember: Callable[[Object], object] = lambda _run: None,
        remember_request: Callable[[Resource, Object], None] = lambda _resource, _request: None,
        metrics: ControllerMetrics | None = None,
        options: Options,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._objects, self._port, self._actions, self._promises = objects, port, actions, promises
        self._run_lookup, self._request_lookup, self._remember = run_lookup, request_lookup, remember
        self._remember_request, self._metrics = remember_request, metrics
        self._options, self._clock = options, clock

    # -- Entry point ---------------------------------------------------------------------------

    def reconcile(self, name: str) -> float | None:
        """Advance the ActionRun ``name``; returns when to look again (seconds), or ``None``."""
        run = self._run_lookup(name)
        if run is None:
            return None
        spec, status = run.get("spec") or {}, run.get("status") or {}
        if (status.get("reported") or {}).get("terminal"):
            return self._collect_garbage(run)
        if status.get("outcome"):
            return self._report(run)
        journal = _journal(run)
        if spec.get("rejection"):
            message = spec["rejection"].get("message") or "port-bridge refused the run"
            line = f"port-bridge refused the run: {message}"
            return self._decide(run, FAILURE, message, "Rejected", journal=[*journal, _line(line)])
        config = self._actions.get(spec.get("action", ""))
        if config is None:
            message = f"action {spec.get('action')!r} is no longer configured in port-bridge"
            return self._decide(run, FAILURE, message, "Not configured", journal=[*journal, _line(message)])
        changes: dict[str, Any] = {}
        if status.get("submittedGeneration") is None:
            applied = self._apply(run, config)
            if isinstance(applied, str):
                return self._decide(run, FAILURE, applied, "Cannot apply", journal=[*journal, _line(applied)])
            changes, line = applied
            journal.append(_line(line))
        state = self._classify(run, config, {**status, **changes})
        if state.key != (status.get("kratix") or {}).get("key"):
            changes["kratix"] = {
                "key": state.key,
                "phase": str(state.phase),
                "label": state.label,
                "detail": state.detail,
                "message": state.message,
                "at": now_rfc3339(),
            }
            journal.append(_line(state.detail, state.label))
        if state.terminal:
            operation = spec.get("operation") or config.operation
            result = SUCCESS if state.phase in (Phase.SUCCEEDED, Phase.DELETED) else FAILURE
            label = _final_label(operation, result, state)
            return self._decide(
                run, result, _summary(run, state, result), label, changes=changes, journal=journal
            )
        timeout = float(spec.get("timeoutSeconds") or 1800)
        elapsed = _seconds_since(changes.get("appliedAt") or status.get("appliedAt"), self._clock())
        if elapsed >= timeout:
            where = state.detail.removeprefix("Kratix: ")
            summary = f"Kratix did not finish within {_duration(timeout)}; it was at: {where}"
            journal.append(_line(f"Timed out: {summary}"))
            return self._decide(run, FAILURE, summary, "Timed out", changes=changes, journal=journal)
        if self._deliver(run, changes, journal) is None:
            return None
        return timeout - elapsed

    # -- Steps ---------------------------------------------------------------------------------

    def _apply(self, run: Object, config: ActionConfig) -> tuple[dict[str, Any], str] | str:
        """Apply the operation to Kratix: the status changes and the line to report, or why it cannot."""
        spec = run["spec"]
        request = spec["request"]
        where = f"{request['kind']} {request['namespace']}/{request['name']}"
        operation = spec.get("operation") or config.operation
        try:
            applied = self._apply_operation(run, operation)
        except ApiException as error:
            if is_unavailable(error):
                raise
            return _refusal(error, where, operation)
        if isinstance(applied, str):
            return applied
        generation, uid, line = applied
        changes = {
            "phase": "InProgress",
            "request": f"{request['namespace']}/{request['kind']}/{request['name']}",
            "submittedGeneration": generation,
            "requestUid": uid,
            "appliedAt": now_rfc3339(),
        }
        return changes, line

    def _apply_operation(self, run: Object, operation: str) -> tuple[int, str | None, str] | str:
        """Create, change or delete the request: ``(generation, uid, log line)`` or why it cannot."""
        spec = run["spec"]
        request = spec["request"]
        resource, namespace, name = _resource(request), request["namespace"], request["name"]
        where = f"{request['kind']} {namespace}/{name}"
        annotations = {
            RUN_ID_ANNOTATION: spec["runId"],
            ACTIONRUN_ANNOTATION: f"{run['metadata']['namespace']}/{run['metadata']['name']}",
            REQUESTED_BY_ANNOTATION: ((spec.get("trigger") or {}).get("by") or {}).get("email") or "",
        }
        if operation == "CREATE":
            labels = {**(request.get("labels") or {}), **MANAGED_BY}
            if action_label := label_value(spec.get("action")):
                labels[ACTION_LABEL] = action_label
            body = {
                "apiVersion": request["apiVersion"],
                "kind": request["kind"],
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": annotations,
                },
                "spec": request.get("spec") or {},
            }
            try:
                created = self._objects.create(resource, body, namespace=namespace)
            except ApiException as error:
                if error.status != 409:
                    raise
                created = self._objects.get(resource, name, namespace=namespace)
                owner = ((created.get("metadata") or {}).get("annotations") or {}).get(RUN_ID_ANNOTATION)
                if owner != spec["runId"]:
                    by = f" (created by Port run {owner})" if owner else " (not created through port-bridge)"
                    return f"a {where} already exists{by}; choose another name"
            self._remember_request(resource, created)  # the watch may not have brought it yet
            metadata = created["metadata"]
            return (
                metadata.get("generation", 1),
                metadata.get("uid"),
                (f"Requested {where} from Kratix (Promise {request['promise']})"),
            )
        if operation == "DAY-2":
            try:
                patched = self._objects.patch(
                    resource,
                    name,
                    {"metadata": {"annotations": annotations}, "spec": request.get("spec") or {}},
                    namespace=namespace,
                )
            except ApiException as error:
                if error.status == 404:
                    return f"{where} does not exist; the catalog entity may be out of date"
                raise
            self._remember_request(resource, patched)
            metadata = patched["metadata"]
            changed = ", ".join(sorted(request.get("spec") or {})) or "nothing"
            return (
                metadata.get("generation", 1),
                metadata.get("uid"),
                (f"Changed {changed} on {where} (generation {metadata.get('generation')})"),
            )
        try:
            current = self._objects.get(resource, name, namespace=namespace)
        except ApiException as error:
            if error.status == 404:
                return 0, None, f"{where} was already gone"
            raise
        uid = current["metadata"].get("uid")
        try:
            self._objects.delete(resource, name, namespace=namespace, uid=uid)
        except ApiException as error:
            if error.status != 404:
                raise
        return current["metadata"].get("generation", 1), uid, f"Requested deletion of {where} from Kratix"

    def _classify(self, run: Object, config: ActionConfig, status: Mapping[str, Any]) -> KratixState:
        spec = run["spec"]
        operation = spec.get("operation") or config.operation
        request = self._current_request(spec["request"], status.get("requestUid"))
        state = classify(
            request,
            submitted_generation=int(status["submittedGeneration"]),
            operation=operation,
            has_configure_workflow=self._has_configure_workflow(spec["request"]["promise"]),
            applied_at=status.get("appliedAt"),
            jobs=self._legacy_jobs(spec["request"], request),
        )
        if operation != "DELETE" and state.phase is Phase.DELETING:
            state = KratixState(
                Phase.MISSING, "Request deleted", "Kratix: the request is being deleted outside this run"
            )
        return state

    def _has_configure_workflow(self, promise: str) -> bool:
        """Whether the Promise runs a configure workflow; assumed when the Promise is gone (its
        requests go with it, which the run will see)."""
        try:
            return bool(self._promises.get(promise).configure_pipelines)
        except (PromiseNotInstalled, PromiseWithoutApi):
            return True

    def _decide(
        self,
        run: Object,
        result: str,
        summary: str,
        label: str,
        *,
        journal: list[dict[str, Any]],
        changes: Mapping[str, Any] | None = None,
    ) -> float | None:
        """Settle the outcome and report it; it is written before any report that cannot finish now."""
        outcome = {"result": result, "summary": summary, "label": label, "decidedAt": now_rfc3339()}
        return self._report(run, {**(changes or {}), "outcome": outcome, "journal": journal})

    def _report(self, run: Object, pending: Mapping[str, Any] | None = None) -> float | None:
        """Deliver the journal, then the catalog entity, then the one terminal status.

        ``pending`` is what this step decided but has not written: it goes into the final write,
        or, if Port cannot take the reports now, into a write of its own before the error.
        """
        pending = dict(pending or {})
        view = {**run, "status": {**(run.get("status") or {}), **pending}}
        spec, status = view["spec"], view["status"]
        outcome, reported = status["outcome"], status.get("reported") or {}
        run_id = spec["runId"]
        progress: dict[str, Any] = {}
        note = None
        try:
            self._send(view, _journal(view), reported, progress)
            if outcome["result"] == SUCCESS and "entity" not in reported:
                progress["entity"] = self._catalog(view)
            self._port.patch_run(
                run_id, status=outcome["result"], summary=outcome["summary"], status_label=outcome["label"]
            )
        except PortUnavailable:
            if pending or progress:
                self._write_status(
                    run, {**pending, "phase": "Reporting"} | ({"reported": progress} if progress else {})
                )
            raise
        except RunAlreadyFinished as refused:
            note = f"Port already had the run finished: {refused}"
            log.warning(note, extra={"run_id": run_id, "action": spec.get("action")})
        except NotFound as missing:
            note = f"Port has no such run: {missing}"
            log.error(note, extra={"run_id": run_id, "action": spec.get("action")})
        if self._metrics is not None:
            action = str(spec.get("action") or "unknown")
            self._metrics.runs_finished.labels(action=action, result=outcome["result"]).inc()
            self._metrics.run_duration.labels(action=action).observe(
                _seconds_since(spec.get("receivedAt"), self._clock())
            )
        log.info(
            "run finished: %s (%s)",
            outcome["result"],
            outcome["summary"],
            extra={"run_id": run_id, "action": spec.get("action")},
        )
        run = self._write_status(
            run,
            {
                **pending,
                "phase": "Succeeded" if outcome["result"] == SUCCESS else "Failed",
                "message": outcome["summary"],
                "finishedAt": now_rfc3339(),
                "reported": {**progress, "terminal": True} | ({"note": note} if note else {}),
            },
        )
        return self._collect_garbage(run)

    def _catalog(self, run: Object) -> str:
        """Upsert or delete the run's entity (with ``run_id``, so Port lists it under the run's affected
        entities); the identifier touched, or "" if none.

        The request itself is ready at this point, so a catalog problem that retrying cannot fix
        (a mapping that fails, Port refusing the entity) is reported on the run as a warning.
        Port being unavailable raises, and the whole step is tried again later.
        """
        spec = run["spec"]
        config = self._actions.get(spec.get("action", ""))
        run_id = spec["runId"]
        try:
            if spec.get("operation") == "DELETE":
                entity, blueprint = spec.get("entity") or {}, spec.get("blueprint")
                if not (entity.get("identifier") and blueprint):
                    return ""
                self._port.delete_entity(blueprint, entity["identifier"], run_id=run_id)
                return str(entity["identifier"])
            if config is None or config.entity is None:
                return ""
            request = self._current_request(spec["request"], (run.get("status") or {}).get("requestUid"))
            try:
                body = render_entity(config.entity, {**_run_document(spec), "request": request or {}})
            except MappingFailed as failed:
                self._port.add_run_log(run_id, f"Warning: the catalog entity could not be built ({failed})")
                return ""
            try:
                self._port.upsert_entity(config.entity.blueprint, body, run_id=run_id)
            except RunAlreadyFinished:
                raise
            except PortApiError as refused:
                self._port.add_run_log(run_id, f"Warning: Port refused the catalog entity: {refused.message}")
                return ""
            return str(body["identifier"])
        except RunAlreadyFinished:
            return ""  # closed elsewhere; the terminal step records it

    def _collect_garbage(self, run: Object) -> float | None:
        finished = (run.get("status") or {}).get("finishedAt")
        remaining = self._options.retention_seconds - _seconds_since(finished, self._clock())
        if remaining > 0:
            return remaining
        try:
            self._objects.delete(
                ACTIONRUNS,
                run["metadata"]["name"],
                namespace=run["metadata"]["namespace"],
                uid=run["metadata"].get("uid"),
            )
        except ApiException as error:
            if error.status not in (404, 409):
                raise
        return None

    # -- Port ----------------------------------------------------------------------------------

    def _deliver(
        self, run: Object, changes: Mapping[str, Any], journal: list[dict[str, Any]]
    ) -> Object | None:
        """Report what Port has not had yet, then record it with this step's changes in one write.

        Delivery is at least once (a crash between sending and recording repeats a line) and in
        order. When Port is unavailable the Kratix state is recorded anyway and the error raised,
        so the run is tried again later; ``None`` if Port refuses (the run is closed there).
        """
        reported = (run.get("status") or {}).get("reported") or {}
        progress: dict[str, Any] = {}
        record = dict(changes)
        if journal != _journal(run):
            record["journal"] = journal
        try:
            self._send(run, journal, reported, progress)
        except PortUnavailable:
            self._write_status(run, {**record, "reported": progress} if progress else record)
            raise
        except (RunAlreadyFinished, NotFound) as closed:
            self._write_status(
                run,
                {
                    **record,
                    "phase": "Closed",
                    "message": f"Port refused further reports: {closed}",
                    "finishedAt": now_rfc3339(),
                    "reported": {"terminal": True, "note": str(closed)},
                },
            )
            return None
        if progress:
            record["reported"] = progress
        return self._write_status(run, record) if record else run

    def _send(
        self,
        run: Object,
        journal: list[dict[str, Any]],
        reported: Mapping[str, Any],
        progress: dict[str, Any],
    ) -> None:
        """Announce the run and send journal lines Port has not had, noting each in ``progress``."""
        run_id = run["spec"]["runId"]
        if not reported.get("started"):
            self._announce(run)
            progress["started"] = True
        label = reported.get("label")
        logged = int(reported.get("logged") or 0)
        for entry in journal[logged:]:
            new_label = entry.get("label") if entry.get("label") and entry.get("label") != label else None
            self._port.add_run_log(run_id, entry["message"], status_label=new_label)
            logged += 1
            progress["logged"] = logged
            if new_label:
                label = progress["label"] = new_label

    def _announce(self, run: Object) -> None:
        spec = run["spec"]
        request = spec.get("request")
        verb = {"CREATE": "create", "DAY-2": "change", "DELETE": "delete"}.get(
            spec.get("operation", ""), "handle"
        )
        if request is None:  # rejected before a request was rendered: its journal says why
            return
        external = f"{request['namespace']}/{request['kind']}/{request['name']}"
        fields = {
            "run_id": spec["runId"],
            "namespace": request["namespace"],
            "name": request["name"],
            "kind": request["kind"],
            "plural": request["plural"],
            "action_run": run["metadata"]["name"],
        }
        link = self._options.link_template.format(**fields) if self._options.link_template else None
        self._port.patch_run(spec["runId"], external_run_id=external, link=link)
        where = f"{request['kind']} {request['namespace']}/{request['name']}"
        self._port.add_run_log(spec["runId"], f"port-bridge received the run: {verb} {where}")

    # -- Kubernetes ----------------------------------------------------------------------------

    def _current_request(self, request: Mapping[str, Any], uid: str | None) -> Object | None:
        """The request as it is now: from the watch cache, but never concluded gone from the cache alone.

        A cache can lag (a re-list that began before our own create), and "gone" ends runs, so
        absence (or a different uid) is confirmed with the API server.
        """
        resource, namespace, name = _resource(request), request["namespace"], request["name"]
        found = self._request_lookup(resource, namespace, name)
        if not isinstance(found, dict) or (uid and found.get("metadata", {}).get("uid") != uid):
            try:
                found = self._objects.get(resource, name, namespace=namespace)
            except ApiException as error:
                if error.status != 404:
                    raise
                return None
            self._remember_request(resource, found)
        if uid and found.get("metadata", {}).get("uid") != uid:  # deleted and re-created by someone else
            return None
        return found

    def _legacy_jobs(self, request: Mapping[str, Any], current: Object | None) -> list[Object]:
        """A legacy Kratix shows a failed pipeline only on its Job: read those Jobs when it matters."""
        conditions = {c.get("type"): c for c in ((current or {}).get("status") or {}).get("conditions") or ()}
        legacy_running = (
            "PipelineCompleted" in conditions and conditions["PipelineCompleted"].get("status") != "True"
        )
        if not legacy_running:
            return []
        selector = f"kratix.io/promise-name={request['promise']},kratix.io/resource-name={request['name']}"
        items: list[Object] = self._objects.list(
            JOBS, namespace=request["namespace"], label_selector=selector
        )["items"]
        return items

    def _write_status(self, run: Object, changes: Mapping[str, Any]) -> Object:
        """Merge ``changes`` into the ActionRun's status, guarded by its resourceVersion."""
        metadata = run["metadata"]
        body = {"metadata": {"resourceVersion": metadata["resourceVersion"]}, "status": dict(changes)}
        try:
            updated = self._objects.patch_status(
                ACTIONRUNS, metadata["name"], body, namespace=metadata["namespace"]
            )
        except ApiException as error:
            if error.status == 409:
                raise Conflict(metadata["name"]) from error
            raise
        self._remember(updated)  # the next look sees this write even before its watch event arrives
        return updated


def _resource(request: Mapping[str, Any]) -> Resource:
    group, version = request["apiVersion"].split("/", 1)
    return Resource(group, version, request["plural"])


def _journal(run: Object) -> list[dict[str, Any]]:
    """The run's journal: lines for Port, each with the statusLabel it brings (if any)."""
    entries = (run.get("status") or {}).get("journal") or []
    return [entry if isinstance(entry, dict) else _line(str(entry)) for entry in entries]


def _line(message: str, label: str | None = None) -> dict[str, Any]:
    return {"message": message, "label": label}


def _run_document(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What entity mappings see besides ``request``: the same shape intake's mappings saw."""
    return {
        "run": {"id": spec["runId"]},
        "action": {"identifier": spec.get("action"), "blueprint": spec.get("blueprint")},
        "operation": spec.get("operation"),
        "inputs": spec.get("inputs") or {},
        "entity": spec.get("entity"),
        "trigger": spec.get("trigger") or {},
    }


def _summary(run: Object, state: KratixState, result: str) -> str:
    request = run["spec"]["request"]
    where = f"{request['kind']} {request['namespace']}/{request['name']}"
    if result == FAILURE:
        return state.detail.removeprefix("Kratix: ")
    if state.phase is Phase.DELETED:
        return f"{where} was deleted"
    message = f": {state.message}" if state.message else ""
    if run["spec"].get("operation") == "DAY-2":
        return f"{where} was changed and reconciled by Kratix{message}"
    return f"{where} is ready{message}"


def _final_label(operation: str, result: str, state: KratixState) -> str:
    if result == FAILURE:
        return state.label if state.label not in ("Reconciled", "Deleted") else "Failed"
    return {"CREATE": "Ready", "DAY-2": "Changed", "DELETE": "Deleted"}.get(operation, "Done")


def _refusal(error: ApiException, where: str, operation: str) -> str:
    try:
        detail = json.loads(error.body or "{}").get("message") or error.reason
    except ValueError:
        detail = error.reason
    if error.status == 404 and "namespaces" in str(detail):
        return f"cannot {operation.lower()} {where}: {detail}"
    return f"Kubernetes refused to {operation.lower()} {where}: {detail}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min" if minutes and not rest else f"{int(seconds)} s"
