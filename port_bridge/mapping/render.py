"""Evaluating an action's mapping on a run: the Kratix request it asks for, the entity it yields.

Inputs reach the request only through the expressions an action file names: the request is
built from the mapping's own ``namespace``, ``name``, ``spec`` and ``labels``, never by copying
the inputs wholesale, so a developer cannot set anything the platform team did not place.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from port_bridge.mapping.actions import ActionConfig, EntityMapping, KratixMapping, RequestMapping
from port_bridge.mapping.jq import Jq, JqError


class MappingFailed(ValueError):
    """An expression failed, or produced a value of the wrong type, on this run's data."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class RenderedRequest:
    namespace: str
    name: str
    spec: dict[str, Any] | None
    labels: dict[str, str] = field(default_factory=dict)


def _evaluate(expression: Jq, document: Any, field: str) -> Any:
    try:
        return expression.first(document)
    except JqError as error:
        raise MappingFailed(field, f"jq failed on this run: {error}") from None


def _text(expression: Jq, document: Any, field: str) -> str:
    value = _evaluate(expression, document, field)
    if not isinstance(value, str) or not value:
        raise MappingFailed(
            field, f"must produce a non-empty string, produced {value!r} ({expression.expression})"
        )
    return value


def _object(expression: Jq | None, document: Any, field: str) -> dict[str, Any] | None:
    if expression is None:
        return None
    value = _evaluate(expression, document, field)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MappingFailed(
            field, f"must produce an object, produced {type(value).__name__} ({expression.expression})"
        )
    return dict(value)


@functools.lru_cache(maxsize=1024)
def _request_program(namespace: Jq, name: Jq, spec: Jq | None, labels: Jq | None) -> Jq:
    """The request's four expressions as one program: the run is handed to jq once, not four times."""
    parts = {"namespace": namespace, "name": name, "spec": spec, "labels": labels}
    fields = ", ".join(f"{key}: ({expr.expression}\n)" for key, expr in parts.items() if expr is not None)
    return Jq("{" + fields + "}")


def render_requests(
    config: ActionConfig, document: Mapping[str, Any]
) -> list[tuple[RequestMapping, RenderedRequest]]:
    """Every request the run asks for, in the action's order; those whose ``when`` is false are left out."""
    several = len(config.request_mappings) > 1
    rendered = []
    for mapping in config.request_mappings:
        prefix = f"requests.{mapping.id}." if several else ""
        if mapping.when is not None and _evaluate(mapping.when, document, f"{prefix}when") in (None, False):
            continue
        rendered.append(
            (mapping, render_request(mapping, document, operation=config.operation, prefix=prefix))
        )
    return rendered


def render_request(
    mapping: RequestMapping | ActionConfig,
    document: Mapping[str, Any],
    *,
    operation: str | None = None,
    prefix: str = "",
) -> RenderedRequest:
    """The Kratix request one mapping asks for (an action's main one, given an action).

    The mapping's expressions run once, together; should that fail or produce nothing (an
    expression yielding ``empty``), each is evaluated on its own, so the error names the field.
    """
    if isinstance(mapping, ActionConfig):
        operation, mapping = mapping.operation, mapping.request_mappings[0]
    kratix = mapping.kratix
    keep_spec = operation != "DELETE"
    try:
        values = _request_program(kratix.namespace, kratix.name, kratix.spec, kratix.labels).first(document)
    except JqError:
        values = None
    if isinstance(values, Mapping):
        namespace, name = values.get("namespace"), values.get("name")
        spec, labels = values.get("spec"), values.get("labels")
        if (
            isinstance(namespace, str)
            and namespace
            and isinstance(name, str)
            and name
            and isinstance(spec, Mapping | None)
            and isinstance(labels, Mapping | None)
            and all(isinstance(value, str) for value in (labels or {}).values())
        ):
            return RenderedRequest(
                namespace=namespace,
                name=name,
                spec=dict(spec) if spec is not None and keep_spec else None,
                labels=dict(labels or {}),
            )
    return _render_each(kratix, document, keep_spec=keep_spec, prefix=prefix)


def _render_each(
    kratix: KratixMapping, document: Mapping[str, Any], *, keep_spec: bool, prefix: str
) -> RenderedRequest:
    labels = _object(kratix.labels, document, f"{prefix}kratix.labels") or {}
    if any(not isinstance(value, str) for value in labels.values()):
        raise MappingFailed(f"{prefix}kratix.labels", "every label value must be a string")
    return RenderedRequest(
        namespace=_text(kratix.namespace, document, f"{prefix}kratix.namespace"),
        name=_text(kratix.name, document, f"{prefix}kratix.name"),
        spec=_object(kratix.spec, document, f"{prefix}kratix.spec") if keep_spec else None,
        labels=labels,
    )


def render_entity(mapping: EntityMapping, document: Mapping[str, Any]) -> dict[str, Any]:
    """The Port entity body (identifier, title, team, icon, properties, relations)."""
    entity: dict[str, Any] = {"identifier": _text(mapping.identifier, document, "entity.identifier")}
    if mapping.title is not None:
        title = _evaluate(mapping.title, document, "entity.title")
        if title is not None:
            entity["title"] = str(title)
    if mapping.team is not None:
        team = _evaluate(mapping.team, document, "entity.team")
        if team not in (None, "", []):
            entity["team"] = team
    if mapping.icon:
        entity["icon"] = mapping.icon
    properties = _object(mapping.properties, document, "entity.properties")
    entity["properties"] = {key: value for key, value in (properties or {}).items() if value is not None}
    relations = _object(mapping.relations, document, "entity.relations")
    if relations:
        entity["relations"] = relations
    return entity
