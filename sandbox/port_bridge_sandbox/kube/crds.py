"""CustomResourceDefinitions: what a CRD declares, and the CRD Kratix derives from a Promise.

The emulator serves a custom resource only once a CRD declares it, as a real API server does
(stock kmock serves any path). When a Promise is created, Kratix applies the request CRD from
the Promise's ``spec.api`` after adjusting it (research/kratix.md §1); :func:`crd_from_promise`
makes the same adjustments so the emulator answers requests exactly like a Kratix cluster.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from port_bridge_sandbox.kube.tables import PrinterColumn

PROMISE_NAME_LABEL = "kratix.io/promise-name"
CRD_RESOURCE = "apiextensions.k8s.io/v1/customresourcedefinitions"
PROMISE_RESOURCE = "platform.kratix.io/v1alpha1/promises"

_KRATIX_CONDITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "string"},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
    },
    "x-kubernetes-preserve-unknown-fields": True,
}
_KRATIX_STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-preserve-unknown-fields": True,
    "properties": {
        "message": {"type": "string"},
        "observedGeneration": {"type": "integer", "format": "int64"},
        "workflows": {"type": "integer", "format": "int64"},
        "workflowsSucceeded": {"type": "integer", "format": "int64"},
        "workflowsFailed": {"type": "integer", "format": "int64"},
        "conditions": {"type": "array", "items": _KRATIX_CONDITION_SCHEMA},
        "kratix": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


@dataclass(frozen=True)
class ServedVersion:
    """One served version of a CRD: where it lives in the API and how its objects are checked."""

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    status_subresource: bool
    schema: Mapping[str, Any] | None
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    crd_name: str = ""
    printer_columns: tuple[PrinterColumn, ...] = ()

    @property
    def resource_path(self) -> str:
        return f"{self.group}/{self.version}/{self.plural}" if self.group else f"{self.version}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class CrdInfo:
    name: str
    versions: tuple[ServedVersion, ...] = field(default_factory=tuple)


class InvalidCrd(ValueError):
    """A CRD manifest a real API server would reject."""


def parse_crd(manifest: Mapping[str, Any]) -> CrdInfo:
    """Read the served versions out of an ``apiextensions.k8s.io/v1`` CRD manifest."""
    spec = manifest.get("spec") or {}
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (group and plural and kind):
        raise InvalidCrd("spec.group, spec.names.plural and spec.names.kind are required")
    expected_name = f"{plural}.{group}"
    name = (manifest.get("metadata") or {}).get("name")
    if name != expected_name:
        raise InvalidCrd(f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
    scope = spec.get("scope", "Namespaced")
    versions = []
    for entry in spec.get("versions") or []:
        if not entry.get("served", True):
            continue
        versions.append(
            ServedVersion(
                group=group,
                version=entry["name"],
                plural=plural,
                kind=kind,
                singular=names.get("singular") or kind.lower(),
                namespaced=scope == "Namespaced",
                status_subresource="status" in (entry.get("subresources") or {}),
                schema=(entry.get("schema") or {}).get("openAPIV3Schema"),
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                crd_name=name,
                # A column without jsonPath (v1beta1's ``JSONPath``, which some Promises still
                # carry) is left out rather than refused, so such Promises can still be tried here.
                printer_columns=tuple(
                    PrinterColumn.from_crd(column)
                    for column in entry.get("additionalPrinterColumns") or ()
                    if "jsonPath" in column
                ),
            )
        )
    if not versions:
        raise InvalidCrd("spec.versions: Required value: must have at least one served version")
    return CrdInfo(name=name, versions=tuple(versions))


def crd_from_promise(promise: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request CRD Kratix applies for a Promise, or ``None`` if the Promise has no API."""
    api = (promise.get("spec") or {}).get("api")
    if not api:
        return None
    crd = copy.deepcopy(dict(api))
    promise_name = promise["metadata"]["name"]
    metadata = crd.setdefault("metadata", {})
    metadata.setdefault("labels", {})[PROMISE_NAME_LABEL] = promise_name
    for version in crd.get("spec", {}).get("versions") or []:
        version.setdefault("subresources", {})["status"] = {}
        schema = version.setdefault("schema", {}).setdefault("openAPIV3Schema", {"type": "object"})
        properties = schema.setdefault("properties", {})
        properties["status"] = copy.deepcopy(_KRATIX_STATUS_SCHEMA)
        properties["metadata"] = {
            "type": "object",
            "properties": {"name": {"type": "string", "maxLength": 63}},
        }
    return crd


def load_manifests(path: Path) -> Iterator[dict[str, Any]]:
    """Every non-empty YAML document in a file."""
    with path.open(encoding="utf-8") as stream:
        for document in yaml.safe_load_all(stream):
            if document:
                yield document
