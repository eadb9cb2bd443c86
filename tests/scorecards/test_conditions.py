"""Each operator of a scorecard condition, as a table written from Port's documented semantics.

Sources: docs.port.io scorecards/concepts-and-structure ("Available operators"),
search-and-query/operators/comparison-operators, and the spec's condition shapes; where the
docs are silent the expected value is the choice documented in port_bridge/scorecards/conditions.py
and dates.py. Every case goes through the public evaluator (a one-rule scorecard), never through
the Port emulator's own evaluator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from port_bridge.scorecards import evaluate, parse_scorecard

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
MISSING = object()


def outcome(condition: dict[str, Any], value: Any = MISSING, **entity: Any) -> bool:
    """Whether an entity whose property ``p`` is ``value`` (absent: MISSING) passes the condition."""
    scorecard = parse_scorecard(
        {
            "identifier": "s",
            "title": "S",
            "rules": [
                {
                    "identifier": "r",
                    "title": "R",
                    "level": "Bronze",
                    "query": {"combinator": "and", "conditions": [condition]},
                }
            ],
        },
        source="test",
    )
    properties = {} if value is MISSING else {"p": value}
    result = evaluate({"identifier": "e", "properties": properties, **entity}, scorecard, now=NOW)
    assert result is not None
    return result.rules[0].passed


def on_p(operator: str, value: Any = MISSING) -> dict[str, Any]:
    condition: dict[str, Any] = {"property": "p", "operator": operator}
    if value is not MISSING:
        condition["value"] = value
    return condition


EQUALITY = [
    ("=", "prod", "prod", True),
    ("=", "prod", "Prod", False),  # exact, so case-sensitive
    ("=", 3, 3.0, True),
    ("=", True, True, True),
    ("=", False, False, True),
    ("=", True, 1, False),  # a boolean is not a number
    ("=", 1, True, False),
    ("=", "3", 3, False),
    ("=", "prod", MISSING, False),
    ("=", "prod", None, False),
    ("=", ["a", "b"], ["a", "b"], True),
    ("=", ["a", "b"], ["b", "a"], False),
    ("=", "2025-06-01T10:00:00Z", "2025-06-01T12:00:00+02:00", True),  # the same moment
    ("=", "2025-06-01T10:00:00Z", "2025-06-01T10:00:01Z", False),
    ("!=", "dev", "prod", True),
    ("!=", "prod", "prod", False),
    ("!=", "dev", MISSING, True),  # the exact opposite of =
    ("!=", False, True, True),
    ("!=", False, False, False),
]


@pytest.mark.parametrize(("operator", "wanted", "actual", "expected"), EQUALITY)
def test_equality(operator: str, wanted: Any, actual: Any, expected: bool) -> None:
    assert outcome(on_p(operator, wanted), actual) is expected


ORDERING = [
    (">", 3, 5, True),
    (">", 3, 3, False),
    (">=", 3, 3, True),
    (">=", 3, 2.5, False),
    ("<", 3, 2, True),
    ("<", 3, 3, False),
    ("<=", 3, 3.0, True),
    ("<=", 3, 4, False),
    (">", 0.5, 0.75, True),
    (">", 3, "5", False),  # text is not a number
    (">", 0, True, False),  # nor is a boolean
    (">", 3, MISSING, False),
    ("<", 3, MISSING, False),
    ("<", "2025-06-01T00:00:00Z", "2025-01-01T00:00:00Z", True),  # date-times by time
    (">", "2025-06-01T00:00:00Z", "2025-01-01T00:00:00Z", False),
    (">=", "2025-06-01T02:00:00+02:00", "2025-06-01T00:00:00Z", True),
    (">", "b", "c", False),  # plain text is not ordered
]


@pytest.mark.parametrize(("operator", "wanted", "actual", "expected"), ORDERING)
def test_ordering(operator: str, wanted: Any, actual: Any, expected: bool) -> None:
    assert outcome(on_p(operator, wanted), actual) is expected


TEXT = [
    ("contains", "main", "postgres-main-1", True),
    ("contains", "Main", "postgres-main-1", False),  # case-sensitive
    ("contains", "234", 12345, True),  # numbers as their text
    ("contains", 23, 12345, True),
    ("contains", "5.0", 5, False),  # 5 reads as "5"
    ("contains", "a", ["a", "b"], True),  # a list: does it hold the value
    ("contains", "c", ["a", "b"], False),
    ("contains", "b", ["abc"], False),  # ... not a substring of an item
    ("contains", "x", MISSING, False),
    ("contains", "true", True, False),  # booleans are not text
    ("doesNotContains", "x", MISSING, True),
    ("doesNotContains", "b", "abc", False),
    ("doesNotContains", "z", "abc", True),
    ("doesNotContains", "c", ["a", "b"], True),
    ("beginsWith", "https://", "https://git.example.com", True),  # the property begins with the value
    ("beginsWith", "https", "x-https", False),
    ("beginsWith", "12", 123, True),
    ("beginsWith", "a", MISSING, False),
    ("beginsWith", "a", ["abc"], False),
    ("doesNotBeginsWith", "https", "x-https", True),
    ("doesNotBeginsWith", "x", "x-https", False),
    ("doesNotBeginsWith", "a", MISSING, True),
    ("endsWith", ".com", "svc.example.com", True),
    ("endsWith", ".com", "svc.example.org", False),
    ("endsWith", "3", 123, True),
    ("doesNotEndsWith", ".com", "svc.example.com", False),
    ("doesNotEndsWith", ".com", True, True),
]


@pytest.mark.parametrize(("operator", "wanted", "actual", "expected"), TEXT)
def test_text(operator: str, wanted: Any, actual: Any, expected: bool) -> None:
    assert outcome(on_p(operator, wanted), actual) is expected


MEMBERSHIP = [
    ("in", ["prod", "staging"], "prod", True),
    ("in", ["prod", "staging"], "dev", False),
    ("in", ["prod"], MISSING, False),
    ("in", ["data"], ["platform", "data"], True),  # a list property: any item
    ("in", ["3"], 3, False),  # strings and numbers differ
    ("containsAny", ["rust", "go"], ["go", "python"], True),
    ("containsAny", ["rust"], ["go", "python"], False),
    ("containsAny", ["go"], "go", True),  # one value reads as a list of one
    ("containsAny", ["go"], [], False),
    ("containsAny", ["go"], MISSING, False),
]


@pytest.mark.parametrize(("operator", "wanted", "actual", "expected"), MEMBERSHIP)
def test_membership(operator: str, wanted: Any, actual: Any, expected: bool) -> None:
    assert outcome(on_p(operator, wanted), actual) is expected


EMPTINESS = [
    (MISSING, True),
    (None, True),
    ("", True),
    ([], True),
    ({}, True),
    (False, False),  # a value, if a false one
    (0, False),
    (" ", False),
    ("x", False),
    (["x"], False),
    ({"k": "v"}, False),
]


@pytest.mark.parametrize(("actual", "empty"), EMPTINESS)
def test_emptiness_and_its_not(actual: Any, empty: bool) -> None:
    assert outcome(on_p("isEmpty"), actual) is empty
    assert outcome(on_p("isNotEmpty"), actual) is not empty
    assert outcome({**on_p("isEmpty"), "not": True}, actual) is not empty
    assert outcome({**on_p("isNotEmpty"), "not": True}, actual) is empty
    assert outcome({**on_p("isEmpty"), "not": False}, actual) is empty


# NOW is 2025-06-15T12:00:00Z.
DATES = [
    ({"from": "2025-06-01T00:00:00Z", "to": "2025-06-10T00:00:00Z"}, "2025-06-05T08:00:00Z", True),
    ({"from": "2025-06-01T00:00:00Z", "to": "2025-06-10T00:00:00Z"}, "2025-06-01T00:00:00Z", True),  # closed
    ({"from": "2025-06-01T00:00:00Z", "to": "2025-06-10T00:00:00Z"}, "2025-06-10T00:00:00Z", True),
    ({"from": "2025-06-01T00:00:00Z", "to": "2025-06-10T00:00:00Z"}, "2025-06-10T00:00:01Z", False),
    ({"from": "2025-06-01T00:00:00Z", "to": "2025-06-10T00:00:00Z"}, "2025-06-10T01:00:00+02:00", True),
    ({"preset": "lastWeek"}, "2025-06-10T00:00:00Z", True),
    ({"preset": "lastWeek"}, "2025-06-08T12:00:00Z", True),  # now - 7 days belongs
    ({"preset": "lastWeek"}, "2025-06-08T11:59:59Z", False),
    ({"preset": "lastWeek"}, "2025-06-15T12:00:01Z", False),  # the future is not the past week
    ({"preset": "lastDay"}, "2025-06-14T12:00:00Z", True),
    ({"preset": "lastDay"}, "2025-06-14T11:00:00Z", False),
    ({"preset": "last2Weeks"}, "2025-06-01T12:00:00Z", True),
    ({"preset": "lastMonth"}, "2025-05-16T12:00:00Z", True),  # 30 days
    ({"preset": "lastMonth"}, "2025-05-16T11:59:00Z", False),
    ({"preset": "last3Months"}, "2025-03-17T12:00:00Z", True),  # 90 days
    ({"preset": "last3Months"}, "2025-03-17T11:00:00Z", False),
    ({"preset": "last6Months"}, "2024-12-17T12:00:00Z", True),  # 180 days
    ({"preset": "last12Months"}, "2024-06-15T12:00:00Z", True),  # 365 days
    ({"preset": "last12Months"}, "2024-06-15T11:00:00Z", False),
    ({"preset": "last2Years"}, "2023-06-16T12:00:00Z", True),  # 730 days
    ({"preset": "last3Years"}, "2022-06-15T11:00:00Z", False),  # 1095 days: 2022-06-16T12:00
    ({"preset": "today"}, "2025-06-15T00:00:00Z", True),  # the UTC calendar day
    ({"preset": "today"}, "2025-06-15T23:59:59Z", True),
    ({"preset": "today"}, "2025-06-16T00:00:00Z", False),
    ({"preset": "today"}, "2025-06-15T01:00:00+02:00", False),  # 2025-06-14T23:00Z
    ({"preset": "yesterday"}, "2025-06-15T01:00:00+02:00", True),
    ({"preset": "today"}, "2025-06-15", True),  # a date alone is its midnight
    ({"preset": "tomorrow"}, "2025-06-16T08:00:00Z", True),
    ({"preset": "tomorrow"}, "2025-06-15T23:00:00Z", False),
    ({"preset": "next2Weeks"}, "2025-06-29T12:00:00Z", True),
    ({"preset": "next2Weeks"}, "2025-06-29T12:00:01Z", False),
    ({"preset": "nextDay"}, "2025-06-15T11:00:00Z", False),  # the past is not the next day
    ({"preset": "lastWeek"}, MISSING, False),
    ({"preset": "lastWeek"}, "soon", False),  # not a date-time
    ({"preset": "lastWeek"}, 1749988800, False),  # epoch numbers are not date-times
]


@pytest.mark.parametrize(("value", "actual", "inside"), DATES)
def test_date_ranges(value: dict[str, str], actual: Any, inside: bool) -> None:
    assert outcome(on_p("between", value), actual) is inside
    assert outcome(on_p("notBetween", value), actual) is not inside
    assert outcome(on_p("=", value), actual) is inside  # = with a range is between


def test_meta_properties_read_the_entity_not_its_properties() -> None:
    entity = {
        "title": "Orders DB",
        "team": [],
        "blueprint": "postgresql",
        "createdAt": "2025-06-14T09:00:00Z",
        "updatedAt": "2025-01-01T00:00:00Z",
        "createdBy": "alice@example.com",
        "icon": "Postgres",
    }
    cases: list[tuple[dict[str, Any], bool]] = [
        ({"property": "$identifier", "operator": "=", "value": "e"}, True),
        ({"property": "$title", "operator": "contains", "value": "Orders"}, True),
        ({"property": "$team", "operator": "isEmpty"}, True),
        ({"property": "team", "operator": "isNotEmpty"}, False),  # a property "team" is not $team ...
        ({"property": "p", "operator": "=", "value": "team-a"}, True),  # ... and "p" is not a meta-property
        ({"property": "$blueprint", "operator": "=", "value": "postgresql"}, True),
        ({"property": "$createdAt", "operator": "between", "value": {"preset": "lastWeek"}}, True),
        ({"property": "$updatedAt", "operator": "between", "value": {"preset": "lastWeek"}}, False),
        ({"property": "$createdBy", "operator": "endsWith", "value": "@example.com"}, True),
        ({"property": "$updatedBy", "operator": "isEmpty"}, True),
        ({"property": "$icon", "operator": "=", "value": "Postgres"}, True),
        ({"property": "$identifier", "operator": "=", "value": "team-a"}, False),
    ]
    for condition, expected in cases:
        assert outcome(condition, "team-a", **entity) is expected, condition
    assert outcome({"property": "$team", "operator": "contains", "value": "platform"}, team=["platform"])
    assert outcome({"property": "$team", "operator": "in", "value": ["data", "platform"]}, team=["platform"])


RELATIONS = [
    ({"relation": "database", "operator": "=", "value": "orders-db"}, {"database": "orders-db"}, True),
    ({"relation": "database", "operator": "!=", "value": "orders-db"}, {"database": "carts-db"}, True),
    (
        {"relation": "database", "operator": "in", "value": ["orders-db", "x"]},
        {"database": "orders-db"},
        True,
    ),
    ({"relation": "database", "operator": "isEmpty"}, {"database": None}, True),
    ({"relation": "database", "operator": "isEmpty"}, {}, True),
    ({"relation": "database", "operator": "isNotEmpty"}, {"database": "orders-db"}, True),
    ({"relation": "database", "operator": "isEmpty", "not": True}, {"database": "orders-db"}, True),
    ({"relation": "database", "operator": "beginsWith", "value": "orders"}, {"database": "orders-db"}, True),
    (
        {"relation": "dependencies", "operator": "contains", "value": "auth"},
        {"dependencies": ["auth", "cart"]},
        True,
    ),
    ({"relation": "dependencies", "operator": "contains", "value": "au"}, {"dependencies": ["auth"]}, False),
    (
        {"relation": "dependencies", "operator": "containsAny", "value": ["x", "cart"]},
        {"dependencies": ["cart"]},
        True,
    ),
    ({"relation": "dependencies", "operator": "isEmpty"}, {"dependencies": []}, True),
    ({"relation": "dependencies", "operator": "isNotEmpty"}, {"dependencies": ["auth"]}, True),
    ({"relation": "p", "operator": "isEmpty"}, {}, True),  # a relation is not the property of that name
]


@pytest.mark.parametrize(("condition", "relations", "expected"), RELATIONS)
def test_relations(condition: dict[str, Any], relations: dict[str, Any], expected: bool) -> None:
    assert outcome(condition, "a value of the property p", relations=relations) is expected


def two_conditions(combinator: str, first: bool, second: bool) -> bool:
    scorecard = parse_scorecard(
        {
            "identifier": "s",
            "title": "S",
            "rules": [
                {
                    "identifier": "r",
                    "title": "R",
                    "level": "Bronze",
                    "query": {
                        "combinator": combinator,
                        "conditions": [
                            {"property": "a", "operator": "=", "value": True},
                            {"property": "b", "operator": "=", "value": True},
                        ],
                    },
                }
            ],
        },
        source="test",
    )
    result = evaluate({"identifier": "e", "properties": {"a": first, "b": second}}, scorecard, now=NOW)
    assert result is not None
    [rule] = result.rules
    assert [c.passed for c in rule.conditions] == [first, second]  # both read, whatever the first gave
    assert [c.actual for c in rule.failing] == [False] * (2 - first - second)
    return rule.passed


@pytest.mark.parametrize(("first", "second"), [(True, True), (True, False), (False, True), (False, False)])
def test_combinators(first: bool, second: bool) -> None:
    assert two_conditions("and", first, second) is (first and second)
    assert two_conditions("or", first, second) is (first or second)
