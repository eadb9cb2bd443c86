"""Port's execution agent (port-labs/port-agent) as the emulator plays it: what it forwards, and
what it reports to the run from the answer it gets.

Written from the agent's public behaviour (research/port.md §5.2, its polling streamer and
webhook invoker), with its default settings (``DETAILED_LOGGING`` on) and its default mapping,
which forwards the whole message to ``invocationMethod.url``:

* the message is the run's rendered body plus what the agent adds: ``headers`` (the action's
  headers), ``payload.action.invocationMethod`` (without ``agent``, which the agent pops before
  forwarding) and ``context.runId``;
* it signs the compact, ASCII-escaped JSON and sends it re-serialised with spaces, with only its
  own ``X-Port-Timestamp`` / ``X-Port-Signature`` headers (the action's headers stay in the body);
* it logs its progress to the run; a non-2xx answer makes it PATCH the run FAILURE ("Failed to
  invoke the webhook with status code: N. Response: ...") and then, as its consumer sees the
  error, FAILURE once more ("Agent failed to process the run"); a 2xx answer to a synchronized
  action makes it store the answer as the run's response and PATCH SUCCESS; a 2xx answer
  otherwise leaves the run's status alone. A request that fails without an answer (timeout,
  connection refused) is reported once, by the consumer.

Its reports go to the emulator's state directly (not over HTTP), so recorded calls and request
counts stay those of the code under test; each is labelled ``(execution agent)``.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Mapping
from typing import Any

import requests

from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.state import PortState

AGENT_FAILED = "Agent failed to process the run"


def agent_message(body: Any, *, run_id: str, invocation: Mapping[str, Any]) -> dict[str, Any]:
    """The message the agent forwards for a run whose rendered body is ``body``."""
    if not isinstance(body, Mapping):
        raise ValueError("the execution agent forwards object bodies only")
    message = copy.deepcopy(dict(body))
    method = {
        "type": invocation["type"],
        "url": invocation["url"],
        "synchronized": invocation["synchronized"],
        "method": invocation["method"],
        "headers": dict(invocation["headers"]),
    }
    message["headers"] = method["headers"]
    payload = message.setdefault("payload", {})
    payload.setdefault("action", {})["invocationMethod"] = method
    message.setdefault("context", {})["runId"] = run_id
    return message


def agent_serialised(message: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """What the agent signs (compact, ASCII-escaped) and what it sends (``requests``' ``json=``)."""
    return json.dumps(message, separators=(",", ":")).encode(), json.dumps(message).encode()


class AgentReporter:
    """The agent's reports to one run, applied to the emulator's state."""

    def __init__(self, state: PortState, run_id: str) -> None:
        self._state, self._run_id = state, run_id
        self._patch_request = f"PATCH /v1/actions/runs/{run_id} (execution agent)"
        self._log_request = f"POST /v1/actions/runs/{run_id}/logs (execution agent)"

    def before_sending(self) -> None:
        for message in (
            "An action message has been received",
            "Preparing the payload for the request",
            "Sending the request",
        ):
            self.log(message)

    def answered(self, response: requests.Response, *, synchronized: bool) -> None:
        code, text = response.status_code, response.text
        if response.ok:
            self.log(f"Action invocation has completed successfully with status code: {code}")
        else:
            self.log(f"Action invocation failed with status code: {code} and response: {text}")
        answer = _answer(response)
        if synchronized and answer:
            self.log("Reporting the run response")
            self._state.set_run_response(self._run_id, answer)
            self.log("The run response was reported successfully ")
        if not response.ok:
            summary = f"Failed to invoke the webhook with status code: {code}. Response: {text}"
            self._patch({"status": "FAILURE", "summary": summary}, logged=True)
            self.failed()
            return
        if synchronized:
            self._patch({"status": "SUCCESS"}, logged=True)
        self.log("Port agent finished processing the action run")

    def failed(self) -> None:
        """The consumer's own report when processing raised; a refusal is only logged locally."""
        self._patch({"status": "FAILURE", "summary": AGENT_FAILED}, logged=False)

    def log(self, message: str) -> None:
        """The agent ignores the answer to its log calls (refused once the run has finished)."""
        with contextlib.suppress(PortError):
            self._state.add_log(self._run_id, {"message": message}, request=self._log_request)

    def _patch(self, body: dict[str, Any], *, logged: bool) -> None:
        try:
            self._state.update_run(self._run_id, body, request=self._patch_request)
        except PortError as refused:
            if logged:
                self.log(
                    f"The run state failed to be reported with status code: {refused.status} "
                    f"and response: {json.dumps(refused.body(), separators=(',', ':'))}"
                )


def _answer(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
