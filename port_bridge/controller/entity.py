"""The catalog entity a run leaves behind: upserted (or deleted) with ``run_id`` before the run closes.

Writing with ``run_id`` makes Port list the entity among the run's affected entities, which Port
allows only while the run is open, hence before the terminal status. By then Kratix has finished
with the request, so a catalog problem that retrying cannot fix (a mapping that fails on this
run's data, Port refusing the entity) does not fail the run: it becomes a warning line on it.
Port being unavailable raises, and the step is tried again later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from port_bridge.actionrun.model import ActionRun
from port_bridge.kube.objects import Object
from port_bridge.mapping.actions import ActionConfig
from port_bridge.mapping.render import MappingFailed, render_entity
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError, RunAlreadyFinished


class RunEntity:
    def __init__(
        self,
        *,
        port: PortClient,
        actions: Mapping[str, ActionConfig],
        current_request: Callable[[ActionRun], Object | None],
        warn: Callable[[ActionRun, str], None],
        before_write: Callable[[], None],
    ) -> None:
        self._port, self._actions, self._current_request = port, actions, current_request
        self._warn, self._before_write = warn, before_write

    def write(self, run: ActionRun) -> str:
        """Upsert or delete the run's entity; the identifier touched, or "" if there was none."""
        spec = run.spec
        try:
            if spec.operation == "DELETE":
                identifier = (spec.entity or {}).get("identifier")
                if not (isinstance(identifier, str) and identifier and spec.blueprint):
                    return ""
                self._before_write()
                self._port.delete_entity(spec.blueprint, identifier, run_id=spec.run_id)
                return identifier
            config = self._actions.get(spec.action)
            if config is None or config.entity is None:
                return ""
            document = {**spec.document(), "request": self._current_request(run) or {}}
            try:
                body = render_entity(config.entity, document)
            except MappingFailed as failed:
                self._warn(run, f"Warning: the catalog entity could not be built ({failed})")
                return ""
            self._before_write()
            try:
                self._port.upsert_entity(config.entity.blueprint, body, run_id=spec.run_id)
            except RunAlreadyFinished:
                raise
            except PortApiError as refused:
                self._warn(run, f"Warning: Port refused the catalog entity: {refused.message}")
                return ""
            return str(body["identifier"])
        except RunAlreadyFinished:
            return ""  # closed elsewhere; the terminal step finds out and records it
