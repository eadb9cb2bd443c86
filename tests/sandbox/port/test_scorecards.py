"""Scorecard evaluation: every operator, meta-properties, filters and the level rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from port_bridge_sandbox.port import evaluate_scorecard
from port_bridge_sandbox.port.scorecards import matches_condition, reached_level

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ENTITY: dict[str, Any] = {
    "identifier": "orders-api",
    "title": "Orders API",
    "team": ["payments"],
    "blueprint": "service",
    "createdAt": "2026-06-10T08:00:00.000Z",
    "properties": {
        "language": "python",
        "replicas": 3,
        "public": False,
        "tags": ["prod", "eu"],
        "lastDeploy": "2026-06-14T09:30:00Z",
        "empty": "",
        "nothing": None,
    },
    "relations": {"database": "orders-db", "consumers": []},
}

LEVELS = ["Basic", "Bronze", "Silver", "Gold"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"property": "language", "operator": "=", "value": "python"}, True),
        ({"property": "language", "operator": "=", "value": "go"}, False),
        ({"property": "language", "operator": "!=", "value": "go"}, True),
        ({"property": "missing", "operator": "=", "value": "x"}, False),
        ({"property": "missing", "operator": "!=", "value": "x"}, True),
        ({"property": "public", "operator": "=", "value": False}, True),
        ({"property": "replicas", "operator": ">", "value": 2}, True),
        ({"property": "replicas", "operator": ">", "value": 3}, False),
        ({"property": "replicas", "operator": ">=", "value": 3}, True),
        ({"property": "replicas", "operator": "<", "value": 3}, False),
        ({"property": "replicas", "operator": "<=", "value": 3}, True),
        ({"property": "language", "operator": ">", "value": 1}, False),
        ({"property": "lastDeploy", "operator": ">", "value": "2026-06-01T00:00:00Z"}, True),
        ({"property": "language", "operator": "contains", "value": "yth"}, True),
        ({"property": "tags", "operator": "contains", "value": "prod"}, True),
        ({"property": "tags", "operator": "doesNotContains", "value": "dev"}, True),
        ({"property": "language", "operator": "doesNotContains", "value": "py"}, False),
        ({"property": "language", "operator": "beginsWith", "value": "py"}, True),
        ({"property": "language", "operator": "doesNotBeginsWith", "value": "py"}, False),
        ({"property": "language", "operator": "endsWith", "value": "hon"}, True),
        ({"property": "language", "operator": "doesNotEndsWith", "value": "hon"}, False),
        ({"property": "tags", "operator": "containsAny", "value": ["dev", "eu"]}, True),
        ({"property": "tags", "operator": "containsAny", "value": ["dev", "us"]}, False),
        ({"property": "language", "operator": "in", "value": ["go", "python"]}, True),
        ({"property": "language", "operator": "in", "value": ["go", "rust"]}, False),
        ({"property": "empty", "operator": "isEmpty"}, True),
        ({"property": "nothing", "operator": "isEmpty"}, True),
        ({"property": "missing", "operator": "isEmpty"}, True),
        ({"property": "tags", "operator": "isEmpty"}, False),
        ({"property": "tags", "operator": "isNotEmpty"}, True),
        ({"property": "tags", "operator": "isEmpty", "not": True}, True),
        ({"property": "lastDeploy", "operator": "between", "value": {"preset": "lastWeek"}}, True),
        ({"property": "lastDeploy", "operator": "between", "value": {"preset": "today"}}, False),
        ({"property": "lastDeploy", "operator": "between", "value": {"preset": "yesterday"}}, True),
        ({"property": "lastDeploy", "operator": "notBetween", "value": {"preset": "lastWeek"}}, False),
        (
            {
                "property": "lastDeploy",
                "operator": "between",
                "value": {"from": "2026-06-01T00:00:00Z", "to": "2026-06-10T00:00:00Z"},
            },
            False,
        ),
        ({"property": "lastDeploy", "operator": "=", "value": {"preset": "last2Weeks"}}, True),
        ({"property": "$identifier", "operator": "beginsWith", "value": "orders"}, True),
        ({"property": "$title", "operator": "=", "value": "Orders API"}, True),
        ({"property": "$team", "operator": "containsAny", "value": ["payments"]}, True),
        ({"property": "$team", "operator": "isEmpty"}, False),
        ({"property": "$createdAt", "operator": "between", "value": {"preset": "lastWeek"}}, True),
        ({"relation": "database", "operator": "=", "value": "orders-db"}, True),
        ({"relation": "consumers", "operator": "isEmpty"}, True),
        ({"relation": "database", "operator": "in", "value": ["orders-db"]}, True),
    ],
)
def test_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert matches_condition(condition, ENTITY, now=NOW) is expected


@pytest.mark.parametrize(
    ("results", "level"),
    [
        ([], "Basic"),
        ([("Bronze", False)], "Basic"),
        ([("Bronze", True)], "Bronze"),
        ([("Bronze", True), ("Silver", True), ("Gold", True)], "Gold"),
        ([("Bronze", True), ("Silver", False), ("Gold", True)], "Bronze"),
        ([("Bronze", False), ("Silver", True), ("Gold", True)], "Basic"),
        ([("Bronze", True), ("Bronze", False), ("Silver", True)], "Basic"),
        ([("Bronze", True), ("Gold", True)], "Gold"),
        ([("Bronze", True), ("Gold", False)], "Bronze"),
        ([("Silver", True)], "Silver"),
    ],
)
def test_levels(results: list[tuple[str, bool]], level: str) -> None:
    assert reached_level(LEVELS, results) == level


def _rule(
    identifier: str, level: str, *conditions: dict[str, Any], combinator: str = "and"
) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "title": identifier,
        "level": level,
        "query": {"combinator": combinator, "conditions": list(conditions)},
    }


def test_a_scorecard_reports_each_rule_and_the_reached_level() -> None:
    scorecard = {
        "identifier": "readiness",
        "rules": [
            _rule("python", "Bronze", {"property": "language", "operator": "=", "value": "python"}),
            _rule(
                "scaled_or_public",
                "Silver",
                {"property": "replicas", "operator": ">", "value": 5},
                {"property": "public", "operator": "=", "value": True},
                combinator="or",
            ),
            _rule("tagged", "Gold", {"property": "tags", "operator": "isNotEmpty"}),
        ],
    }
    assert evaluate_scorecard(scorecard, ENTITY, now=NOW) == {
        "level": "Bronze",
        "rules": [
            {"identifier": "python", "status": "SUCCESS", "level": "Bronze"},
            {"identifier": "scaled_or_public", "status": "FAILURE", "level": "Silver"},
            {"identifier": "tagged", "status": "SUCCESS", "level": "Gold"},
        ],
    }


def test_custom_levels_are_ordered_as_given() -> None:
    scorecard = {
        "identifier": "maturity",
        "levels": [{"title": "Draft", "color": "lightGray"}, {"title": "Ready", "color": "green"}],
        "rules": [_rule("python", "Ready", {"property": "language", "operator": "=", "value": "python"})],
    }
    result = evaluate_scorecard(scorecard, ENTITY, now=NOW)
    assert result is not None
    assert result["level"] == "Ready"


def test_a_filter_leaves_other_entities_unevaluated() -> None:
    scorecard = {
        "identifier": "go_only",
        "filter": {
            "combinator": "and",
            "conditions": [{"property": "language", "operator": "=", "value": "go"}],
        },
        "rules": [_rule("any", "Bronze", {"property": "tags", "operator": "isNotEmpty"})],
    }
    assert evaluate_scorecard(scorecard, ENTITY, now=NOW) is None
    go_entity = {**ENTITY, "properties": {**ENTITY["properties"], "language": "go"}}
    result = evaluate_scorecard(scorecard, go_entity, now=NOW)
    assert result is not None
    assert result["level"] == "Bronze"
