"""Evaluating an action's mapping on a run: the Kratix request it asks for, the entity it yields.

Inputs reach the request only through the expressions an action file names: the request is
built from the mapping's own ``namespace``, ``name``, ``spec`` and ``labels``, never by copying
the inputs wholesale, so a developer cannot set anything the platform team did not place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from port_bridge.mapping.actions import ActionConfig, EntityMapping
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


def render_request(config: ActionConfig, document: Mapping[str, Any]) -> RenderedRequest:
    mapping = config.kratix
    labels = _object(mapping.labels, document, "kratix.labels") or {}
    if any(not isinstance(value, str) for value in labels.values()):
        raise MappingFailed("kratix.labels", "every label value must be a string")
    return RenderedRequest(
        namespace=_text(mapping.namespace, document, "kratix.namespace"),
        name=_text(mapping.name, document, "kratix.name"),
        spec=_object(mapping.spec, document, "kratix.spec") if config.operation != "DELETE" else None,
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
