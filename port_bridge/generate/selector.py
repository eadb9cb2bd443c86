"""Selector-based ``oneOf``: the kind a Port form can show as a conditional form.

A CRD cannot say "fill these fields when ``engine`` is ``mysql``" except with a ``oneOf`` whose
branches each pin one property to its own single value (``properties: {engine: {enum:
[mysql]}}``; OpenAPI's ``const`` is read the same way) and name the fields they need. That
property is the *selector*. Syntasso's SKE Port Controller turns it into a conditional form
(research/kratix.md §7), as :mod:`~port_bridge.generate.fields` does; any other ``oneOf`` is left
to the API server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def find_selector(schema: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The property every ``oneOf`` branch pins to its own single value, and those values."""
    branches = schema.get("oneOf")
    properties = schema.get("properties") or {}
    if (
        not isinstance(branches, list)
        or len(branches) < 2
        or not all(isinstance(b, Mapping) for b in branches)
    ):
        return None
    common: set[str] | None = None
    for branch in branches:
        pinned = {
            name
            for name, rule in (branch.get("properties") or {}).items()
            if name in properties and single_value(rule) is not None
        }
        common = pinned if common is None else common & pinned
    for name in sorted(common or ()):
        values = tuple(single_value(branch["properties"][name]) for branch in branches)
        if len({json.dumps(value, sort_keys=True) for value in values}) == len(values):
            return name, values
    return None


def single_value(rule: Any) -> Any:
    if not isinstance(rule, Mapping):
        return None
    if "const" in rule:
        return rule["const"]
    enum = rule.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else None
