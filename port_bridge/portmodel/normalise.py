"""One form for a body as a file writes it and as Port returns it, so only real changes show.

Port adds to what it stores: bookkeeping (``id``, ``createdAt``/``createdBy``,
``updatedAt``/``updatedBy``, a scorecard's ``blueprint``) and defaults for what a body left out
(empty ``calculationProperties``/``mirrorProperties``/``aggregationProperties``/``relations``,
``requiredApproval: false``, the default scorecard levels...). Fields set to ``null`` are as
good as absent. Both sides are brought to the same form by dropping the bookkeeping, the
``null``s and every value equal to its default, so a file that spells a default out and one
that leaves it to Port compare equal, and neither differs from what Port returns.

Where the defaults come from: the ``default`` keywords of the request-body schemas in Port's
OpenAPI spec (``calculationProperties``, ``aggregationProperties`` and their ``type``,
relations' ``required`` and ``many``, ``approvalNotification.type``,
``specAuthentication.authorizationScope``); Port's docs for the rest (research/port.md §4: a
WEBHOOK invocation is a non-agent, asynchronous POST unless it says otherwise; the default
scorecard levels are Basic, Bronze, Silver and Gold; ``publish`` only matters for automations
and is true otherwise). A field Port adds that is not listed here shows as a change on every
run; spelling it out in the file makes it agree.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from port_bridge.portmodel.schema import Kind

Json = dict[str, Any]
Path = tuple[str, ...]  # "*" matches any key
BOOKKEEPING = frozenset({"id", "createdAt", "createdBy", "updatedAt", "updatedBy"})
SERVER_FIELDS: Mapping[Kind, frozenset[str]] = {
    "blueprint": BOOKKEEPING,
    "action": BOOKKEEPING,
    "scorecard": BOOKKEEPING | {"blueprint"},
}
DEFAULT_LEVELS = [
    {"title": "Basic", "color": "paleBlue"},
    {"title": "Bronze", "color": "bronze"},
    {"title": "Silver", "color": "silver"},
    {"title": "Gold", "color": "gold"},
]
_AUTHORIZATION_SCOPE = ("specAuthentication", "authorizationScope")
DEFAULTS: Mapping[Kind, Sequence[tuple[Path, Any]]] = {
    "blueprint": (
        (("calculationProperties",), {}),
        (("mirrorProperties",), {}),
        (("aggregationProperties",), {}),
        (("relations",), {}),
        (("schema", "required"), []),
        (("relations", "*", "required"), False),
        (("relations", "*", "many"), False),
        (("aggregationProperties", "*", "type"), "number"),
        (("schema", "properties", "*", *_AUTHORIZATION_SCOPE), ["openid"]),
        (("calculationProperties", "*", *_AUTHORIZATION_SCOPE), ["openid"]),
    ),
    "action": (
        (("requiredApproval",), False),
        (("publish",), True),
        (("invocationMethod", "agent"), False),
        (("invocationMethod", "synchronized"), False),
        (("invocationMethod", "method"), "POST"),
        (("trigger", "userInputs", "required"), []),
        (("trigger", "userInputs", "order"), []),
        (("trigger", "userInputs", "titles"), {}),
        (("approvalNotification", "type"), "email"),
    ),
    "scorecard": ((("levels",), DEFAULT_LEVELS),),
}


def normalised(kind: Kind, body: Mapping[str, Any]) -> Json:
    """``body`` without Port's bookkeeping, ``null``s and values equal to their defaults."""
    form: Json = _without_nulls({k: v for k, v in body.items() if k not in SERVER_FIELDS[kind]})
    for path, default in DEFAULTS[kind]:
        _drop_default(form, path, default)
    return form


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return copy.deepcopy(value)


def _drop_default(node: Any, path: Path, default: Any) -> None:
    if not isinstance(node, dict) or not path:
        return
    head, *rest = path
    keys = list(node) if head == "*" else [head] if head in node else []
    for key in keys:
        if rest:
            _drop_default(node[key], tuple(rest), default)
        elif same(node[key], default):
            del node[key]


def same(left: Any, right: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``true`` is not ``1``, and key order does not count."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and bool(left == right)
