"""One pass of the sync decided: which entities to write, which to delete, which are unchanged.

The planner looks at requests one at a time, each as the watch cache has it (or gone), and adds
to a :class:`Plan`. Nothing here talks to Port or Kubernetes, so a pass can be decided in full
before any of it is sent, and the safety threshold judges its deletes together.

* A request a run is following is left to that run: its entity is written by the run, with
  ``run_id``, when Kratix has finished; the sync takes over when the run ends (and never writes
  state older than the run's, since it reads the request only then).
* A request present is rendered (:mod:`.mirror`); written when Port does not already hold what
  it would write; its old entity deleted if the mapping now gives it another identifier.
* A request gone has its entity deleted, if that entity is one port-bridge manages.
* An entity port-bridge did not create is never marked, so never deleted: the marker goes on
  an entity the sync creates, on one it already manages, and on the entity of a request a run of
  port-bridge created (the label ``app.kubernetes.io/managed-by: port-bridge`` a run puts on the
requests it creates). An entity that someone else made
  before the sync first saw it gets the state properties, without the marker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from port_bridge.catalogsync.memory import EntityKey, Memory, RequestName, request_name
from port_bridge.catalogsync.mirror import EntityBuilder, Mirror, fingerprint, seen_as
from port_bridge.catalogsync.state import REQUEST, RequestRef
from port_bridge.controller.requests import MANAGED_BY
from port_bridge.kube.objects import Object
from port_bridge.mapping.render import MappingFailed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upsert:
    key: EntityKey
    body: dict[str, Any]
    fingerprint: str
    mirrors: RequestName | None  # set when the body carries the marker
    ref: RequestRef


@dataclass(frozen=True)
class Delete:
    key: EntityKey
    mirrors: RequestName


@dataclass
class Plan:
    upserts: dict[str, list[Upsert]] = field(default_factory=dict)  # by blueprint
    deletes: dict[EntityKey, Delete] = field(default_factory=dict)
    confirmed: list[tuple[EntityKey, str, RequestName | None]] = field(default_factory=list)  # unchanged
    unchanged: int = 0
    left_to_runs: int = 0
    failed: list[str] = field(default_factory=list)  # requests whose mapping failed, one line each

    @property
    def writes(self) -> int:
        return sum(len(upserts) for upserts in self.upserts.values())


@dataclass(frozen=True)
class Blueprint:
    """What the sync needs to know of a blueprint in Port."""

    properties: frozenset[str]
    targets: frozenset[str]  # blueprints its relations point to


class Planner:
    def __init__(
        self,
        *,
        memory: Memory,
        builder: EntityBuilder,
        blueprints: Mapping[str, Blueprint],
        followed: Callable[[RequestRef], bool],
        has_configure_workflow: Callable[[str], bool],
        refused: Mapping[EntityKey, str],
        stored: Mapping[EntityKey, Mapping[str, Any]] | None = None,
    ) -> None:
        """``stored``: Port's entities as a full pass read them (else what :class:`Memory` says)."""
        self._memory, self._builder, self._blueprints = memory, builder, blueprints
        self._followed, self._has_configure_workflow = followed, has_configure_workflow
        self._refused, self._stored = refused, stored

    def look(self, plan: Plan, mirror: Mirror, ref: RequestRef, request: Object | None) -> None:
        """Add to ``plan`` what the request's entity needs."""
        blueprint = self._blueprints.get(mirror.blueprint)
        if blueprint is None:
            return  # not in Port (or not read yet): nothing to compare with, nothing to write
        if self._followed(ref):
            plan.left_to_runs += 1
            return
        name = request_name(ref)
        previous = self._memory.entity_of(name)
        if request is None:
            if previous is not None:
                plan.deletes[previous] = Delete(previous, name)
            return
        try:
            upsert = self._upsert(mirror, blueprint, ref, request)
        except MappingFailed as failed:
            plan.failed.append(f"{ref.text}: {failed}")
            return  # its entity, if any, stays as it is
        if previous is not None and previous != upsert.key:
            plan.deletes[previous] = Delete(previous, name)  # the mapping gives it another identifier now
        if self._holds(upsert):
            plan.unchanged += 1
            plan.confirmed.append((upsert.key, upsert.fingerprint, upsert.mirrors))
        elif self._refused.get(upsert.key) != upsert.fingerprint:  # refused as it is: wait for a change
            plan.upserts.setdefault(mirror.blueprint, []).append(upsert)

    def gone(self, plan: Plan, entities: Collection[tuple[EntityKey, RequestName]]) -> None:
        """Managed entities whose requests a full pass did not find: delete, unless a run follows them."""
        for key, name in entities:
            group, plural, namespace, request = name
            ref = RequestRef(group, "", plural, namespace, request)
            if not self._followed(ref):
                plan.deletes.setdefault(key, Delete(key, name))

    def _upsert(self, mirror: Mirror, blueprint: Blueprint, ref: RequestRef, request: Object) -> Upsert:
        labels = (request.get("metadata") or {}).get("labels") or {}
        created_by_a_run = all(labels.get(key) == value for key, value in MANAGED_BY.items())

        def mark(identifier: str) -> bool:
            known = self._memory.get((mirror.blueprint, identifier))
            return known is None or known.mirrors is not None or created_by_a_run

        body = self._builder.build(
            mirror,
            ref,
            request,
            has_configure_workflow=self._has_configure_workflow(mirror.promise),
            defined=blueprint.properties,
            mark=mark,
        )
        key = (mirror.blueprint, str(body["identifier"]))
        marked = (body.get("properties") or {}).get(REQUEST) == ref.text
        return Upsert(key, body, fingerprint(body), request_name(ref) if marked else None, ref)

    def _holds(self, upsert: Upsert) -> bool:
        """Whether Port already holds what the upsert would write."""
        if self._stored is not None:
            stored = self._stored.get(upsert.key)
            return stored is not None and fingerprint(seen_as(stored, upsert.body)) == upsert.fingerprint
        known = self._memory.get(upsert.key)
        return known is not None and known.fingerprint == upsert.fingerprint


def write_order(blueprints: Mapping[str, Blueprint], wanted: Collection[str]) -> list[str]:
    """``wanted`` blueprints with relation targets before what relates to them (cycles broken by name)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for target in sorted(blueprints[name].targets if name in blueprints else ()):
            if target in wanted:
                visit(target)
        visiting.discard(name)
        order.append(name)

    for name in sorted(wanted):
        visit(name)
    return order
