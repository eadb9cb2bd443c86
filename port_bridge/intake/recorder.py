"""Storing a run as its ActionRun, exactly once, and answering repeats as the first delivery was.

A run whose signature verified and whose run id is known is always recorded, accepted or not: the
ActionRun is the durable record the controller works from, and it closes a rejected run in Port
with the rejection's message. Port may deliver a run more than once; a second create finds the
first ActionRun (409) and the caller gets the first answer again. Only when nothing can be stored
(the Kubernetes API unreachable, or refusing) does intake close the run in Port itself, best
effort, since Port does not deliver a run again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import tenacity
from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRun, ActionRunSpec, MalformedActionRun
from port_bridge.intake.answers import RETRY_AFTER_SECONDS, Answer, Rejection, RunCloser, kube_message
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_manifest, actionrun_name
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects

log = logging.getLogger(__name__)


class RunRecorder:
    def __init__(
        self,
        *,
        objects: KubeObjects,
        namespace: str,
        closer: RunCloser | None,
        kube_retry_seconds: float,
    ) -> None:
        self._objects, self._namespace = objects, namespace
        self._closer, self._kube_retry_seconds = closer, kube_retry_seconds

    def accepted(self, spec: ActionRunSpec) -> Answer:
        """Store an accepted run: 202, or the first answer when it was delivered before."""
        return self._record(spec, None)

    def rejected(
        self, run_id: str, action: str | None, rejection: Rejection, *, links: tuple[str, ...] = ()
    ) -> Answer:
        """Store a refused run (the controller closes it in Port) and answer with the refusal."""
        spec = ActionRunSpec(
            run_id=run_id, action=action or "unknown", rejection=rejection.record(), links=links
        )
        return self._record(spec, rejection)

    def unrecorded(
        self, run_id: str, action: str | None, rejection: Rejection | None, error: Exception
    ) -> Answer:
        """Nothing could be stored: close the run in Port directly so it is not left open."""
        cause = kube_message(error)
        log.error("could not record run: %s", cause, extra={"run_id": run_id, "action": action})
        refused = not is_unavailable(error)  # the API server answered: trying again will not help
        advice = (
            "the platform team needs to look at port-bridge's access" if refused else "run the action again"
        )
        message = (
            rejection.message
            if rejection is not None
            else f"port-bridge could not record this run ({cause}); nothing was requested from Kratix; "
            + advice
        )
        closed = False
        if self._closer is not None:
            try:
                self._closer.close_failed(run_id, message)
                closed = True
            except Exception as closing:
                log.error("could not close the run in Port either: %s", closing, extra={"run_id": run_id})
        if rejection is not None:
            return _refused(rejection, run_id, action, closes_run=closed)
        reason = "kubernetes_refused" if refused else "kubernetes_unavailable"
        body = {"error": reason, "message": message, "runId": run_id}
        retry = {} if refused else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return Answer(503, body, "unavailable", retry, run_id=run_id, action=action, closes_run=closed)

    def _record(self, spec: ActionRunSpec, rejection: Rejection | None) -> Answer:
        run_id, action = spec.run_id, spec.action
        manifest = actionrun_manifest(spec, namespace=self._namespace)
        try:
            self._create(manifest)
        except Exception as error:
            if isinstance(error, ApiException) and error.status == 409:
                return self._repeat(run_id, action)
            if not (isinstance(error, ApiException) or is_unavailable(error)):
                log.exception("unexpected error storing the run", extra=_about(run_id, action))
            return self.unrecorded(run_id, action, rejection, error)
        if rejection is not None:
            log.info("run rejected: %s", rejection.message, extra=_about(run_id, action))
            return _refused(rejection, run_id, action, closes_run=True)
        log.info(
            "run accepted as ActionRun %s",
            manifest["metadata"]["name"],
            extra={"run_id": run_id, "action": action},
        )
        return Answer(
            202, self._accepted_body(run_id), "accepted", run_id=run_id, action=action, closes_run=True
        )

    def _create(self, manifest: dict[str, Any]) -> None:
        def create() -> None:
            self._objects.create(ACTIONRUNS, manifest, namespace=self._namespace)

        try:
            create()
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
                create()

    def _repeat(self, run_id: str, action: str | None) -> Answer:
        name = actionrun_name(run_id)
        try:
            existing = ActionRun.from_object(self._objects.get(ACTIONRUNS, name, namespace=self._namespace))
        except MalformedActionRun as malformed:
            message = f"ActionRun {name} already exists but cannot be read ({malformed})"
            return _conflict(run_id, action, message)
        except Exception as error:
            if not (isinstance(error, ApiException) or is_unavailable(error)):
                raise
            body = {"error": "kubernetes_unavailable", "message": kube_message(error), "runId": run_id}
            retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
            return Answer(503, body, "unavailable", retry, run_id=run_id, closes_run=True)
        if existing.spec.run_id != run_id:  # two run ids with the same name: would need a hash collision
            return _conflict(run_id, action, f"ActionRun {name} belongs to run {existing.spec.run_id!r}")
        if existing.spec.rejection is not None:
            first = Rejection.recorded(existing.spec.rejection)
            return replace(_refused(first, run_id, action, closes_run=True), outcome="duplicate")
        return Answer(
            200, self._accepted_body(run_id), "duplicate", run_id=run_id, action=action, closes_run=True
        )

    def _accepted_body(self, run_id: str) -> dict[str, str]:
        return {"runId": run_id, "actionRun": actionrun_name(run_id), "namespace": self._namespace}


def _refused(rejection: Rejection, run_id: str, action: str | None, *, closes_run: bool) -> Answer:
    body = rejection.body(run_id)
    return Answer(
        rejection.status, body, rejection.reason, run_id=run_id, action=action, closes_run=closes_run
    )


def _about(run_id: str, action: str | None) -> dict[str, str | None]:
    return {"run_id": run_id, "action": action}


def _conflict(run_id: str, action: str | None, message: str) -> Answer:
    body = {"error": "run_conflict", "message": message, "runId": run_id}
    return Answer(409, body, "conflict", run_id=run_id, action=action)
