"""What mapping expressions see: one shape, whether intake renders a request or the controller an entity.

The README documents it ("What the expressions see"); intake builds it from the webhook body and
the controller from the stored ActionRun, and both go through :func:`run_document` so a mapping
never sees two different shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def run_document(
    *,
    run_id: str,
    action: str,
    blueprint: str | None,
    operation: str | None,
    inputs: Mapping[str, Any],
    entity: Mapping[str, Any] | None,
    trigger: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "run": {"id": run_id},
        "action": {"identifier": action, "blueprint": blueprint},
        "operation": operation,
        "inputs": dict(inputs),
        "entity": dict(entity) if entity is not None else None,
        "trigger": dict(trigger),
    }
