"""What differs between two bodies, as key paths a person can read.

``schema.properties.tier.enum: ["a", "b"] -> ["a", "b", "c"]`` says more than a unified diff of
two JSON documents whose keys Port reorders. Lists of objects that carry an ``identifier``
(scorecard rules) are compared by identifier, so inserting a rule shows one added rule rather
than every rule after it changed; lists of objects of the same length (scorecard levels) are
compared item by item; other lists (enums, ``required``) are shown whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from port_bridge.portmodel.normalise import same

MAX_SHOWN = 160


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class Difference:
    """``before`` or ``after`` is :data:`MISSING` when the field is added or removed."""

    path: str
    before: Any
    after: Any

    def describe(self) -> str:
        if self.before is MISSING:
            return f"+ {self.path}: {shown(self.after)}"
        if self.after is MISSING:
            return f"- {self.path}: {shown(self.before)}"
        return f"~ {self.path}: {shown(self.before)} -> {shown(self.after)}"


def differences(before: Any, after: Any, path: str = "") -> list[Difference]:
    """Every leaf that differs between ``before`` (what Port has) and ``after`` (the file)."""
    if same(before, after):
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found: list[Difference] = []
        for key in [*after, *(k for k in before if k not in after)]:
            found += differences(before.get(key, MISSING), after.get(key, MISSING), _child(path, key))
        return found
    if isinstance(before, list) and isinstance(after, list):
        by_identifier = _by_identifier(before), _by_identifier(after)
        if by_identifier[0] is not None and by_identifier[1] is not None:
            return differences(*by_identifier, path=path)
        if len(before) == len(after) and all(isinstance(i, Mapping) for i in [*before, *after]):
            return [
                d
                for i, pair in enumerate(zip(before, after, strict=True))
                for d in differences(*pair, f"{path}[{i}]")
            ]
    return [Difference(path or "(the whole body)", before, after)]


def shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _by_identifier(items: Sequence[Any]) -> dict[str, Any] | None:
    """``{identifier: item}`` with keys as ``[identifier]`` paths, if every item has a distinct one."""
    keyed = {}
    for item in items:
        identifier = item.get("identifier") if isinstance(item, Mapping) else None
        if not isinstance(identifier, str) or f"[{identifier}]" in keyed:
            return None
        keyed[f"[{identifier}]"] = item
    return keyed or None


def _child(path: str, key: str) -> str:
    if key.startswith("["):
        return path + key
    return f"{path}.{key}" if path else key
