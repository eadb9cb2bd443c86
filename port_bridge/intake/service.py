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

from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRunSpec, RequestRef, Trigger
from port_bridge.intake.agent import forwarded_by_agent, rejection_for_agent
from port_bridge.intake.answers import (
    UNEXPECTED,
    Answer,
    Rejection,
    RunCloser,
    malformed_json,
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
from port_bridge.intake.recorder import RunRecorder
from port_bridge.intake.signature import SignatureRejected, verify
from port_bridge.intake.validation import FieldProblem, InputsValidator, request_problems
from port_bridge.kratix.catalog import PromiseCatalog, PromiseNotInstalled
from port_bridge.kratix.promise import PromiseApi, PromiseWithoutApi
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects
from port_bridge.live.lookup import LiveActions
from port_bridge.live.promises import ActionRegistry
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_requests
from port_bridge.settings import Settings

log = logging.getLogger(__name__)


def intake_for(
    settings: Settings,
    *,
    objects: KubeObjects,
    actions: Mapping[str, ActionConfig],
    closer: RunCloser | None,
    clock: Callable[[], float] = time.time,
    kube_retry_seconds: float | None = None,
) -> Intake:
    """Intake as the settings configure it, serving the action files and live Promises' actions;
    the webhook and ``port-bridge invoke`` both build it here."""
    return Intake(
        client_secret=settings.port_client_secret.get_secret_value(),
        namespace=settings.namespace,
        replay_window_seconds=settings.replay_window_seconds,
        actions=LiveActions(ActionRegistry(actions), objects),
        objects=objects,
        promises=PromiseCatalog(objects),
        closer=closer,
        clock=clock,
        kube_retry_seconds=settings.kube_retry_seconds if kube_retry_seconds is None else kube_retry_seconds,
    )


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
        self._forms: dict[str, tuple[ActionConfig, InputsValidator]] = {}  # compiled once per action
        self._clock = clock
        self._recorder = RunRecorder(
            objects=objects, namespace=namespace, closer=closer, kube_retry_seconds=kube_retry_seconds
        )

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
            return malformed_json(error)
        answer = self.receive(read.document, read.problems)
        if not (answer.status >= 300 and answer.closes_run):
            return answer
        action = _action_of(read.document)
        if forwarded_by_agent(
            read.document, reserialized=verified.reserialized, config=self._actions.get(action or "")
        ):
            log.info(
                "answering the execution agent 200 so that only port-bridge reports this rejection",
                extra={"run_id": answer.run_id, "action": action},
            )
            return replace(answer, status=200, body=rejection_for_agent(answer.body), headers={})
        return answer

    def receive(
        self, document: Any, problems: tuple[BodyProblem, ...] = (), *, links: tuple[str, ...] = ()
    ) -> Answer:
        """Everything after the signature: check a run read from a trusted sender, record it, answer.

        ``port-bridge invoke`` (a GitHub workflow holding Port's credentials) enters here too, so
        a run gets the same checks and messages whichever way it came; ``links`` are further links
        for the Port run (the workflow run it came from).
        """
        run_id = find_run_id(document)
        if run_id is None:
            message = "the body carries no run id (runId, or context.runId in the legacy format)"
            return Answer(400, {"error": "missing_run_id", "message": message}, "malformed")
        if problem := run_id_problem(run_id):
            return Answer(400, {"error": "invalid_run_id", "message": problem}, "malformed")
        return self._checked(run_id, _action_of(document), document, problems, links)

    def _checked(
        self,
        run_id: str,
        action: str | None,
        document: Any,
        problems: tuple[BodyProblem, ...],
        links: tuple[str, ...],
    ) -> Answer:
        """Check a run whose id is known, record it, and answer; every refusal is recorded."""
        if problems:
            found = [FieldProblem(problem.path or "body", problem.message) for problem in problems]
            refusal = problems_rejection(
                400, "unsupported_json", "the body holds values port-bridge cannot process", found
            )
            return self._recorder.rejected(run_id, action, refusal, links=links)
        try:
            spec = self._accept(parse_run(document))
        except PayloadRejected as error:
            rejection = Rejection(400, "malformed_payload", str(error))
            return self._recorder.rejected(run_id, action, rejection, links=links)
        except Rejection as rejection:
            return self._recorder.rejected(run_id, action, rejection, links=links)
        except Exception as error:
            if is_unavailable(error):
                return self._recorder.unrecorded(run_id, action, None, error)
            log.exception("unexpected error while checking a run", extra={"run_id": run_id, "action": action})
            return self._recorder.rejected(run_id, action, UNEXPECTED, links=links)
        return self._recorder.accepted(spec.model_copy(update={"links": links}) if links else spec)

    def _accept(self, context: RunContext) -> ActionRunSpec:
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
        if problems := self._form(config).problems(context.inputs):
            raise problems_rejection(422, "invalid_inputs", "invalid inputs", problems)
        try:
            rendered = render_requests(config, context.document())
        except MappingFailed as failed:
            problem = FieldProblem(failed.field, failed.message)
            raise problems_rejection(
                422, "mapping_failed", "the action's mapping failed", [problem]
            ) from None
        several = len(config.request_mappings) > 1
        requests: list[RequestRef] = []
        problems = []
        for mapping, request in rendered:
            promise = self._promise(mapping.kratix.promise)
            prefix = f"requests.{mapping.id}." if several else ""
            problems += [
                FieldProblem(prefix + problem.field, problem.message)
                for problem in request_problems(
                    request,
                    promise,
                    operation=config.operation,
                    allowed_namespaces=mapping.kratix.allowed_namespaces,
                )
            ]
            requests.append(
                RequestRef(
                    id=mapping.id,
                    promise=promise.promise,
                    api_version=promise.api_version,
                    kind=promise.kind,
                    plural=promise.plural,
                    namespace=request.namespace,
                    name=request.name,
                    labels=request.labels,
                    spec=request.spec,
                )
            )
        if problems:
            raise problems_rejection(422, "invalid_request", "the Kratix request would be invalid", problems)
        secret_inputs = {
            name
            for name, spec in (user_inputs.get("properties") or {}).items()
            if isinstance(spec, Mapping) and spec.get("encryption")
        }
        return ActionRunSpec(
            run_id=context.run_id,
            action=config.identifier,
            operation=config.operation,
            blueprint=context.blueprint or config.action.trigger.blueprint_identifier,
            format=context.format,
            trigger=Trigger.model_validate(context.trigger),
            inputs={key: value for key, value in context.inputs.items() if key not in secret_inputs},
            entity=context.entity,
            requests=tuple(requests),
            timeout_seconds=config.timeout_seconds,
        )

    def _form(self, config: ActionConfig) -> InputsValidator:
        """The action's form as a validator; a live Promise's action may change, so it is checked."""
        known = self._forms.get(config.identifier)
        if known is None or known[0] is not config:
            known = self._forms[config.identifier] = (
                config,
                InputsValidator(config.action.trigger.user_inputs),
            )
        return known[1]

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


def _action_of(document: Mapping[str, Any]) -> str | None:
    """The action a body names, if it can be an action's identifier (recorded with a refusal)."""
    action = document.get("action")
    return action if is_plain_id(action) else None
