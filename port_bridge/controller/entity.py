"""The catalog entity a run leaves behind: upserted (or deleted) with ``run_id`` before the run closes.

Writing with ``run_id`` makes Port list the entity among the run's affected entities, which Port
allows only while the run is open, hence before the terminal status. By then Kratix has finished
with the request, so a catalog problem that retrying cannot fix (a mapping that fails on this
run's data, Port refusing the entity) does not fail the run: it becomes a warning line on it.
Port being unavailable raises, and the step is tried again later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from port_bridge.actionrun.model import ActionRun, RequestRef
from port_bridge.kube.objects import Object
from port_bridge.mapping.actions import ActionConfig, EntityMapping, RequestMapping
from port_bridge.mapping.render import MappingFailed, render_entity
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError, RunAlreadyFinished
from port_bridge.scorecards.evaluate import NotApplicable, readiness
from port_bridge.scorecards.model import Scorecard


class RunEntity:
    def __init__(
        self,
        *,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        scorecards: Mapping[str, Sequence[Scorecard]],
        current_requests: Callable[[ActionRun], Mapping[str, Object | None]],
        warn: Callable[[ActionRun, str], None],
        before_write: Callable[[], None],
    ) -> None:
        self._port, self._actions, self._current_requests = port, actions, current_requests
        self._scorecards = {
            (blueprint, card.identifier): card for blueprint, cards in scorecards.items() for card in cards
        }
        self._warn, self._before_write = warn, before_write

    def write(self, run: ActionRun) -> tuple[str, ...]:
        """Upsert (or, for a DELETE, delete) the entity of each of the run's requests; the identifiers.

        Entities of further requests go first and the main one's last, so the main entity's
        relations find their targets; a DELETE goes the other way, the main entity (which
        relates to the others) first.
        """
        spec = run.spec
        config = self._actions.get(spec.action)
        mappings = {mapping.id: mapping for mapping in config.request_mappings} if config else {}
        current = self._current_requests(run)
        document = {
            **spec.document(),
            "requests": {request_id: found or {} for request_id, found in current.items()},
        }
        done: list[str] = []
        try:
            if spec.operation == "DELETE":
                for request in spec.requests:
                    if (
                        entity := self._to_delete(run, request, mappings.get(request.id), document)
                    ) is not None:
                        self._before_write()
                        self._port.delete_entity(entity[0], entity[1], run_id=spec.run_id)
                        done.append(entity[1])
                return tuple(done)
            for request in reversed(spec.requests):
                mapping = mappings.get(request.id)
                if mapping is None or mapping.entity is None:
                    continue
                own = {**document, "request": current.get(request.id) or {}}
                if (identifier := self._upsert(run, mapping.entity, own)) is not None:
                    done.append(identifier)
        except RunAlreadyFinished:
            pass  # closed elsewhere; the terminal step finds out and records it
        return tuple(done)

    def _to_delete(
        self,
        run: ActionRun,
        request: RequestRef,
        mapping: RequestMapping | None,
        document: Mapping[str, Any],
    ) -> tuple[str, str] | None:
        """(blueprint, identifier) of the entity a DELETE removes for one request, if any."""
        spec = run.spec
        if mapping is not None and mapping.entity is not None:
            try:
                body = render_entity(mapping.entity, {**document, "request": {}})
            except MappingFailed as failed:
                self._warn(run, f"Warning: the catalog entity of {request.where} was not found ({failed})")
                return None
            return mapping.entity.blueprint, str(body["identifier"])
        identifier = (spec.entity or {}).get("identifier")
        if (
            request.id == (spec.main.id if spec.main else None)
            and isinstance(identifier, str)
            and spec.blueprint
        ):
            return spec.blueprint, identifier
        return None

    def _upsert(self, run: ActionRun, mapping: EntityMapping, document: Mapping[str, Any]) -> str | None:
        try:
            body = render_entity(mapping, document)
        except MappingFailed as failed:
            self._warn(run, f"Warning: the catalog entity could not be built ({failed})")
            return None
        for prop, identifier in mapping.readiness.items():
            card = self._scorecards.get((mapping.blueprint, identifier))
            try:
                if card is not None:  # checked at start: a mapping names scorecards the files hold
                    body["properties"][prop] = readiness(body, card)
            except NotApplicable:
                pass  # the scorecard's filter leaves this entity out: nothing to compute
        self._before_write()
        try:
            self._port.upsert_entity(mapping.blueprint, body, run_id=run.spec.run_id)
        except RunAlreadyFinished:
            raise
        except PortApiError as refused:
            self._warn(run, f"Warning: Port refused the catalog entity: {refused.message}")
            return None
        return str(body["identifier"])
