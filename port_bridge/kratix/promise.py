"""A Promise's request API: where its resource requests live and what they accept.

Actions name a Promise; the bridge needs the request's group, version, kind and plural to talk
to the API server, and the request schema to validate inputs. Kratix applies the CRD in
``spec.api`` (research/kratix.md §1), so that CRD is the one source of truth, read the way
Kratix's own ``Promise.GetAPI`` reads it: the storage version, else the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from port_bridge.kube.validation import StructuralSchema

PROMISE_GROUP, PROMISE_VERSION, PROMISE_PLURAL = "platform.kratix.io", "v1alpha1", "promises"


class PromiseWithoutApi(ValueError):
    """The Promise declares no request API (``spec.api``), so nothing can be requested from it."""


@dataclass(frozen=True)
class PromiseApi:
    promise: str
    group: str
    version: str
    kind: str
    plural: str
    schema: Mapping[str, Any] | None
    configure_pipelines: tuple[str, ...]
    delete_pipelines: tuple[str, ...]
    _checkers: dict[bool, StructuralSchema] = field(default_factory=dict, compare=False, repr=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def spec_schema(self) -> Mapping[str, Any]:
        """The schema of the request's ``spec`` (empty when the CRD declares none)."""
        return ((self.schema or {}).get("properties") or {}).get("spec") or {}

    def spec_checker(self, *, partial: bool) -> StructuralSchema:
        """The request's spec schema, compiled once; ``partial`` (a DAY-2 change) drops ``required``."""
        if partial not in self._checkers:
            spec_schema = dict(self.spec_schema)
            if partial:
                spec_schema.pop("required", None)
            self._checkers[partial] = StructuralSchema(
                {"type": "object", "properties": {"spec": spec_schema}}
            )
        return self._checkers[partial]

    @classmethod
    def from_promise(cls, promise: Mapping[str, Any]) -> PromiseApi:
        name = promise.get("metadata", {}).get("name", "")
        spec = promise.get("spec") or {}
        crd_spec = (spec.get("api") or {}).get("spec") or {}
        names, versions = crd_spec.get("names") or {}, crd_spec.get("versions") or []
        if not (crd_spec.get("group") and names.get("kind") and names.get("plural") and versions):
            raise PromiseWithoutApi(f"Promise {name!r} declares no request API in spec.api")
        version = next((v for v in versions if v.get("storage")), versions[0])
        resource_workflows = (spec.get("workflows") or {}).get("resource") or {}
        return cls(
            promise=name,
            group=crd_spec["group"],
            version=version["name"],
            kind=names["kind"],
            plural=names["plural"],
            schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            configure_pipelines=_pipeline_names(resource_workflows.get("configure")),
            delete_pipelines=_pipeline_names(resource_workflows.get("delete")),
        )


def _pipeline_names(pipelines: Any) -> tuple[str, ...]:
    return tuple(
        (pipeline.get("metadata") or {}).get("name", f"pipeline-{index}")
        for index, pipeline in enumerate(pipelines or ())
    )
