"""``port-bridge invoke``: hand a Port run to port-bridge from a workflow step, and optionally wait.

The run is checked and stored by intake's own code (:meth:`~port_bridge.intake.service.Intake.receive`),
so it gets the webhook's checks and messages, and a refused run is recorded and closed in Port as
FAILURE by the controller, as a refused webhook is. The workflow run's page becomes one of the
Port run's links (the ActionRun carries it; the controller's outbox announces it), and a first
line in the Port run's log says which workflow run took it.

A refused run ends the command at once, ``--wait`` or not: the controller closes it in Port
within seconds (a run that could not be stored at all is closed in Port by invoke itself, as
intake does). Exit status: 0 when the run is stored (or, with ``--wait``, succeeded); 1 when it
was refused or failed; 2 for a setting or option to fix; 3 when ``--timeout`` passed first (the run goes on in
the cluster, and the controller reports its end). The reason for a non-zero status is the last
line on stderr (an ``::error::`` annotation inside GitHub Actions).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TextIO

from port_bridge.actionrun.model import SUCCESS, ActionRun
from port_bridge.intake.answers import Answer, malformed_json
from port_bridge.intake.closing import PortRunCloser
from port_bridge.intake.payload import find_run_id, is_plain_id
from port_bridge.intake.service import Intake, intake_for
from port_bridge.invoke.follow import Followed, RunFollower
from port_bridge.invoke.source import RunFlags, RunInput, Unreadable, read_run
from port_bridge.invoke.summary import Report, State, markdown
from port_bridge.invoke.workflow import GithubEnv, WorkflowLog, error_line
from port_bridge.kube.actionruns import actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge.logs import configure_logging
from port_bridge.mapping.actions import DEFAULT_TIMEOUT_SECONDS, ActionConfig
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError, PortUnavailable
from port_bridge.settings import settings_from_environment
from port_bridge.startup import PortLogin, check_actions, connect_kubernetes

log = logging.getLogger(__name__)
SUCCEEDED, FAILED, TIMED_OUT = 0, 1, 3
STORE_RETRY_SECONDS = 30.0  # nobody waits on a workflow's answer: storing the run may retry longer
TIMEOUT_MARGIN_SECONDS = 300.0  # --wait's default: the action's own timeout, and this for the controller


@dataclass(frozen=True)
class InvokeOptions:
    run: RunFlags
    wait: bool = False
    timeout_seconds: float | None = None  # default: the action's timeout plus the margin
    poll_seconds: float = 2.0


def run_invoke(
    options: InvokeOptions,
    *,
    environ: Mapping[str, str] = os.environ,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    started = time.monotonic()
    github = GithubEnv.from_environ(environ)
    workflow_log = WorkflowLog(out, commands=github.in_actions)
    try:
        run = read_run(options.run, environ)
    except Unreadable as unreadable:
        answer = malformed_json(unreadable.error)
        report = Report("refused", f"{answer.body['message']} ({unreadable.origin})")
        return _finish(report, FAILED, github, workflow_log, err)
    settings = settings_from_environment()
    level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
    secret = settings.port_client_secret.get_secret_value()
    configure_logging(level=level, secrets=[secret])
    settings.require_port_credentials()
    actions = check_actions(settings)
    kube = connect_kubernetes(settings)
    with PortClient(
        settings.port_api_url,
        client_id=settings.port_client_id,
        client_secret=secret,
        max_retry_seconds=settings.port_retry_seconds,
    ) as port:
        PortLogin(port, secret=secret).check()  # refused credentials: exit 2 before anything is stored
        objects = KubeObjects(kube, request_timeout=settings.kube_timeout_seconds)
        intake = intake_for(
            settings,
            objects=objects,
            actions=actions,
            closer=PortRunCloser(port),
            kube_retry_seconds=max(settings.kube_retry_seconds, STORE_RETRY_SECONDS),
        )
        invocation = _Invocation(
            intake=intake,
            port=port,
            objects=objects,
            namespace=settings.namespace,
            github=github,
            log=workflow_log,
        )
        timeout = options.timeout_seconds or _default_timeout(actions, run.document)
        report, status = invocation.hand_over(
            run,
            wait=options.wait,
            deadline=started + timeout,
            timeout_seconds=timeout,
            poll_seconds=options.poll_seconds,
        )
    kube.close()  # type: ignore[no-untyped-call]
    return _finish(report, status, github, workflow_log, err)


@dataclass
class _Invocation:
    intake: Intake
    port: PortClient
    objects: KubeObjects
    namespace: str
    github: GithubEnv
    log: WorkflowLog

    def hand_over(
        self, run: RunInput, *, wait: bool, deadline: float, timeout_seconds: float, poll_seconds: float
    ) -> tuple[Report, int]:
        run_id = find_run_id(run.document)
        action = _action(run.document)
        self.log.group(f"port-bridge: {action or 'an unnamed action'}, Port run {run_id or '(none)'}")
        if run_id is not None and is_plain_id(run_id) and self.github.run_url:
            self._say_taken(run_id, self.github.run_url)
        links = (self.github.run_url,) if self.github.run_url else ()
        answer = self.intake.receive(run.document, run.problems, links=links)
        report = _report_of(answer, action)
        if answer.status not in (200, 202):
            self.log.line(f"port-bridge refused the run ({answer.status} {answer.body.get('error')})")
            for field, problem in report.problems:
                self.log.line(f"{field}: {problem}")
            if answer.closes_run:
                self.log.line("port-bridge closes the Port run as FAILURE with this message")
            return report, FAILED
        self.log.line(report.message)
        if not wait:
            return report, SUCCEEDED
        self.log.line("Following the run until port-bridge has reported its end to Port")
        follower = RunFollower(
            self.objects,
            namespace=self.namespace,
            name=actionrun_name(answer.run_id or ""),
            interval=poll_seconds,
        )
        followed = follower.follow(
            deadline=deadline,
            on_line=lambda line: self.log.line(line.message, label=line.label),
            on_unreachable=lambda why: self.log.warning(
                f"cannot read the run's ActionRun ({why}); trying on"
            ),
        )
        ended, status = self._ended(followed, answer.run_id or "", timeout_seconds)
        return replace(ended, action=action, action_run=report.action_run), status

    def _say_taken(self, run_id: str, url: str) -> None:
        """The first line of the Port run's log: which workflow run took it (best effort)."""
        try:
            self.port.add_run_log(run_id, f"GitHub workflow run {url} handed the run to port-bridge")
        except (PortApiError, PortUnavailable) as error:
            log.warning("could not add the workflow run to the Port run's log: %s", error)
            self.log.warning(f"could not write to the Port run's log: {error}")

    def _ended(self, followed: Followed, run_id: str, timeout_seconds: float) -> tuple[Report, int]:
        run = followed.run
        lines = tuple(line.message for line in run.status.journal) if run is not None else ()
        requests = tuple(request.where for request in run.spec.requests) if run is not None else ()
        base = Report("still running", "", run_id=run_id, requests=requests, lines=lines)
        if followed.ended and run is not None:
            return self._outcome(base, run)
        if followed.gone or followed.malformed is not None:
            return self._from_port(base, gone=followed.malformed is None, why=followed.malformed)
        if followed.refused is not None:
            message = f"cannot follow the run: {followed.refused}; it goes on in the cluster"
            return replace(base, message=message), FAILED
        where = (
            f"; the last read of its ActionRun failed: {followed.unreachable}" if followed.unreachable else ""
        )
        decided = run.status.outcome if run is not None else None
        state = f"; it ended {decided.result} but Port has not taken that yet" if decided else ""
        message = (
            f"stopped waiting after {timeout_seconds:g} s{state}{where}; the run goes on in the cluster "
            "and port-bridge's controller reports its end to Port"
        )
        return replace(base, message=message), TIMED_OUT

    def _outcome(self, base: Report, run: ActionRun) -> tuple[Report, int]:
        status, outcome = run.status, run.status.outcome
        entities = status.reported.entities or ()
        if status.phase == "Closed" or outcome is None:
            message = status.message or "the run was closed outside port-bridge"
            return replace(base, state="closed elsewhere", message=message, entities=entities), FAILED
        state: State = "succeeded" if outcome.result == SUCCESS else "failed"
        report = replace(base, state=state, message=outcome.summary, result=outcome.result, entities=entities)
        return report, SUCCEEDED if outcome.result == SUCCESS else FAILED

    def _from_port(self, base: Report, *, gone: bool, why: str | None) -> tuple[Report, int]:
        """The ActionRun is gone or unreadable: Port's run says how it ended."""
        lost = "its ActionRun is gone" if gone else f"its ActionRun cannot be read ({why})"
        try:
            shown: dict[str, Any] = self.port.get_run(base.run_id or "")
        except (PortApiError, PortUnavailable) as error:
            return replace(
                base, state="failed", message=f"{lost}, and Port did not show the run: {error}"
            ), FAILED
        result = shown.get("status")
        summary = str(shown.get("summary") or f"Port shows the run {result}")
        if result == SUCCESS:
            return replace(base, state="succeeded", message=summary, result=result), SUCCEEDED
        if result == "FAILURE":
            return replace(base, state="failed", message=summary, result=result), FAILED
        return replace(base, state="failed", message=f"{lost} while Port shows the run {result}"), FAILED


def _report_of(answer: Answer, action: str | None) -> Report:
    body = answer.body
    if answer.status in (200, 202):
        where = f"{body.get('namespace')}/{body.get('actionRun')}"
        said = "had this run already" if answer.status == 200 else "checked the run and stored it"
        message = (
            f"port-bridge {said} as ActionRun {where}; its controller in the cluster requests it from "
            "Kratix and reports to Port"
        )
        return Report("handed over", message, run_id=answer.run_id, action=action, action_run=where)
    errors = body.get("errors") or []
    problems = tuple((str(error.get("field")), str(error.get("message"))) for error in errors)
    return Report("refused", str(body.get("message")), run_id=answer.run_id, action=action, problems=problems)


def _finish(report: Report, status: int, github: GithubEnv, log: WorkflowLog, err: TextIO) -> int:
    log.end_group()
    if status == SUCCEEDED:
        log.notice(report.message if report.state != "succeeded" else f"SUCCESS: {report.message}")
    github.write_summary(markdown(report))
    github.write_outputs(
        {
            "run-id": report.run_id or "",
            "action-run": report.action_run or "",
            "state": report.state,
            "result": report.result or "",
        }
    )
    if status != SUCCEEDED:
        reason = f"{report.state}: {report.message}"
        err.write(error_line(reason, commands=github.in_actions) + "\n")
        err.flush()
    return status


def _action(document: Any) -> str | None:
    action = document.get("action") if isinstance(document, Mapping) else None
    return action if is_plain_id(action) else None


def _default_timeout(actions: Mapping[str, ActionConfig], document: Any) -> float:
    config = actions.get(_action(document) or "")
    own = config.timeout_seconds if config is not None else DEFAULT_TIMEOUT_SECONDS
    return own + TIMEOUT_MARGIN_SECONDS
