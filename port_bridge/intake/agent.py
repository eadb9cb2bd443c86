"""Runs forwarded by Port's execution agent (port-labs/port-agent), and how they are answered.

The agent forwards a run to intake and then reports to Port from intake's HTTP answer: any
answer that is not 2xx makes it close the run as FAILURE with its own summary ("Failed to invoke
the webhook with status code: N") and once more ("Agent failed to process the run"). port-bridge
closes every run it records itself, with a message saying why; answering the agent 4xx would
close the same run three times, and whichever report comes first is what the developer sees.

So when port-bridge has taken the run in hand (recorded it, or closed it in Port itself), an
agent-forwarded rejection is answered ``200 {"accepted": false, "error", "message", "runId"}``:
the agent leaves the run alone and port-bridge closes it once, with its own message. Answers
that leave nobody else to close the run (a bad signature, no run id, a run that could not be
recorded nor closed) keep their status, so the agent's own FAILURE report closes it.

A run is taken as forwarded by the agent when any of these holds:

* the action file says so: ``invocationMethod.agent: true`` (the platform team's declaration);
* the body carries what the agent adds to every message it forwards: a ``headers`` object,
  ``payload.action.invocationMethod`` and ``context.runId`` (the agent removes ``agent`` from
  that invocation method before forwarding, so the flag itself never arrives);
* the signature verified only on the compact re-serialisation of the body: the agent signs
  compact JSON but sends it with spaces, and Port itself sends exactly what it signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from port_bridge.mapping.actions import ActionConfig


def forwarded_by_agent(document: Any, *, reserialized: bool, config: ActionConfig | None) -> bool:
    """Whether the run came through Port's execution agent (see the module's docstring)."""
    if config is not None and config.action.invocation_method.get("agent") is True:
        return True
    return reserialized or _has_agent_additions(document)


def _has_agent_additions(document: Any) -> bool:
    if not isinstance(document, Mapping):
        return False
    payload, context = document.get("payload"), document.get("context")
    action = payload.get("action") if isinstance(payload, Mapping) else None
    return (
        isinstance(document.get("headers"), Mapping)
        and isinstance(action, Mapping)
        and isinstance(action.get("invocationMethod"), Mapping)
        and isinstance(context, Mapping)
        and isinstance(context.get("runId"), str)
    )


def rejection_for_agent(body: Mapping[str, Any]) -> dict[str, Any]:
    """The 200 body that tells the agent (and a person reading its logs) the run was not accepted."""
    return {"accepted": False, **body}
