"""Publishing a live Promise to Port: its blueprint and actions, as ``port-bridge apply`` would.

The same machinery as ``apply`` (:mod:`port_bridge.portmodel`): compare with what Port has, write
only what changed, in an order Port accepts, and record in Port what was created, here under the
manager ``live:<promise>``, so that withdrawing a Promise deletes exactly what was published for
it (and ``apply --prune``, whose records are its own, never touches it). A blueprint or action
the project's files define is left to them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from port_bridge.live.promises import LivePromise
from port_bridge.port.client import PortClient
from port_bridge.port.errors import NotFound
from port_bridge.portmodel.execute import Executor
from port_bridge.portmodel.files import Model, ModelObject, ObjectKey
from port_bridge.portmodel.plan import Step, make_plan
from port_bridge.portmodel.records import RECORDS_BLUEPRINT, Records
from port_bridge.portmodel.remote import read_snapshot

log = logging.getLogger(__name__)
MANAGER_PREFIX = "live:"


class PortPublisher:
    def __init__(self, port: PortClient, *, file_blueprints: Collection[str] = ()) -> None:
        self._port, self._file_blueprints = port, frozenset(file_blueprints)

    def publish(self, live: LivePromise, *, skip: Collection[str]) -> None:
        """Make Port hold the Promise's blueprint and actions (those no file defines)."""
        source = Path(f"promise/{live.name}")
        objects: dict[ObjectKey, ModelObject] = {}
        blueprint = live.model.blueprint
        if blueprint.get("identifier") not in self._file_blueprints:
            key = ObjectKey("blueprint", str(blueprint["identifier"]))
            objects[key] = ModelObject(key, dict(blueprint), source)
        for action in live.model.actions:
            body = action.document["action"]
            if body["identifier"] in skip:
                continue
            key = ObjectKey("action", str(body["identifier"]))
            objects[key] = ModelObject(key, dict(body), source, field_prefix="action.")
        self._apply(live.name, Model(source, objects))

    def withdraw(self, promise: str) -> None:
        """Delete what was published for the Promise (and only that)."""
        self._apply(promise, Model(Path(f"promise/{promise}"), {}))

    def published(self) -> set[str]:
        """The Promises Port holds objects for, by the records kept of what was published."""
        try:
            entities = self._port.list_entities(RECORDS_BLUEPRINT)
        except NotFound:
            return set()
        managers = {str((entity.get("properties") or {}).get("manager") or "") for entity in entities}
        return {
            manager.removeprefix(MANAGER_PREFIX) for manager in managers if manager.startswith(MANAGER_PREFIX)
        }

    def _apply(self, promise: str, model: Model) -> None:
        records = Records(self._port, manager=MANAGER_PREFIX + promise)
        snapshot = read_snapshot(self._port, model, records, prune=True)
        plan = make_plan(model, snapshot, prune=True)
        for change in plan.of(Step.BLOCKED):
            log.warning("Promise %s: %s is not deleted from Port: %s", promise, change.key, change.reason)
        if plan.writes_anything:
            Executor(self._port, records).run(plan)
