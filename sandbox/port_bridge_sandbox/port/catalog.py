"""Port's configuration objects: blueprints, actions and scorecards (create, replace, patch, read).

These are what configuration as code pushes to Port. Bodies have already passed the OpenAPI
check when they get here; this module adds what the spec cannot say (an identifier that already
exists, a relation to a blueprint that does not, a scorecard rule on a level the scorecard does
not have, the deletion of a blueprint something still needs) and Port's bookkeeping fields
(``createdAt``/``By``, ``updatedAt``/``By``, an action's ``id``).

Choices where Port's docs are silent: deleting a blueprint that still has actions needs
``delete_actions``; its scorecards go with it.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from port_bridge_sandbox.port.clock import now_iso
from port_bridge_sandbox.port.errors import conflict, invalid, not_found
from port_bridge_sandbox.port.references import check_references, referrers, refuse_deletion
from port_bridge_sandbox.port.scorecards import DEFAULT_LEVELS, level_titles

_ALPHANUMERIC = string.ascii_letters + string.digits


class Catalog:
    """Thread-safe store of blueprints, actions and scorecards; reads return copies."""

    def __init__(self, *, actor: str) -> None:
        self._actor = actor
        self._lock = threading.RLock()
        self._blueprints: dict[str, dict[str, Any]] = {}
        self._actions: dict[str, dict[str, Any]] = {}
        self._scorecards: dict[str, dict[str, dict[str, Any]]] = {}

    # Blueprints

    def create_blueprint(self, body: Mapping[str, Any], *, check: bool = True) -> dict[str, Any]:
        """Store a new blueprint; ``check=False`` (for seeding) skips the check of what it refers to."""
        with self._lock:
            identifier = body["identifier"]
            if identifier in self._blueprints:
                raise conflict(f"blueprint {identifier!r} already exists")
            fresh = _blueprint_defaults(body)
            if check:
                check_references(fresh, self._blueprints.get)
            self._blueprints[identifier] = self._stamped(fresh, None)
            return self.blueprint(identifier)

    def replace_blueprint(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._require_blueprint(identifier)
            fresh = _blueprint_defaults({**body, "identifier": identifier})
            check_references(fresh, self._blueprints.get)
            self._blueprints[identifier] = self._stamped(fresh, existing)
            return self.blueprint(identifier)

    def patch_blueprint(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._require_blueprint(identifier)
            merged = {**existing, **body, "identifier": identifier}
            check_references(merged, self._blueprints.get)
            self._blueprints[identifier] = self._stamped(merged, existing)
            return self.blueprint(identifier)

    def delete_blueprint(self, identifier: str, *, delete_actions: bool, entities: int) -> None:
        """Delete a blueprint (and its scorecards) that nothing needs any more; ``entities`` it still has."""
        with self._lock:
            self._require_blueprint(identifier)
            reasons = [f"it still has {entities} entities"] if entities else []
            reasons += [f"{field} points at it" for field in referrers(identifier, self._blueprints)]
            actions = sorted(a["identifier"] for a in self.actions(blueprints=[identifier]))
            if actions and not delete_actions:
                names = ", ".join(actions)
                reasons.append(f"actions {names} belong to it (delete_actions=true deletes them)")
            if reasons:
                raise refuse_deletion(identifier, reasons)
            for action in actions:
                del self._actions[action]
            self._scorecards.pop(identifier, None)
            del self._blueprints[identifier]

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
            self._actions[identifier] = self._stamped({**body, "id": _action_id()}, None)
            return self.action(identifier)

    def replace_action(self, identifier: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            existing = self._actions.get(identifier)
            if existing is None:
                raise not_found(f"action {identifier!r}")
            self._check_action_blueprint(body)
            fresh = {**body, "identifier": identifier, "id": existing["id"]}
            self._actions[identifier] = self._stamped(fresh, existing)
            return self.action(identifier)

    def delete_action(self, identifier: str) -> None:
        with self._lock:
            if self._actions.pop(identifier, None) is None:
                raise not_found(f"action {identifier!r}")

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

    def delete_scorecard(self, blueprint: str, identifier: str) -> None:
        with self._lock:
            self.scorecard(blueprint, identifier)
            del self._scorecards[blueprint][identifier]

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


def _action_id() -> str:
    """An id like Port's own (``action_`` and 16 letters and digits), kept across replacements."""
    return "action_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(16))


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
