"""Mutations of the bodies get the same verdict from apply's checks and from Port's spec.

The bodies are the project's files and tests/portmodel/examples.py; a mutation removes a field,
replaces a value (by a small JSON value, or by one found elsewhere in the bodies, which makes
bodies that are nearly right) or adds a field. The product never accepts what the spec refuses;
it refuses what the spec accepts only where tests/portmodel/oracle.py says it does on purpose.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from port_bridge.portmodel.schema import Kind, body_problems
from port_bridge_sandbox.port import PortSpec
from tests.portmodel.oracle import CORPUS, spec_problems, stricter_on_purpose


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value: dict keys and list indexes, outermost first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def pieces(value: Any) -> Iterator[Any]:
    """Every value inside a JSON value, itself included."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from pieces(item)
    elif isinstance(value, list):
        for item in value:
            yield from pieces(item)


# Values and keys found in the bodies: moved elsewhere, they make bodies that are nearly right.
FOUND_VALUES = list(
    {json.dumps(p, sort_keys=True): p for _, _, body in CORPUS for p in pieces(body)}.values()
)
FOUND_KEYS = sorted({path[-1] for _, _, body in CORPUS for path in paths(body) if isinstance(path[-1], str)})
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(["", "x", "..", "é", "CREATE", "string", "Gold", "a b", "x" * 101]),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["type", "title", "x"]), inner, max_size=2)
    ),
    max_leaves=4,
)
VALUES = JSON_VALUES | st.sampled_from(FOUND_VALUES).map(copy.deepcopy)
KEYS = st.sampled_from(["extra", "ünïcode", "a b", "required", *FOUND_KEYS])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Kind, Any]:
    """A body with one place removed, replaced by another JSON value, or given a new key."""
    kind, _, body = draw(st.sampled_from(CORPUS))
    body = copy.deepcopy(body)
    where = draw(st.sampled_from(list(paths(body))))
    parent = body
    for part in where[:-1]:
        parent = parent[part]
    how = draw(st.sampled_from(["remove", "replace", "add"]))
    if how == "remove":
        del parent[where[-1]]
    elif how == "replace":
        parent[where[-1]] = draw(VALUES)
    elif isinstance(parent, dict):
        parent[draw(KEYS)] = draw(VALUES)
    return kind, body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_what_apply_accepts_ports_spec_accepts_and_the_other_way_round(
    port_spec: PortSpec, case: tuple[Kind, Any]
) -> None:
    kind, body = case
    problems = body_problems(kind, body)
    refused = spec_problems(port_spec, kind, body)
    if not problems:
        assert refused == []
        assert spec_problems(port_spec, kind, body, method="PUT") == []
    elif not refused:
        assert stricter_on_purpose(kind, body), problems
