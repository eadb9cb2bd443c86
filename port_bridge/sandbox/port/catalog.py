"""Port's configuration objects: blueprints, actions and scorecards (create, replace, patch, read).

These are what configuration as code pushes to Port. Bodies have already passed the OpenAPI
check when they get here; this module adds what the spec cannot say (an identifier that already
exists, a scorecard rule on a level the scorecard does not have) and Port's bookkeeping fields.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from port_bridge.sandbox.port.clock import now_iso
from port_bridge.sandbox.port.errors import conflict, invalid, not_found
from port_bridge.sandbox.port.scorecards import DEFAULT_LEVELS, level_titles


class Catalog:
    """Thread-safe store of blueprints, actions and scorecards; reads return copies."""

    def __init__(self, *, actor: str) -> None:
        self._actor = actor
        self._lock = threading.RLock()
        self._blueprints: dict[str, dict[str, Any]] = {}
        self._actions: dict[str, dict[str, Any]] = {}
        self._scorecards: dict[str, dict[str, dict[str, Any]]] = {}

    # Blueprints

    def create_blueprint(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            identifier = body["identifier"]
            if identifier in self._blueprints:
                raise conflict(f"blueprint {identifier!r} already exists")
            self._blueprints[identifier] = self._stamped(_blueprint_defaults(body), None)
            return self.blueprint(identifier)

    def replace_blueprint(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._require_blueprint(identifier)
            fresh = _blueprint_defaults({**body, "identifier": identifier})
            self._blueprints[identifier] = self._stamped(fresh, existing)
            return self.blueprint(identifier)

    def patch_blueprint(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._require_blueprint(identifier)
            merged = {**existing, **body, "identifier": identifier}
            self._blueprints[identifier] = self._stamped(merged, existing)
            return self.blueprint(identifier)

    def blueprint(self, identifier: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._require_blueprint(identifier))

    def blueprints(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._blueprints.values()))

    def has_blueprint(self, identifier: str) -> bool:
        with self._lock:
            return identifier in self._blueprints

    # Actions

    def create_action(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            identifier = body["identifier"]
            if identifier in self._actions:
                raise conflict(f"action {identifier!r} already exists")
            self._check_action_blueprint(body)
            self._actions[identifier] = self._stamped(dict(body), None)
            return self.action(identifier)

    def replace_action(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._actions.get(identifier)
            if existing is None:
                raise not_found(f"action {identifier!r}")
            self._check_action_blueprint(body)
            self._actions[identifier] = self._stamped({**body, "identifier": identifier}, existing)
            return self.action(identifier)

    def action(self, identifier: str) -> dict[str, Any]:
        with self._lock:
            if identifier not in self._actions:
                raise not_found(f"action {identifier!r}")
            return copy.deepcopy(self._actions[identifier])

    def find_action(self, identifier: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._actions.get(identifier)
            return copy.deepcopy(found) if found is not None else None

    def actions(
        self, *, identifiers: Iterable[str] = (), blueprints: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        wanted_ids, wanted_blueprints = set(identifiers), set(blueprints)
        with self._lock:
            return [
                copy.deepcopy(action)
                for action in self._actions.values()
                if (not wanted_ids or action["identifier"] in wanted_ids)
                and (not wanted_blueprints or action_blueprint(action) in wanted_blueprints)
            ]

    # Scorecards

    def create_scorecard(self, blueprint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._require_blueprint(blueprint)
            if body["identifier"] in self._scorecards.get(blueprint, {}):
                raise conflict(f"scorecard {body['identifier']!r} already exists on blueprint {blueprint!r}")
            return self._put_scorecard(blueprint, body)

    def replace_scorecard(self, blueprint: str, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.scorecard(blueprint, identifier)
            return self._put_scorecard(blueprint, {**body, "identifier": identifier})

    def put_scorecards(self, blueprint: str, bodies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create or update each scorecard of the array (others on the blueprint are kept)."""
        with self._lock:
            self._require_blueprint(blueprint)
            bodies = list(bodies)
            for body in bodies:
                _check_scorecard(body)
            return [self._put_scorecard(blueprint, body) for body in bodies]

    def scorecard(self, blueprint: str, identifier: str) -> dict[str, Any]:
        with self._lock:
            self._require_blueprint(blueprint)
            found = self._scorecards.get(blueprint, {}).get(identifier)
            if found is None:
                raise not_found(f"scorecard {identifier!r} of blueprint {blueprint!r}")
            return copy.deepcopy(found)

    def scorecards(self, blueprint: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if blueprint is not None:
                self._require_blueprint(blueprint)
                return copy.deepcopy(list(self._scorecards.get(blueprint, {}).values()))
            return copy.deepcopy([s for per in self._scorecards.values() for s in per.values()])

    def _put_scorecard(self, blueprint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        _check_scorecard(body)
        existing = self._scorecards.get(blueprint, {}).get(body["identifier"])
        stored = {"levels": copy.deepcopy(list(DEFAULT_LEVELS)), **body, "blueprint": blueprint}
        stored.pop("id", None)
        self._scorecards.setdefault(blueprint, {})[body["identifier"]] = self._stamped(stored, existing)
        return copy.deepcopy(self._scorecards[blueprint][body["identifier"]])

    def _require_blueprint(self, identifier: str) -> dict[str, Any]:
        found = self._blueprints.get(identifier)
        if found is None:
            raise not_found(f"blueprint {identifier!r}")
        return found

    def _check_action_blueprint(self, body: Mapping[str, Any]) -> None:
        blueprint = action_blueprint(body)
        if blueprint is not None:
            self._require_blueprint(blueprint)

    def _stamped(self, body: dict[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
        now = now_iso()
        return {
            **copy.deepcopy(body),
            "createdAt": existing["createdAt"] if existing else now,
            "createdBy": existing["createdBy"] if existing else self._actor,
            "updatedAt": now,
            "updatedBy": self._actor,
        }


def action_blueprint(action: Mapping[str, Any]) -> str | None:
    """The blueprint a self-service action belongs to, if it names one."""
    blueprint = (action.get("trigger") or {}).get("blueprintIdentifier")
    return blueprint if isinstance(blueprint, str) else None


def _blueprint_defaults(body: Mapping[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "calculationProperties": {},
        "mirrorProperties": {},
        "aggregationProperties": {},
        "relations": {},
    }
    return {**defaults, **copy.deepcopy(dict(body))}


def _check_scorecard(body: Mapping[str, Any]) -> None:
    levels = level_titles(body)
    for rule in body.get("rules", ()):
        if rule["level"] not in levels:
            raise invalid(
                f"rules: rule {rule['identifier']!r} has level {rule['level']!r}, not one of {levels}"
            )
        if rule["level"] == levels[0]:
            raise invalid(
                f"rules: rule {rule['identifier']!r} is on the base level {levels[0]!r}, which owns no rules"
            )
