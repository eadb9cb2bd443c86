"""Scorecard evaluation as Port describes it (research/port.md §4.3), as pure functions.

A scorecard has ordered ``levels`` (default Basic, Bronze, Silver, Gold); the first is the base
level and owns no rules. Each rule belongs to a level and has a ``query`` of conditions joined by
``and``/``or``. An entity reaches a level only when it passes every rule of that level and of all
lower levels; the level it is shown at is the highest rule-owning level it reaches (levels without
rules are not granted for free), else the base level. ``filter`` limits which entities are
evaluated at all.

Choices where Port's docs are silent: a condition on a missing value is false for the positive
operators and true for their negations (``!=``, ``doesNotContains``, ``notBetween``...); ``not``
negates any condition; rule status is ``SUCCESS`` or ``FAILURE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_LEVELS: tuple[Mapping[str, str], ...] = (
    {"title": "Basic", "color": "paleBlue"},
    {"title": "Bronze", "color": "bronze"},
    {"title": "Silver", "color": "silver"},
    {"title": "Gold", "color": "gold"},
)
_META_PROPERTIES = {
    "$identifier": "identifier",
    "$title": "title",
    "$team": "team",
    "$icon": "icon",
    "$blueprint": "blueprint",
    "$createdAt": "createdAt",
    "$updatedAt": "updatedAt",
    "$createdBy": "createdBy",
    "$updatedBy": "updatedBy",
}
_PRESET_DAYS = {
    "lastDay": 1,
    "lastWeek": 7,
    "last2Weeks": 14,
    "lastMonth": 30,
    "last3Months": 90,
    "last6Months": 180,
    "last12Months": 365,
}
_CALENDAR_PRESETS = {"yesterday": -1, "today": 0, "tomorrow": 1}


def level_titles(scorecard: Mapping[str, Any]) -> list[str]:
    return [level["title"] for level in scorecard.get("levels") or DEFAULT_LEVELS]


def evaluate_scorecard(
    scorecard: Mapping[str, Any], entity: Mapping[str, Any], *, now: datetime
) -> dict[str, Any] | None:
    """The entity's result on ``scorecard``: ``{level, rules}``, or ``None`` if filtered out."""
    scorecard_filter = scorecard.get("filter")
    if scorecard_filter and not matches_query(scorecard_filter, entity, now=now):
        return None
    results = [(rule, matches_query(rule["query"], entity, now=now)) for rule in scorecard.get("rules", ())]
    levels = level_titles(scorecard)
    return {
        "level": reached_level(levels, [(rule["level"], passed) for rule, passed in results]),
        "rules": [
            {
                "identifier": rule["identifier"],
                "status": "SUCCESS" if passed else "FAILURE",
                "level": rule["level"],
            }
            for rule, passed in results
        ],
    }


def reached_level(levels: Sequence[str], results: Sequence[tuple[str, bool]]) -> str:
    """The highest rule-owning level whose rules, and all lower levels' rules, all passed."""
    rank = {title: index for index, title in enumerate(levels)}
    ranked = [(rank[level], passed) for level, passed in results if level in rank]
    ceiling = min((r for r, passed in ranked if not passed), default=len(levels))
    owned = [r for r, _ in ranked if r < ceiling]
    return levels[max(owned, default=0)]


def matches_query(query: Mapping[str, Any], entity: Mapping[str, Any], *, now: datetime) -> bool:
    outcomes = (matches_condition(c, entity, now=now) for c in query.get("conditions", ()))
    return all(outcomes) if query.get("combinator", "and") == "and" else any(outcomes)


def matches_condition(condition: Mapping[str, Any], entity: Mapping[str, Any], *, now: datetime) -> bool:
    if "combinator" in condition:
        return matches_query(condition, entity, now=now)
    operator = condition["operator"]
    positive, negated = _OPERATORS[operator]
    outcome = positive(_value_of(condition, entity), condition.get("value"), now)
    if negated:
        outcome = not outcome
    return not outcome if condition.get("not") else outcome


def _value_of(condition: Mapping[str, Any], entity: Mapping[str, Any]) -> Any:
    if "relation" in condition:
        return (entity.get("relations") or {}).get(condition["relation"])
    name = condition["property"]
    if name in _META_PROPERTIES:
        return entity.get(_META_PROPERTIES[name])
    return (entity.get("properties") or {}).get(name)


def _equals(actual: Any, expected: Any, now: datetime) -> bool:
    if isinstance(expected, Mapping):
        return _between(actual, expected, now)
    return actual is not None and actual == expected


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any, datetime], bool]:
    def check(actual: Any, expected: Any, now: datetime) -> bool:
        if _is_number(actual) and _is_number(expected):
            return compare(actual, expected)
        left, right = _as_datetime(actual), _as_datetime(expected)
        if left is not None and right is not None:
            return compare(left, right)
        return False

    return check


def _contains(actual: Any, expected: Any, now: datetime) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return expected in actual
    return isinstance(actual, list) and expected in actual


def _begins(actual: Any, expected: Any, now: datetime) -> bool:
    return isinstance(actual, str) and isinstance(expected, str) and actual.startswith(expected)


def _ends(actual: Any, expected: Any, now: datetime) -> bool:
    return isinstance(actual, str) and isinstance(expected, str) and actual.endswith(expected)


def _contains_any(actual: Any, expected: Any, now: datetime) -> bool:
    return isinstance(expected, list) and any(_contains(actual, item, now) for item in expected)


def _is_in(actual: Any, expected: Any, now: datetime) -> bool:
    if not isinstance(expected, list) or actual is None:
        return False
    if isinstance(actual, list):
        return any(item in expected for item in actual)
    return actual in expected


def _is_empty(actual: Any, expected: Any, now: datetime) -> bool:
    return actual is None or actual in ("", [], {})


def _between(actual: Any, expected: Any, now: datetime) -> bool:
    moment = _as_datetime(actual)
    window = _date_window(expected, now) if isinstance(expected, Mapping) else None
    return moment is not None and window is not None and window[0] <= moment <= window[1]


def _date_window(value: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime] | None:
    if "preset" in value:
        preset = value["preset"]
        if preset in _PRESET_DAYS:
            return now - timedelta(days=_PRESET_DAYS[preset]), now
        if preset in _CALENDAR_PRESETS:
            start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            start += timedelta(days=_CALENDAR_PRESETS[preset])
            return start, start + timedelta(days=1) - timedelta(microseconds=1)
        return None
    since, until = _as_datetime(value.get("from")), _as_datetime(value.get("to"))
    return (since, until) if since is not None and until is not None else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_Check = Callable[[Any, Any, datetime], bool]
_OPERATORS: Mapping[str, tuple[_Check, bool]] = {
    "=": (_equals, False),
    "!=": (_equals, True),
    ">": (_ordered(lambda a, b: a > b), False),
    "<": (_ordered(lambda a, b: a < b), False),
    ">=": (_ordered(lambda a, b: a >= b), False),
    "<=": (_ordered(lambda a, b: a <= b), False),
    "contains": (_contains, False),
    "doesNotContains": (_contains, True),
    "beginsWith": (_begins, False),
    "doesNotBeginsWith": (_begins, True),
    "endsWith": (_ends, False),
    "doesNotEndsWith": (_ends, True),
    "containsAny": (_contains_any, False),
    "in": (_is_in, False),
    "isEmpty": (_is_empty, False),
    "isNotEmpty": (_is_empty, True),
    "between": (_between, False),
    "notBetween": (_between, True),
}
OPERATORS = frozenset(_OPERATORS)
