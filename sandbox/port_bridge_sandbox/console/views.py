"""What the console's pages show, read from the Port emulator's state as Port's own UI shows it.

Actions are grouped by blueprint with the operation that places them (a CREATE button on the
blueprint's page, DAY-2 and DELETE on an entity's page); runs with their log lines, status and
label; the catalog's entities with their properties (titled as the blueprint titles them) and the
level each scorecard gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge_sandbox.port.catalog import action_blueprint
from port_bridge_sandbox.port.runs import Run
from port_bridge_sandbox.port.state import PortState

OPERATION_ORDER = {"CREATE": 0, "DAY-2": 1, "DELETE": 2}


@dataclass(frozen=True)
class ActionCard:
    identifier: str
    title: str
    description: str | None
    operation: str
    blueprint: str | None
    startable: bool  # a WEBHOOK action; a GITHUB one would start a workflow the sandbox does not run
    invocation: str


@dataclass(frozen=True)
class Property:
    title: str
    value: str


@dataclass(frozen=True)
class ScorecardLevel:
    title: str
    level: str
    passed: int
    rules: int


@dataclass(frozen=True)
class EntityView:
    identifier: str
    title: str
    properties: tuple[Property, ...]
    scorecards: tuple[ScorecardLevel, ...]
    actions: tuple[ActionCard, ...]


@dataclass(frozen=True)
class BlueprintView:
    identifier: str
    title: str
    entities: tuple[EntityView, ...]


def action_cards(state: PortState) -> list[ActionCard]:
    cards = [_card(action) for action in state.catalog.actions()]
    return sorted(cards, key=lambda c: (c.blueprint or "", OPERATION_ORDER.get(c.operation, 3), c.title))


def action_card(action: Mapping[str, Any]) -> ActionCard:
    return _card(action)


def _card(action: Mapping[str, Any]) -> ActionCard:
    trigger = action.get("trigger") or {}
    invocation = str((action.get("invocationMethod") or {}).get("type", ""))
    return ActionCard(
        identifier=action["identifier"],
        title=str(action.get("title") or action["identifier"]),
        description=action.get("description"),
        operation=str(trigger.get("operation", "CREATE")),
        blueprint=action_blueprint(action),
        startable=invocation == "WEBHOOK",
        invocation=invocation,
    )


def catalog(state: PortState) -> list[BlueprintView]:
    cards = action_cards(state)
    views = []
    for blueprint in state.catalog.blueprints():
        identifier = blueprint["identifier"]
        titles = {
            name: str(spec.get("title") or name)
            for name, spec in ((blueprint.get("schema") or {}).get("properties") or {}).items()
        }
        scorecard_titles = {
            s["identifier"]: s.get("title") or s["identifier"] for s in state.catalog.scorecards()
        }
        entity_actions = tuple(c for c in cards if c.blueprint == identifier and c.operation != "CREATE")
        entities = tuple(
            EntityView(
                identifier=entity["identifier"],
                title=entity.get("title") or entity["identifier"],
                properties=tuple(
                    Property(titles.get(name, name), _text(value))
                    for name, value in (entity.get("properties") or {}).items()
                    if value is not None
                ),
                scorecards=tuple(
                    ScorecardLevel(
                        title=scorecard_titles.get(name, name),
                        level=result["level"],
                        passed=sum(rule["status"] == "SUCCESS" for rule in result["rules"]),
                        rules=len(result["rules"]),
                    )
                    for name, result in (entity.get("scorecards") or {}).items()
                ),
                actions=entity_actions,
            )
            for entity in state.entities(identifier)
        )
        views.append(BlueprintView(identifier, str(blueprint.get("title") or identifier), entities))
    return views


def run_json(run: Run) -> dict[str, Any]:
    """A run as the console's pages poll it: status, label, summary, link and every log line."""
    return {
        "id": run.id,
        "action": run.action,
        "actionTitle": run.action_title or run.action,
        "entity": run.entity,
        "status": run.status,
        "statusLabel": run.status_label,
        "summary": run.summary,
        "link": [run.link] if isinstance(run.link, str) else list(run.link or []),
        "createdAt": run.created_at,
        "endedAt": run.ended_at,
        "logs": [{"at": log.created_at, "message": log.message} for log in run.logs],
        "entities": [
            {"blueprint": change.blueprint, "identifier": change.identifier, "change": change.change}
            for change in run.affected_entities
        ],
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
