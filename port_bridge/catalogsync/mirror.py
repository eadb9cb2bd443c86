"""The entity a request becomes in Port, built the way a run builds it, and how to tell it changed.

Each Promise's requests are mirrored through the entity mapping of a CREATE action that requests
it (the action files' or a live Promise's, whichever the controller serves): the same identifier a
run's upsert uses, so a run and the sync write one entity. The mapping sees what a run's entity
mapping sees, as far as the request can tell it: ``.request`` (and ``.requests.<id>``), and, for a
request a run created, ``.run.id`` and ``.trigger.by.email`` from the annotations port-bridge put
on it. Inputs and the selected entity are not known (``{}`` and ``null``): properties built only
from them come out null and are left out, so the sync never overwrites what a run wrote there
(it writes with ``merge``). Computed readiness (``entity.readiness``) is computed as runs do.

To this come the Kratix state properties (:mod:`.state`) the blueprint in Port defines, sent even
when empty (``null``) so a value Kratix no longer shows does not linger; and the ``kratixRequest``
marker on entities port-bridge created.

An entity is unchanged when what Port holds, for exactly the fields the sync would write, equals
what it would write: :func:`fingerprint` of the body against :func:`fingerprint` of Port's entity
seen through the same fields (:func:`seen_as`), with Port's own forms (a team as a list, a whole
number as ``3`` or ``3.0``) made equal.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from port_bridge.catalogsync.state import REQUEST, RequestRef, state_properties
from port_bridge.controller.requests import REQUESTED_BY_ANNOTATION
from port_bridge.kratix.catalog import PromiseCatalog
from port_bridge.kube.actionruns import RUN_ID_ANNOTATION
from port_bridge.kube.objects import Resource
from port_bridge.mapping.actions import ActionConfig, EntityMapping
from port_bridge.mapping.jq import Jq, JqError
from port_bridge.mapping.render import render_entity
from port_bridge.scorecards.evaluate import NotApplicable, readiness
from port_bridge.scorecards.model import Scorecard

log = logging.getLogger(__name__)
_FIELDS = ("title", "icon", "team")


@dataclass(frozen=True)
class Mirror:
    """How one Promise's requests become entities: a CREATE action's entity mapping for them."""

    promise: str
    action: str
    request_id: str
    entity: EntityMapping

    @property
    def blueprint(self) -> str:
        return self.entity.blueprint


def choose_mirrors(actions: Mapping[str, ActionConfig]) -> dict[str, Mirror]:
    """For each Promise a CREATE action requests with an entity mapping, the mapping to mirror with.

    An action requesting only that Promise wins over one requesting it among others (a service's
    database), then the first such action by identifier, so the choice never depends on load order.
    """
    candidates: list[tuple[str, int, int, str, Mirror]] = []
    for identifier, config in actions.items():
        if config.operation != "CREATE":
            continue
        mappings = config.request_mappings
        for position, mapping in enumerate(mappings):
            if mapping.entity is not None:
                mirror = Mirror(mapping.kratix.promise, identifier, mapping.id, mapping.entity)
                candidates.append((mirror.promise, len(mappings) > 1, position, identifier, mirror))
    chosen: dict[str, Mirror] = {}
    for candidate in sorted(candidates, key=lambda c: c[:4]):
        chosen.setdefault(candidate[0], candidate[4])
    return chosen


def resources_of(
    mirrors: Mapping[str, Mirror], promises: PromiseCatalog
) -> dict[tuple[str, str], tuple[str, Resource]]:
    """Each mirrored Promise's request resource, by (group, plural); Promises not installed left out."""
    found = {}
    for promise in mirrors:
        try:
            api = promises.get(promise)
        except Exception as error:  # not installed (yet), or unreadable: its requests wait
            log.debug("catalog sync: Promise %s not mirrored now: %s", promise, error)
            continue
        found[(api.group, api.plural)] = (promise, Resource(api.group, api.version, api.plural))
    return found


def sync_document(mirror: Mirror, request: Mapping[str, Any]) -> dict[str, Any]:
    """What the entity mapping sees for a request, with no run at hand."""
    annotations = (request.get("metadata") or {}).get("annotations") or {}
    run_id, email = annotations.get(RUN_ID_ANNOTATION), annotations.get(REQUESTED_BY_ANNOTATION)
    return {
        "run": {"id": run_id} if run_id else None,
        "action": {"identifier": mirror.action, "blueprint": mirror.blueprint},
        "operation": "CREATE",
        "inputs": {},
        "entity": None,
        "trigger": {"by": {"email": email or None}},
        "request": request,
        "requests": {mirror.request_id: request},
    }


class EntityBuilder:
    def __init__(self, scorecards: Mapping[str, Sequence[Scorecard]]) -> None:
        self._scorecards = {
            (blueprint, card.identifier): card for blueprint, cards in scorecards.items() for card in cards
        }
        self._programs: dict[int, tuple[EntityMapping, Jq]] = {}

    def build(
        self,
        mirror: Mirror,
        ref: RequestRef,
        request: Mapping[str, Any],
        *,
        has_configure_workflow: bool,
        defined: Collection[str],
        mark: Callable[[str], bool],
    ) -> dict[str, Any]:
        """The entity body for ``request``; raises :class:`~port_bridge.mapping.render.MappingFailed`.

        ``defined`` are the properties the blueprint has in Port: state properties it lacks are
        left out (and so is the marker); ``mark(identifier)`` says whether the marker goes on.
        """
        body = self.render(mirror.entity, sync_document(mirror, request))
        properties: dict[str, Any] = body["properties"]
        for key, value in state_properties(request, has_configure_workflow=has_configure_workflow).items():
            if key in defined:
                properties[key] = value
        if REQUEST in defined and mark(str(body["identifier"])):
            properties[REQUEST] = ref.text
        for prop, identifier in mirror.entity.readiness.items():
            card = self._scorecards.get((mirror.blueprint, identifier))
            try:
                if card is not None:
                    properties[prop] = readiness(body, card)
            except NotApplicable:
                pass  # the scorecard's filter leaves this entity out
        return body

    def render(self, mapping: EntityMapping, document: Mapping[str, Any]) -> dict[str, Any]:
        """What :func:`render_entity` gives, from one jq program (jq reads the document once, not
        four times: thousands of requests a pass); anything unusual is left to ``render_entity``,
        for its exact result or error."""
        cached = self._programs.get(id(mapping))
        if cached is None or cached[0] is not mapping:
            cached = self._programs[id(mapping)] = (mapping, _entity_program(mapping))
        try:
            values = cached[1].first(document)
        except JqError:
            values = None
        body = _entity_body(mapping, values)
        return body if body is not None else render_entity(mapping, document)


def _entity_program(mapping: EntityMapping) -> Jq:
    parts = {
        "identifier": mapping.identifier,
        "title": mapping.title,
        "team": mapping.team,
        "properties": mapping.properties,
        "relations": mapping.relations,
    }
    fields = ", ".join(f"{key}: ({expr.expression}\n)" for key, expr in parts.items() if expr is not None)
    return Jq("{" + fields + "}")


def _entity_body(mapping: EntityMapping, values: Any) -> dict[str, Any] | None:
    """The entity from the program's output, as ``render_entity`` builds it; ``None`` if unusual."""
    if not isinstance(values, Mapping):
        return None
    identifier, properties, relations = (
        values.get("identifier"),
        values.get("properties"),
        values.get("relations"),
    )
    if not isinstance(identifier, str) or not identifier:
        return None
    if not isinstance(properties, Mapping | None) or not isinstance(relations, Mapping | None):
        return None
    entity: dict[str, Any] = {"identifier": identifier}
    if mapping.title is not None and values.get("title") is not None:
        entity["title"] = str(values["title"])
    if mapping.team is not None and values.get("team") not in (None, "", []):
        entity["team"] = values["team"]
    if mapping.icon:
        entity["icon"] = mapping.icon
    entity["properties"] = {key: value for key, value in (properties or {}).items() if value is not None}
    if relations:
        entity["relations"] = dict(relations)
    return entity


def fingerprint(body: Mapping[str, Any]) -> str:
    """A digest of what writing ``body`` sets in Port (``null`` and absent count the same)."""
    shape: dict[str, Any] = {field: _canonical(field, body.get(field)) for field in _FIELDS if field in body}
    for part in ("properties", "relations"):
        values = body.get(part) or {}
        shape[part] = {key: _canonical(key, value) for key, value in values.items() if value is not None}
    text = json.dumps(shape, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def seen_as(stored: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """Port's entity through the fields ``body`` writes, to compare their fingerprints."""
    seen: dict[str, Any] = {field: stored.get(field) for field in _FIELDS if field in body}
    for part in ("properties", "relations"):
        held = stored.get(part) or {}
        seen[part] = {key: held.get(key) for key in body.get(part) or {}}
    return seen


def _canonical(field: str, value: Any) -> Any:
    if field == "team" and isinstance(value, str):
        return [value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _canonical(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical("", item) for item in value]
    return value
