"""What ``port-bridge scorecards`` prints: a table for people, or JSON for programs.

The table has a line per entity and scorecard (level, readiness, rules passed) and under it a line
per failing rule with each failing condition and the value the entity has. The JSON holds the
same and every rule, passed or not, with the value each condition read::

    {"entities": [{"blueprint": "postgresql", "identifier": "orders", "title": "orders",
      "scorecards": [{"identifier": "production-readiness", "title": "Production readiness",
        "applies": true, "level": "Bronze", "readiness": 50, "passed": 2, "total": 4,
        "rules": [{"identifier": "backups", "title": "Backups enabled", "level": "Silver",
          "passed": false, "conditions": [{"property": "backupEnabled", "operator": "=",
            "value": true, "actual": false, "passed": false}]}]}]}]}

``applies`` is false (and ``level``, ``readiness`` null, ``rules`` empty) when the scorecard's
filter leaves the entity out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from port_bridge.scorecards.entity import Entity
from port_bridge.scorecards.evaluate import ConditionResult, RuleResult, ScorecardResult
from port_bridge.scorecards.model import Condition, DatePreset, DateRange, Scorecard

HEADERS = ("ENTITY", "SCORECARD", "LEVEL", "READINESS", "RULES PASSED")


@dataclass(frozen=True)
class Evaluation:
    """One entity on one scorecard; ``result`` is ``None`` when the filter leaves the entity out."""

    blueprint: str
    entity: Entity
    scorecard: Scorecard
    result: ScorecardResult | None


def as_json(evaluations: Sequence[Evaluation]) -> str:
    entities: dict[tuple[str, str], dict[str, Any]] = {}
    for evaluation in evaluations:
        key = (evaluation.blueprint, evaluation.entity.identifier)
        entry = entities.setdefault(
            key,
            {
                "blueprint": evaluation.blueprint,
                "identifier": evaluation.entity.identifier,
                "title": evaluation.entity.title,
                "scorecards": [],
            },
        )
        entry["scorecards"].append(_scorecard_json(evaluation))
    return json.dumps({"entities": list(entities.values())}, indent=2, ensure_ascii=False)


def as_table(evaluations: Sequence[Evaluation]) -> str:
    if not evaluations:
        return "No entities to evaluate."
    rows = [_row(evaluation) for evaluation in evaluations]
    widths = [max(len(HEADERS[i]), *(len(row[i]) for row in rows)) for i in range(len(HEADERS))]
    lines = [_aligned(HEADERS, widths)]
    for evaluation, row in zip(evaluations, rows, strict=True):
        lines.append(_aligned(row, widths))
        if evaluation.result is not None:
            lines += [f"    failing {_failing_rule(rule)}" for rule in evaluation.result.failing]
    return "\n".join(lines)


def _row(evaluation: Evaluation) -> tuple[str, ...]:
    name = f"{evaluation.blueprint}/{evaluation.entity.identifier}"
    result = evaluation.result
    if result is None:
        return (name, evaluation.scorecard.identifier, "-", "-", "not applicable (filter)")
    return (
        name,
        evaluation.scorecard.identifier,
        result.level.title,
        str(result.readiness),
        f"{result.passed}/{len(result.rules)}",
    )


def _aligned(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _failing_rule(result: RuleResult) -> str:
    rule = result.rule
    found = "; ".join(_failing_condition(condition) for condition in result.failing)
    return f"{rule.identifier} [{rule.level}] {rule.title}: {found}"


def _failing_condition(result: ConditionResult) -> str:
    condition = result.condition
    subject = f"relation {condition.subject}" if condition.is_relation else condition.subject
    wanted = condition.operator if condition.value is None else f"{condition.operator} {_shown(condition)}"
    if condition.negate:
        wanted = f"not {wanted}"
    actual = "is missing" if result.actual is None else f"is {json.dumps(result.actual, ensure_ascii=False)}"
    return f"{subject} {actual} (wanted {wanted})"


def _shown(condition: Condition) -> str:
    return json.dumps(_value_json(condition), ensure_ascii=False)


def _scorecard_json(evaluation: Evaluation) -> dict[str, Any]:
    scorecard, result = evaluation.scorecard, evaluation.result
    shown: dict[str, Any] = {"identifier": scorecard.identifier, "title": scorecard.title}
    if result is None:
        return {
            **shown,
            "applies": False,
            "level": None,
            "readiness": None,
            "passed": 0,
            "total": 0,
            "rules": [],
        }
    return {
        **shown,
        "applies": True,
        "level": result.level.title,
        "readiness": result.readiness,
        "passed": result.passed,
        "total": len(result.rules),
        "rules": [_rule_json(rule) for rule in result.rules],
    }


def _rule_json(result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    return {
        "identifier": rule.identifier,
        "title": rule.title,
        "level": rule.level,
        "passed": result.passed,
        "conditions": [_condition_json(condition) for condition in result.conditions],
    }


def _condition_json(result: ConditionResult) -> dict[str, Any]:
    condition = result.condition
    shown: dict[str, Any] = {"relation" if condition.is_relation else "property": condition.subject}
    shown["operator"] = condition.operator
    if condition.value is not None:
        shown["value"] = _value_json(condition)
    if condition.negate:
        shown["not"] = True
    return {**shown, "actual": result.actual, "passed": result.passed}


def _value_json(condition: Condition) -> Any:
    value = condition.value
    if isinstance(value, DateRange | DatePreset):
        return value.model_dump(mode="json", by_alias=True)
    return value
