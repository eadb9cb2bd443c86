"""The oracle of apply's checks: Port's spec, the bodies to mutate, and where the product differs.

Port's OpenAPI spec is read from ../shared here, in the tests only, with the emulator's own
loader and validator (``port_bridge_sandbox.port.spec``), which shares no code with the
product's checks (``port_bridge/portmodel/bodies``). The bodies are the project's own files and
``examples`` (the rest of Port's fields). Both must give the same verdict on every body and
mutation, except where :func:`stricter_on_purpose` says the product refuses what the spec, read
as JSON Schema 2020-12 by Python, lets through:

* an automation trigger: port-bridge serves self-service actions only;
* a ``condition`` without ``blueprintIdentifier``: the spec says so with ``dependencies``, a
  keyword JSON Schema 2020-12 dropped, which the emulator's validator therefore ignores (a
  condition selects entities of the action's blueprint);
* a string with a final newline where Port has a pattern: Port's anchored patterns are
  JavaScript's, whose ``$`` does not match before a final newline, as Python's does.

The product's body check is looser in one place, where the product is not: a rule's level is
checked against the scorecard's levels with the other references (portmodel/checks.py), so a
scorecard with ``levels: []`` and a rule on a level Port does not default to passes the body's
check and is refused after it (test_schema.py). No single mutation reaches that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from port_bridge.portmodel.schema import Kind
from port_bridge_sandbox.port import PortSpec
from port_bridge_sandbox.shared import SharedDataMissing, locate_shared_dir, require_file
from tests.conftest import REPO
from tests.portmodel import examples

ROUTES: dict[Kind, dict[str, str]] = {
    "blueprint": {"POST": "/v1/blueprints", "PUT": "/v1/blueprints/{identifier}"},
    "action": {"POST": "/v1/actions", "PUT": "/v1/actions/{action_identifier}"},
    "scorecard": {
        "POST": "/v1/blueprints/{blueprint_identifier}/scorecards",
        "PUT": "/v1/blueprints/{blueprint_identifier}/scorecards/{scorecard_identifier}",
    },
}
Case = tuple[Kind, str, dict[str, Any]]


def load_port_spec() -> PortSpec:
    """Port's spec, or the test is skipped, saying why, when it is not beside the clone."""
    try:
        path = require_file(locate_shared_dir() / "port" / "apispec.yaml", what="Port's OpenAPI spec")
    except SharedDataMissing as missing:
        pytest.skip(f"Port's spec is the oracle of apply's checks: {missing}")
    return PortSpec.load(path)


def spec_problems(spec: PortSpec, kind: Kind, body: Any, *, method: str = "POST") -> list[str]:
    return spec.validate_body(method, ROUTES[kind][method], body)


def project_bodies() -> list[Case]:
    bodies: list[Case] = []
    bodies += [
        ("blueprint", p.name, json.loads(p.read_text())) for p in sorted((REPO / "blueprints").glob("*.json"))
    ]
    bodies += [
        ("action", p.name, yaml.safe_load(p.read_text())["action"])
        for p in sorted((REPO / "actions").glob("*.yaml"))
    ]
    bodies += [
        ("scorecard", p.name, json.loads(p.read_text()))
        for p in sorted((REPO / "scorecards").glob("*/*.json"))
    ]
    return bodies


PROJECT = project_bodies()
EXAMPLES: list[Case] = [
    *(("blueprint", body["identifier"], body) for body in examples.BLUEPRINTS),
    *(("action", body["identifier"], body) for body in examples.ACTIONS),
    *(("scorecard", body["identifier"], body) for body in examples.SCORECARDS),
]
CORPUS = PROJECT + EXAMPLES


def stricter_on_purpose(kind: Kind, body: Any) -> bool:
    """Whether ``body`` is one the product refuses on purpose and the spec lets through (see above)."""
    if kind == "action" and isinstance(body, dict) and isinstance(trigger := body.get("trigger"), dict):
        if trigger.get("type") == "automation":
            return True
        if "condition" in trigger and "blueprintIdentifier" not in trigger:
            return True
    return any(isinstance(value, str) and value.endswith("\n") for value in strings(body))


def strings(value: Any) -> Iterator[Any]:
    """Every key and value in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    else:
        yield value
