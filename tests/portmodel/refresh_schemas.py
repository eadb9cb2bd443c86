"""The request-body schemas ``port-bridge apply`` ships, cut out of Port's OpenAPI spec.

The product must not need ``../shared`` at run time, so ``port_bridge/portmodel/schemas/`` holds
the body schema of each route ``apply`` creates objects with, with the components it refers to.
``tests/portmodel/test_schema.py`` fails when they drift from the spec; after updating the spec,
write them again with ``python -m tests.portmodel.refresh_schemas``.

The POST bodies are shipped: they are the strictest (``identifier`` is required for a blueprint,
a scorecard's rules are checked against its levels), and the tests check that the PUT routes
accept whatever they accept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from port_bridge.portmodel.schema import ROUTES, SCHEMA_DIR, Kind
from port_bridge.sandbox.port.spec import PortSpec, default_spec_path

_REFERENCE = re.compile(r'"#/components/schemas/([^"]+)"')


def extract(document: Mapping[str, Any], method: str, template: str) -> dict[str, Any]:
    """The request-body schema of one operation, carrying every component it refers to."""
    schema = document["paths"][template][method.lower()]["requestBody"]["content"]["application/json"]
    body: dict[str, Any] = dict(schema["schema"])
    components = document.get("components", {}).get("schemas", {})
    needed: set[str] = set()
    pending = set(_REFERENCE.findall(json.dumps(body)))
    while pending:
        name = pending.pop()
        needed.add(name)
        pending |= set(_REFERENCE.findall(json.dumps(components[name]))) - needed
    comment = f"The body of {method.upper()} {template}, from Port's OpenAPI spec (apispec.yaml)."
    shipped = {"$comment": comment, **body}
    if needed:
        shipped["components"] = {"schemas": {name: components[name] for name in sorted(needed)}}
    return shipped


def expected(kind: Kind, spec: PortSpec) -> dict[str, Any]:
    method, template = ROUTES[kind]
    return extract(spec.document, method, template)


def write(spec: PortSpec, directory: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for kind in ROUTES:
        path = directory / f"{kind}.json"
        path.write_text(json.dumps(expected(kind, spec), indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(PortSpec.load(default_spec_path())):
        print(f"wrote {path}")
