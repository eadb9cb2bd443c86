"""What Port sends to an action's webhook: the trigger context, the legacy envelope, the body's bytes
as Port's JavaScript serialises them, and the ``x-port-signature`` over them (research/port.md §1).

Kept apart from :mod:`.invoker` (which decides when and where to send) so the GitHub dispatcher and
tests can build the same messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from port_bridge_sandbox.port.catalog import action_blueprint
from port_bridge_sandbox.port.clock import now_iso
from port_bridge_sandbox.port.state import PortState, user_id_for


def sign(content: bytes, *, secret: str, timestamp: str) -> str:
    """Port's ``x-port-signature`` for ``content`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def port_json(value: Any) -> bytes:
    """``value`` serialized like JavaScript's ``JSON.stringify``: compact and not ASCII-escaped."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def trigger_context(
    *,
    run_id: str,
    action: Mapping[str, Any],
    inputs: Mapping[str, Any],
    entity: Mapping[str, Any],
    user_email: str,
    operation: str,
    org_id: str,
    origin: str = "UI",
) -> dict[str, Any]:
    """What Port's templates see as ``.`` for a self-service run."""
    user_id = user_id_for(user_email)
    local_part = user_email.partition("@")[0]
    at = now_iso()
    user = {
        "email": user_email,
        "firstName": local_part,
        "lastName": "",
        "phoneNumber": "",
        "picture": "",
        "providers": ["port"],
        "status": "ACTIVE",
        "id": user_id,
        "createdAt": at,
        "updatedAt": at,
    }
    return {
        "inputs": dict(inputs),
        "trigger": {
            "by": {"orgId": org_id, "userId": user_id, "user": user},
            "origin": origin,
            "at": at,
            "operation": operation,
        },
        "event": None,
        "entity": dict(entity),
        "action": {
            "identifier": action["identifier"],
            "blueprint": action_blueprint(action),
            "encryptedProperties": [],
        },
        "run": {"id": run_id},
    }


def legacy_envelope(context: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    """The pre-v2 fixed body built from the same trigger context."""
    trigger, entity = context["trigger"], context["entity"]
    return {
        "action": action["identifier"],
        "resourceType": "run",
        "status": "TRIGGERED",
        "trigger": {"by": trigger["by"], "origin": trigger["origin"], "at": trigger["at"]},
        "context": {
            "entity": entity.get("identifier"),
            "blueprint": context["action"]["blueprint"],
            "runId": context["run"]["id"],
        },
        "payload": {
            "entity": entity or None,
            "action": {
                "identifier": action["identifier"],
                "title": action.get("title"),
                "blueprint": context["action"]["blueprint"],
                "invocationMethod": action["invocationMethod"],
                "trigger": trigger["operation"],
            },
            "properties": context["inputs"],
            "censoredProperties": [],
        },
    }


def selected_entity(
    state: PortState, action: Mapping[str, Any], entity: str | Mapping[str, Any] | None, operation: str
) -> dict[str, Any]:
    """The entity a DAY-2 or DELETE run is on, as Port puts it in the trigger context: ``{}`` for a
    CREATE; raises :class:`~.errors.PortError` when the entity is not in the catalog."""
    if operation == "CREATE" or entity is None:
        return {}
    if isinstance(entity, Mapping):
        return dict(entity)
    blueprint = action_blueprint(action)
    if blueprint is None:
        raise ValueError(f"action {action['identifier']!r} names no blueprint to find entity {entity!r} in")
    return state.entity(blueprint, entity)
