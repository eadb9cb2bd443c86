"""What Port's action form submits: the inputs the user typed, and a default for each one they left.

An input's ``default`` is a value, or ``{"jqQuery": ...}`` that Port evaluates when the form
opens, over ``{form, entity, user}`` (docs.port.io "Advanced input configurations": dynamic
defaults from the logged-in user, or from the entity a DAY-2 or DELETE action runs on). Inputs
are filled in the form's order (``userInputs.order``, else as declared), so a default can read an
input above it through ``.form``. A default that yields ``null`` leaves the input empty, and an
empty input is not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from port_bridge_sandbox.port.templating import evaluate


def fill_form(
    user_inputs: Mapping[str, Any],
    typed: Mapping[str, Any],
    *,
    entity: Mapping[str, Any],
    user: Mapping[str, Any],
) -> dict[str, Any]:
    """The inputs a run gets when the user typed ``typed`` into the action's form."""
    properties: Mapping[str, Any] = user_inputs.get("properties") or {}
    order = [name for name in user_inputs.get("order") or () if name in properties]
    order += [name for name in properties if name not in order]
    form: dict[str, Any] = {}
    for name in order:
        if name in typed:
            form[name] = typed[name]
            continue
        default = (properties[name] or {}).get("default")
        if isinstance(default, Mapping) and isinstance(default.get("jqQuery"), str):
            default = evaluate(
                default["jqQuery"], {"form": dict(form), "entity": dict(entity), "user": dict(user)}
            )
        if default is not None:
            form[name] = default
    return {**form, **{name: value for name, value in typed.items() if name not in form}}
