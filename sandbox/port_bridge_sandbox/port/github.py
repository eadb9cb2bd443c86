"""The emulator acting as Port for an action whose invocation method is ``GITHUB``: a workflow dispatch.

Port (its GitHub app) creates the run, renders the action's ``workflowInputs`` against the run's
trigger context and dispatches the workflow ``<workflow>`` of ``<org>/<repo>`` with them
(research/port.md §6). GitHub's dispatch inputs are strings, so a value that is not one is sent
as JSON, and an input named ``ref`` is not passed on: it names the branch to run (the default
branch otherwise). GitHub refuses more than 10 inputs (Port's documented limit) and, when the
workflow's declared inputs are given, inputs it does not declare or required ones left out;
the run is then closed as FAILURE (the emulator's choice: no workflow would ever report on it).

There is no GitHub here: :meth:`WorkflowDispatcher.dispatch` returns what the workflow's
``inputs`` would hold, for a test (or the sandbox) to run the workflow's step itself. With
``reportWorkflowStatus`` (Port's default) Port closes the run from the workflow's conclusion:
:meth:`WorkflowDispatcher.conclude`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge_sandbox.port.state import PortState
from port_bridge_sandbox.port.templating import render
from port_bridge_sandbox.port.webhook import selected_entity, trigger_context

MAX_WORKFLOW_INPUTS = 10


class DispatchRefused(ValueError):
    """GitHub would refuse the dispatch (HTTP 422); the message says why, as GitHub does."""


@dataclass(frozen=True)
class WorkflowDispatch:
    """One dispatched workflow run: where, on which ref, and the inputs its steps read."""

    run_id: str
    org: str
    repo: str
    workflow: str
    ref: str | None
    inputs: dict[str, str]
    report_workflow_status: bool


class WorkflowDispatcher:
    def __init__(self, *, state: PortState, org_id: str) -> None:
        self._state, self._org_id = state, org_id

    def dispatch(
        self,
        action_identifier: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        entity: str | None = None,
        user_email: str = "developer@example.com",
        declared: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> WorkflowDispatch:
        """Run the action as a user would; ``declared`` is the workflow's ``on.workflow_dispatch.inputs``."""
        action = self._state.catalog.find_action(action_identifier)
        if action is None:
            raise LookupError(f"no action {action_identifier!r}; create it first (POST /v1/actions)")
        method = action["invocationMethod"]
        if method.get("type") != "GITHUB":
            raise ValueError(f"action {action_identifier!r} is not a GITHUB action")
        operation = action["trigger"].get("operation", "CREATE")
        entity_json = selected_entity(self._state, action, entity, operation)
        run = self._state.create_run(
            action_identifier,
            properties=inputs or {},
            entity=entity_json.get("identifier"),
            user_email=user_email,
            operation=operation,
        )
        context = trigger_context(
            run_id=run.id,
            action=action,
            inputs=inputs or {},
            entity=entity_json,
            user_email=user_email,
            operation=operation,
            org_id=self._org_id,
        )
        rendered = render(method.get("workflowInputs") or {}, context)
        report = method.get("reportWorkflowStatus", True)
        report = render(report, context) if isinstance(report, str) else report
        payload = {**method, "workflowInputs": rendered, "reportWorkflowStatus": bool(report)}
        self._state.set_run_invocation(run.id, payload=payload)
        ref = rendered.pop("ref", None)
        sent = {
            name: value if isinstance(value, str) else json.dumps(value) for name, value in rendered.items()
        }
        try:
            _check_inputs(sent, declared)
        except DispatchRefused as refused:  # Port closes the run: no workflow will ever report on it
            summary = f"GitHub refused to dispatch the workflow: {refused}"
            self._state.update_run(run.id, {"status": "FAILURE", "summary": summary}, request="dispatch")
            raise
        return WorkflowDispatch(
            run_id=run.id,
            org=method["org"],
            repo=method["repo"],
            workflow=method["workflow"],
            ref=ref if isinstance(ref, str) else None,
            inputs=sent,
            report_workflow_status=bool(report),
        )

    def conclude(self, dispatch: WorkflowDispatch, *, success: bool) -> None:
        """The workflow run ended: Port closes a still open run from it, if the action asks it to."""
        if not dispatch.report_workflow_status or self._state.run(dispatch.run_id).finished:
            return
        status = "SUCCESS" if success else "FAILURE"
        self._state.update_run(dispatch.run_id, {"status": status}, request="workflow conclusion")


def _check_inputs(sent: Mapping[str, str], declared: Mapping[str, Mapping[str, Any]] | None) -> None:
    """What GitHub checks before it starts a dispatched workflow."""
    if len(sent) > MAX_WORKFLOW_INPUTS:
        raise DispatchRefused(
            f"you may only define up to {MAX_WORKFLOW_INPUTS} `inputs` for a `workflow_dispatch` event "
            f"(the action sends {len(sent)})"
        )
    if declared is None:
        return
    unexpected = sorted(set(sent) - set(declared))
    if unexpected:
        raise DispatchRefused(f"Unexpected inputs provided: {unexpected}")
    missing = sorted(
        name
        for name, spec in declared.items()
        if spec.get("required") and name not in sent and "default" not in spec
    )
    if missing:
        raise DispatchRefused(f"Required input '{missing[0]}' not provided")
