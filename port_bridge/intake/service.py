"""What intake does with one webhook call, independent of the web framework.

Only what must happen while Port waits: verify, parse, find the action, validate, render the
Kratix request, and store one ActionRun named after the run. The answer is 202 as soon as the
ActionRun exists; everything slow (Kratix, reporting to Port) belongs to the controller.

A run is never lost and never left open: a call whose signature verified and whose run id is
known is always recorded, accepted or not, whatever else the body holds (values no later step
could handle are found by :mod:`~port_bridge.intake.body` and refused with the field they are
in; an unexpected error is recorded as a refusal too). A rejected run is stored with its
rejection, and the controller closes it in Port as FAILURE with the same message; a repeat
delivery of the same run finds that ActionRun and gets the same answer. Only when nothing can be
stored (the Kubernetes API is unreachable or refuses) does intake close the run in Port itself,
best effort. A run id that is not a plain Port id is refused without being recorded: Port did
not send it, and it could not name an ActionRun or a Port run. Runs forwarded by Port's execution
agent get their refusals as a 2xx (see :mod:`~port_bridge.intake.agent`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import tenacity
from kubernetes.client import ApiException

from port_bridge.intake.agent import forwarded_by_agent, rejection_for_agent
from port_bridge.intake.answers import (
    RETRY_AFTER_SECONDS,
    UNEXPECTED,
    Answer,
    Rejection,
    RunCloser,
    kube_message,
    problems_rejection,
    promise_refusal,
)
from port_bridge.intake.body import BodyProblem, MalformedBody, read_body
from port_bridge.intake.payload import (
    PayloadRejected,
    RunContext,
    find_run_id,
    is_plain_id,
    parse_run,
    run_id_problem,
    shown,
)
from port_bridge.intake.signature import SignatureRejected, verify
from port_bridge.intake.validation import FieldProblem, InputsValidator, request_problems
from port_bridge.kratix.catalog import PromiseCatalog, PromiseNotInstalled
from port_bridge.kratix.promise import PromiseApi, PromiseWithoutApi
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_manifest, actionrun_name
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_request

log = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        *,
        client_secret: str,
        namespace: str,
        replay_window_seconds: int,
        actions: Mapping[str, ActionConfig],
        objects: KubeObjects,
        promises: PromiseCatalog,
        closer: RunCloser | None = None,
        clock: Callable[[], float] = time.time,
        kube_retry_seconds: float = 3.0,
    ) -> None:
        self._secret, self._namespace, self._window = client_secret, namespace, replay_window_seconds
        self._actions, self._objects, self._promises = actions, objects, promises
        self._forms = {
            name: InputsValidator(config.action.trigger.user_inputs) for name, config in actions.items()
        }
        self._closer, self._clock, self._kube_retry_seconds = closer, clock, kube_retry_seconds

    @property
    def actions(self) -> Mapping[str, ActionConfig]:
        return self._actions

    def handle(self, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            verified = verify(
                headers, body, secret=self._secret, now=self._clock(), window_seconds=self._window
            )
        except SignatureRejected as rejected:
            return Answer(401, {"error": "unauthorized", "message": str(rejected)}, "unauthorized")
        try:
            read = read_body(body)
        except MalformedBody as error:
            return Answer(400, {"error": "malformed_json", "message": str(error)}, "malformed")
        document = read.document
        run_id = find_run_id(document)
        if run_id is None:
            message = "the body carries no run id (runId, or context.runId in the legacy format)"
            return Answer(400, {"error": "missing_run_id", "message": message}, "malformed")
        if problem := run_id_problem(run_id):
            return Answer(400, {"error": "invalid_run_id", "message": problem}, "malformed")
        action = document.get("action") if is_plain_id(document.get("action")) else None
        answer = self._checked(run_id, action, document, read.problems)
        agent = forwarded_by_agent(
            document, reserialized=verified.reserialized, config=self._actions.get(action or "")
        )
        if agent and answer.status >= 300 and answer.closes_run:
            log.info(
                "answering the execution agent 200 so that only port-bridge reports this rejection",
                extra={"run_id": run_id, "action": action},
            )
            return replace(answer, status=200, body=rejection_for_agent(answer.body), headers={})
        return answer

    def _checked(
        self, run_id: str, action: str | None, document: Any, problems: tuple[BodyProblem, ...]
    ) -> Answer:
        """Check a run whose id is known, record it, and answer; every refusal is recorded."""
        if problems:
            found = [FieldProblem(problem.path or "body", problem.message) for problem in problems]
            refusal = problems_rejection(
                400, "unsupported_json", "the body holds values port-bridge cannot process", found
            )
            return self._record(run_id, action, None, refusal)
        try:
            context = parse_run(document)
            spec = self._accept(context)
        except PayloadRejected as error:
            return self._record(run_id, action, None, Rejection(400, "malformed_payload", str(error)))
        except Rejection as rejection:
            return self._record(run_id, action, None, rejection)
        except Exception as error:
            if is_unavailable(error):
                return self._unrecorded(run_id, action, None, error)
            log.exception("unexpected error while checking a run", extra={"run_id": run_id, "action": action})
            return self._record(run_id, action, None, UNEXPECTED)
        return self._record(run_id, context.action, spec, None)

    def describe(self, run_id: str) -> Answer:
        """What the bridge knows of a run (the page a Port run's link can point to)."""
        if problem := run_id_problem(run_id):
            return Answer(400, {"error": "invalid_run_id", "message": problem}, "malformed")
        try:
            run = self._objects.get(ACTIONRUNS, actionrun_name(run_id), namespace=self._namespace)
        except Exception as error:
            if isinstance(error, ApiException) and error.status == 404:
                return Answer(
                    404, {"error": "not_found", "message": f"port-bridge has no run {run_id!r}"}, "not_found"
                )
            if not isinstance(error, ApiException) and not is_unavailable(error):
                raise
            unavailable = {"error": "kubernetes_unavailable", "message": kube_message(error)}
            return Answer(503, unavailable, "unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)})
        spec, status = run.get("spec") or {}, run.get("status") or {}
        if spec.get("runId") != run_id:
            return Answer(
                404, {"error": "not_found", "message": f"port-bridge has no run {run_id!r}"}, "not_found"
            )
        request = spec.get("request") or {}
        body: dict[str, Any] = {
            "runId": run_id,
            "action": spec.get("action"),
            "operation": spec.get("operation"),
            "request": {
                key: request[key] for key in ("apiVersion", "kind", "namespace", "name") if key in request
            },
            "receivedAt": spec.get("receivedAt"),
            "phase": status.get("phase", "Received"),
            "kratix": {key: value for key, value in (status.get("kratix") or {}).items() if key != "key"},
            "outcome": status.get("outcome"),
            "rejection": spec.get("rejection"),
            "finishedAt": status.get("finishedAt"),
        }
        return Answer(200, {key: value for key, value in body.items() if value}, "ok")

    def _accept(self, context: RunContext) -> dict[str, Any]:
        """The ActionRun spec for an acceptable run; raises :class:`Rejection` otherwise."""
        config = self._actions.get(context.action)
        if config is None:
            known = ", ".join(sorted(self._actions)) or "none"
            raise Rejection(
                404,
                "unknown_action",
                f"action {shown(context.action)} is not configured in port-bridge (configured: {known})",
            )
        if context.operation is not None and context.operation != config.operation:
            raise Rejection(
                422,
                "operation_mismatch",
                f"action {config.identifier} is a {config.operation} action, "
                f"the run says {context.operation}",
            )
        user_inputs = config.action.trigger.user_inputs
        if problems := self._forms[config.identifier].problems(context.inputs):
            raise problems_rejection(422, "invalid_inputs", "invalid inputs", problems)
        promise = self._promise(config.kratix.promise)
        try:
            rendered = render_request(config, context.document())
        except MappingFailed as failed:
            problem = FieldProblem(failed.field, failed.message)
            raise problems_rejection(
                422, "mapping_failed", "the action's mapping failed", [problem]
            ) from None
        if problems := request_problems(
            rendered, promise, operation=config.operation, allowed_namespaces=config.kratix.allowed_namespaces
        ):
            raise problems_rejection(422, "invalid_request", "the Kratix request would be invalid", problems)
        secret_inputs = {
            name
            for name, spec in (user_inputs.get("properties") or {}).items()
            if isinstance(spec, Mapping) and spec.get("encryption")
        }
        request: dict[str, Any] = {
            "promise": promise.promise,
            "apiVersion": promise.api_version,
            "kind": promise.kind,
            "plural": promise.plural,
            "namespace": rendered.namespace,
            "name": rendered.name,
            "labels": rendered.labels,
        }
        if rendered.spec is not None:
            request["spec"] = rendered.spec
        return {
            "action": config.identifier,
            "operation": config.operation,
            "blueprint": context.blueprint or config.action.trigger.blueprint_identifier,
            "format": context.format,
            "trigger": context.trigger,
            "inputs": {key: value for key, value in context.inputs.items() if key not in secret_inputs},
            "entity": context.entity,
            "request": request,
            "timeoutSeconds": config.kratix.timeout_seconds,
        }

    def _promise(self, name: str) -> PromiseApi:
        """The Promise's API; a Promise that is missing or that port-bridge may not read is a refusal."""
        try:
            return self._promises.get(name)
        except (PromiseNotInstalled, PromiseWithoutApi) as error:
            raise Rejection(
                503, "promise_unavailable", f"{error}; the platform team needs to install it"
            ) from None
        except ApiException as error:
            if is_unavailable(error):
                raise
            raise promise_refusal(name, error) from None

    def _record(
        self, run_id: str, action: str | None, spec: dict[str, Any] | None, rejection: Rejection | None
    ) -> Answer:
        """Store the ActionRun (accepted or rejected) and answer; a repeat gets the first answer."""
        if rejection is not None:
            spec = {"action": action or "unknown", "rejection": rejection.as_spec()}
        assert spec is not None
        manifest = actionrun_manifest(run_id=run_id, namespace=self._namespace, spec=spec)
        try:
            self._create(manifest)
        except Exception as error:
            if isinstance(error, ApiException) and error.status == 409:
                return self._repeat(run_id, action)
            if not (isinstance(error, ApiException) or is_unavailable(error)):
                log.exception("unexpected error storing the run", extra={"run_id": run_id, "action": action})
            return self._unrecorded(run_id, action, rejection, error)
        name = manifest["metadata"]["name"]
        if rejection is not None:
            log.info("run rejected: %s", rejection.message, extra={"run_id": run_id, "action": action})
            return Answer(
                rejection.status,
                rejection.body(run_id),
                rejection.reason,
                run_id=run_id,
                action=action,
                closes_run=True,
            )
        log.info("run accepted as ActionRun %s", name, extra={"run_id": run_id, "action": action})
        return Answer(
            202, self._accepted_body(run_id), "accepted", run_id=run_id, action=action, closes_run=True
        )

    def _create(self, manifest: dict[str, Any]) -> None:
        try:
            self._objects.create(ACTIONRUNS, manifest, namespace=self._namespace)
            return
        except Exception as error:
            if not is_unavailable(error):
                raise
        for attempt in tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_unavailable),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            stop=tenacity.stop_after_delay(self._kube_retry_seconds),
            reraise=True,
        ):
            with attempt:
                self._objects.create(ACTIONRUNS, manifest, namespace=self._namespace)

    def _repeat(self, run_id: str, action: str | None) -> Answer:
        try:
            existing = self._objects.get(ACTIONRUNS, actionrun_name(run_id), namespace=self._namespace)
        except Exception as error:
            if not (isinstance(error, ApiException) or is_unavailable(error)):
                raise
            body = {"error": "kubernetes_unavailable", "message": kube_message(error), "runId": run_id}
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return Answer(503, body, "unavailable", retry, run_id=run_id, closes_run=True)
        stored = existing.get("spec") or {}
        if stored.get("runId") != run_id:  # two run ids with the same name: would need a hash collision
            message = f"ActionRun {actionrun_name(run_id)} belongs to run {stored.get('runId')!r}"
            return Answer(
                409,
                {"error": "run_conflict", "message": message, "runId": run_id},
                "conflict",
                run_id=run_id,
                action=action,
            )
        if rejection := stored.get("rejection"):
            previous = Rejection(
                rejection["code"],
                rejection["reason"],
                rejection["message"],
                tuple(FieldProblem(e["field"], e["message"]) for e in rejection.get("errors") or ()),
            )
            return Answer(
                previous.status,
                previous.body(run_id),
                "duplicate",
                run_id=run_id,
                action=action,
                closes_run=True,
            )
        return Answer(
            200, self._accepted_body(run_id), "duplicate", run_id=run_id, action=action, closes_run=True
        )

    def _unrecorded(
        self, run_id: str, action: str | None, rejection: Rejection | None, error: Exception
    ) -> Answer:
        """Nothing could be stored: close the run in Port directly so it is not left open."""
        cause = kube_message(error)
        log.error("could not record run: %s", cause, extra={"run_id": run_id, "action": action})
        message = (
            rejection.message
            if rejection is not None
            else (
                f"port-bridge could not record this run ({cause}); nothing was requested from Kratix, "
                "run the action again"
            )
        )
        closed = False
        if self._closer is not None:
            try:
                self._closer.close_failed(run_id, message)
                closed = True
            except Exception as closing:
                log.error("could not close the run in Port either: %s", closing, extra={"run_id": run_id})
        if rejection is not None:
            return Answer(
                rejection.status,
                rejection.body(run_id),
                rejection.reason,
                run_id=run_id,
                action=action,
                closes_run=closed,
            )
        body = {"error": "kubernetes_unavailable", "message": message, "runId": run_id}
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return Answer(503, body, "unavailable", retry, run_id=run_id, action=action, closes_run=closed)

    def _accepted_body(self, run_id: str) -> dict[str, Any]:
        return {"runId": run_id, "actionRun": actionrun_name(run_id), "namespace": self._namespace}
