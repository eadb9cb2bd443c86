"""Configuration as code: list, read, create, replace and delete blueprints, actions and scorecards.

``port-bridge apply`` reads what Port has (``list_*``; ``get_*`` is ``None`` when it is missing)
and then creates, replaces or deletes it. Replacing uses PUT, which sets the whole object to the
body given. Deletes answer ``False`` when Port had nothing to delete (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from port_bridge.port.errors import NotFound
from port_bridge.port.transport import ApiArea, Json, flag, segment, unwrap


class CatalogApi(ApiArea):
    def list_blueprints(self) -> list[Json]:
        return self._list("/v1/blueprints", "blueprints")

    def get_blueprint(self, identifier: str) -> Json | None:
        return self._get(_blueprint_path(identifier), "blueprint")

    def create_blueprint(self, blueprint: Mapping[str, Any], *, catalog_page: bool = True) -> Json:
        """Create a blueprint; ``catalog_page=False``: without the catalog page Port adds by default."""
        params = {"create_catalog_page": flag(catalog_page)}
        answer = self._transport.request("POST", "/v1/blueprints", params=params, json=dict(blueprint))
        return unwrap(answer.body, "blueprint")

    def update_blueprint(self, identifier: str, blueprint: Mapping[str, Any]) -> Json:
        return self._write("PUT", _blueprint_path(identifier), blueprint, "blueprint")

    def delete_blueprint(self, identifier: str) -> bool:
        """Delete a blueprint, which Port refuses while it has entities or actions or others relate to it."""
        return self._delete(_blueprint_path(identifier))

    def count_entities(self, blueprint: str) -> int:
        answer = self._transport.request("GET", f"{_blueprint_path(blueprint)}/entities-count")
        count = answer.body.get("count")
        return int(count) if isinstance(count, int | float) else 0

    def list_actions(self) -> list[Json]:
        """Every action and automation, in the current (v2) format."""
        return self._list("/v1/actions", "actions", params={"version": "v2"})

    def get_action(self, identifier: str) -> Json | None:
        return self._get(_action_path(identifier), "action")

    def create_action(self, action: Mapping[str, Any]) -> Json:
        return self._write("POST", "/v1/actions", action, "action")

    def update_action(self, identifier: str, action: Mapping[str, Any]) -> Json:
        return self._write("PUT", _action_path(identifier), action, "action")

    def delete_action(self, identifier: str) -> bool:
        return self._delete(_action_path(identifier))

    def get_scorecard(self, blueprint: str, identifier: str) -> Json | None:
        return self._get(_scorecard_path(blueprint, identifier), "scorecard")

    def list_scorecards(self, blueprint: str | None = None) -> list[Json]:
        """The blueprint's scorecards, else all (each names its ``blueprint``); NotFound: no blueprint."""
        path = _scorecards_path(blueprint) if blueprint is not None else "/v1/scorecards"
        answer = self._transport.request("GET", path, quiet={404})
        return [scorecard for scorecard in answer.body.get("scorecards") or [] if isinstance(scorecard, dict)]

    def create_scorecard(self, blueprint: str, scorecard: Mapping[str, Any]) -> Json:
        return self._write("POST", _scorecards_path(blueprint), scorecard, "scorecard")

    def update_scorecard(self, blueprint: str, identifier: str, scorecard: Mapping[str, Any]) -> Json:
        return self._write("PUT", _scorecard_path(blueprint, identifier), scorecard, "scorecard")

    def delete_scorecard(self, blueprint: str, identifier: str) -> bool:
        return self._delete(_scorecard_path(blueprint, identifier))

    def _list(self, path: str, key: str, *, params: Mapping[str, str] | None = None) -> list[Json]:
        items = self._transport.request("GET", path, params=params).body.get(key)
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def _delete(self, path: str) -> bool:
        try:
            self._transport.request("DELETE", path, quiet={404})
        except NotFound:
            return False
        return True

    def _get(self, path: str, key: str) -> Json | None:
        try:
            answer = self._transport.request("GET", path, quiet={404})
        except NotFound:
            return None
        return unwrap(answer.body, key)

    def _write(self, method: str, path: str, body: Mapping[str, Any], key: str) -> Json:
        return unwrap(self._transport.request(method, path, json=dict(body)).body, key)


def _blueprint_path(identifier: str) -> str:
    return f"/v1/blueprints/{segment(identifier)}"


def _action_path(identifier: str) -> str:
    return f"/v1/actions/{segment(identifier)}"


def _scorecards_path(blueprint: str) -> str:
    return f"{_blueprint_path(blueprint)}/scorecards"


def _scorecard_path(blueprint: str, identifier: str) -> str:
    return f"{_scorecards_path(blueprint)}/{segment(identifier)}"
