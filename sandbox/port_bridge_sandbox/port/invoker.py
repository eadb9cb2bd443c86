"""The emulator acting as Port when a user presses an action's button: a signed webhook request.

For an action whose ``invocationMethod.type`` is ``WEBHOOK`` this creates the run, builds Port's
trigger context (research/port.md §1.2), renders the action's ``url``, ``headers`` and ``body``
templates against it, serializes the body as Port's JavaScript does (compact, non-ASCII left as
is, UTF-8), signs ``"<timestamp>.<body>"`` with HMAC-SHA256 under the client secret and sends it.

Variants for the tests of a receiver: a fixed timestamp, a wrong secret, the legacy envelope
body (§1.4), and delivery through Port's execution agent (``sender="agent"``, §5.2, see
:mod:`~port_bridge_sandbox.port.agent`): the agent's message shape and signing, and its own
reports to the run from the answer it gets (the run is then marked as routed through the agent,
as an action with ``agent: true`` is). Sent by Port itself, a ``synchronized`` action's run is
closed from the HTTP answer (2xx is SUCCESS), as Port does. Without a ``body`` template the
whole trigger context is sent (Port's docs do not say what it sends then).
With ``form=True`` the inputs are what a user typed into the action's form, and the ones they
left take the form's defaults, literal or jqQuery (:mod:`~port_bridge_sandbox.port.forms`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

from port_bridge_sandbox.port.agent import AgentReporter, agent_message, agent_serialised
from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.forms import fill_form
from port_bridge_sandbox.port.runs import Run
from port_bridge_sandbox.port.state import PortState
from port_bridge_sandbox.port.templating import TemplateError, render, render_string
from port_bridge_sandbox.port.webhook import (
    legacy_envelope,
    port_json,
    selected_entity,
    sign,
    trigger_context,
)

log = logging.getLogger(__name__)

BodyFormat = Literal["v2", "legacy"]
Sender = Literal["port", "agent"]


@dataclass(frozen=True)
class Invocation:
    """One delivered webhook: the run it belongs to, exactly what was sent, and the answer."""

    run_id: str
    url: str
    method: str
    headers: Mapping[str, str]
    body: bytes
    context: Mapping[str, Any]
    response: requests.Response


class ActionInvoker:
    """Triggers actions stored in a :class:`PortState` by calling their webhooks."""

    def __init__(
        self, *, state: PortState, client_secret: str, org_id: str, secrets: Mapping[str, str]
    ) -> None:
        self._state = state
        self._client_secret = client_secret
        self._org_id = org_id
        self._secrets = dict(secrets)

    def invoke(
        self,
        action_identifier: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        entity: str | Mapping[str, Any] | None = None,
        user_email: str = "developer@example.com",
        operation: str | None = None,
        url: str | None = None,
        timestamp: int | str | None = None,
        secret: str | None = None,
        body_format: BodyFormat = "v2",
        sender: Sender = "port",
        timeout: float = 10.0,
        form: bool = False,
    ) -> Invocation:
        """Run the action as a user would; with ``form``, ``inputs`` are what they typed into its form,
        and the inputs they left take the form's defaults (:func:`~.forms.fill_form`)."""
        action = self._webhook_action(action_identifier)
        operation = operation or action["trigger"].get("operation", "CREATE")
        entity_json = self._entity(action, entity, operation)
        if form:
            inputs = fill_form(
                action["trigger"].get("userInputs") or {},
                inputs or {},
                entity=entity_json,
                user={"email": user_email},
            )
        run = self._state.create_run(
            action_identifier,
            properties=inputs or {},
            entity=entity_json.get("identifier"),
            user_email=user_email,
            operation=operation,
        )
        return self._deliver(
            run.id,
            action,
            inputs=inputs or {},
            entity=entity_json,
            user_email=user_email,
            operation=operation,
            url=url,
            stamp=str(timestamp if timestamp is not None else int(time.time())),
            key=secret if secret is not None else self._client_secret,
            body_format=body_format,
            sender=sender,
            timeout=timeout,
        )

    def deliver_api_run(self, run: Run) -> None:
        """What Port does after ``POST /v1/actions/{id}/runs``: the action's webhook for that run,
        sent in the background (the API has answered 202 with the run already). A webhook that
        cannot be delivered ends the run FAILURE, as Port reports an invocation it could not make."""
        action = self._state.catalog.find_action(run.action)
        if action is None or action["invocationMethod"].get("type") != "WEBHOOK":
            return

        def deliver() -> None:
            try:
                entity = self._entity(action, run.entity, run.operation)
                self._deliver(
                    run.id,
                    action,
                    inputs=run.properties,
                    entity=entity,
                    user_email=run.created_by,
                    operation=run.operation,
                    url=None,
                    stamp=str(int(time.time())),
                    key=self._client_secret,
                    body_format="v2",
                    sender="port",
                    timeout=10.0,
                )
            except (requests.RequestException, TemplateError, PortError, ValueError, LookupError) as error:
                log.warning("the webhook of run %s could not be delivered: %s", run.id, error)
                with contextlib.suppress(PortError):  # the run was closed meanwhile
                    self._state.update_run(
                        run.id,
                        {
                            "status": "FAILURE",
                            "summary": f"Port could not invoke the action's webhook: {error}",
                        },
                        request="webhook delivery",
                    )

        threading.Thread(target=deliver, name=f"deliver-{run.id}", daemon=True).start()

    def set_secret(self, name: str, value: str) -> None:
        """An organisation secret the action templates read as ``.secrets[name]``."""
        self._secrets[name] = value

    def _deliver(
        self,
        run_id: str,
        action: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any],
        entity: Mapping[str, Any],
        user_email: str,
        operation: str,
        url: str | None,
        stamp: str,
        key: str,
        body_format: BodyFormat,
        sender: Sender,
        timeout: float,
    ) -> Invocation:
        context = trigger_context(
            run_id=run_id,
            action=action,
            inputs=inputs,
            entity=entity,
            user_email=user_email,
            operation=operation,
            org_id=self._org_id,
        )
        payload = self._resolve(action, context, body_format=body_format, url=url)
        if sender == "agent":
            payload["agent"] = True
            self._state.set_run_invocation(run_id, payload=payload)
            return self._through_agent(run_id, payload, context, stamp=stamp, key=key, timeout=timeout)
        self._state.set_run_invocation(run_id, payload=payload)
        sent = port_json(payload["body"])
        headers = {
            **payload["headers"],
            "content-type": "application/json",
            "x-port-timestamp": stamp,
            "x-port-signature": sign(sent, secret=key, timestamp=stamp),
        }
        response = requests.request(
            payload["method"], payload["url"], data=sent, headers=headers, timeout=timeout
        )
        if payload["synchronized"]:
            self._state.finish_synchronized_run(
                run_id, ok=response.ok, response=_answer(response), status_code=response.status_code
            )
        return Invocation(run_id, payload["url"], payload["method"], headers, sent, context, response)

    def _through_agent(
        self,
        run_id: str,
        payload: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        stamp: str,
        key: str,
        timeout: float,
    ) -> Invocation:
        """The run as the execution agent forwards it, and the agent's reports from the answer."""
        reporter = AgentReporter(self._state, run_id)
        reporter.before_sending()
        signed, sent = agent_serialised(agent_message(payload["body"], run_id=run_id, invocation=payload))
        headers = {
            "Content-Type": "application/json",
            "X-Port-Timestamp": stamp,
            "X-Port-Signature": sign(signed, secret=key, timestamp=stamp),
        }
        try:
            response = requests.request(
                payload["method"], payload["url"], data=sent, headers=headers, timeout=timeout
            )
        except requests.RequestException:
            reporter.failed()
            raise
        reporter.answered(response, synchronized=bool(payload["synchronized"]))
        return Invocation(run_id, payload["url"], payload["method"], headers, sent, context, response)

    def _webhook_action(self, identifier: str) -> dict[str, Any]:
        action = self._state.catalog.find_action(identifier)
        if action is None:
            raise LookupError(f"no action {identifier!r}; create it first (POST /v1/actions)")
        if action["invocationMethod"].get("type") != "WEBHOOK":
            raise ValueError(f"action {identifier!r} is not a WEBHOOK action")
        return action

    def _resolve(
        self,
        action: Mapping[str, Any],
        context: Mapping[str, Any],
        *,
        body_format: BodyFormat,
        url: str | None,
    ) -> dict[str, Any]:
        """The invocation with every template rendered, as Port stores it on the run (``payload``)."""
        method = action["invocationMethod"]
        scope = {**context, "secrets": self._secrets}
        body: Any = context
        if body_format == "legacy":
            body = legacy_envelope(context, action)
        elif "body" in method:
            body = render(method["body"], scope)
        return {
            "type": "WEBHOOK",
            "url": url or render_string(method["url"], scope),
            "agent": _flag(method.get("agent", False), scope),
            "synchronized": _flag(method.get("synchronized", False), scope),
            "method": str(method.get("method", "POST")).upper(),
            "headers": {str(k): str(v) for k, v in render(method.get("headers") or {}, scope).items()},
            "body": body,
        }

    def _entity(
        self, action: Mapping[str, Any], entity: str | Mapping[str, Any] | None, operation: str
    ) -> dict[str, Any]:
        try:
            return selected_entity(self._state, action, entity, operation)
        except PortError as error:
            raise LookupError(error.message) from None


def _flag(value: Any, scope: Mapping[str, Any]) -> bool:
    return bool(render(value, scope)) if isinstance(value, str) else bool(value)


def _answer(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
