"""Configuration as code: read, create and replace blueprints, actions and scorecards.

``port-bridge apply`` reads what Port has (``get_*``, ``None`` when it is missing) and then
creates or replaces it. Replacing uses PUT, which sets the whole object to the body given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from port_bridge.port.errors import NotFound
from port_bridge.port.transport import ApiArea, Json, segment, unwrap


class CatalogApi(ApiArea):
    def get_blueprint(self, identifier: str) -> Json | None:
        return self._get(_blueprint_path(identifier), "blueprint")

    def create_blueprint(self, blueprint: Mapping[str, Any]) -> Json:
        return self._write("POST", "/v1/blueprints", blueprint, "blueprint")

    def update_blueprint(self, identifier: str, blueprint: Mapping[str, Any]) -> Json:
        return self._write("PUT", _blueprint_path(identifier), blueprint, "blueprint")

    def get_action(self, identifier: str) -> Json | None:
        return self._get(_action_path(identifier), "action")

    def create_action(self, action: Mapping[str, Any]) -> Json:
        return self._write("POST", "/v1/actions", action, "action")

    def update_action(self, identifier: str, action: Mapping[str, Any]) -> Json:
        return self._write("PUT", _action_path(identifier), action, "action")

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
