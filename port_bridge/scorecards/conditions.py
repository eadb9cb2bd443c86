"""What each operator of a scorecard condition means, as one pure function of a value.

Port documents the operators briefly (docs: scorecards/concepts-and-structure "Available
operators", search-and-query/operators/comparison-operators); these are its meanings, and the
choices made where its docs are silent:

- ``=`` is exact equality of JSON values: ``1`` equals ``1.0``, ``true`` is not ``1``, a list equals
  a list with the same items in the same order, and two date-time strings are equal when they
  name the same moment. With a date range as its value, ``=`` is ``between`` (Port's spec allows it).
- ``>``, ``<``, ``>=``, ``<=`` order numbers, or date-time strings by time; anything else (a
  missing value, text, a boolean) fails.
- ``contains`` looks for the value's text inside a string or number property ("String, Number"
  in Port's table), case-sensitively; on a list (a ``many`` relation, ``$team``, an array
  property) it asks whether the list holds the value. ``beginsWith`` and ``endsWith`` look at the
  start and end of a string or number's text (the search docs' reading: the *property* begins with
  the value; the scorecard table's wording has the two swapped).
- ``containsAny`` and ``in`` (array values) ask whether the property, or any item of a list
  property, equals any of the values.
- ``isEmpty`` holds for a missing or null value, ``""``, ``[]`` and ``{}``; ``false`` and ``0`` are
  values, not empty. ``isNotEmpty`` is its opposite, and ``not: true`` turns either around.
- ``between`` asks whether a date-time lies in the range (see :mod:`.dates`).
- Every negative operator (``!=``, ``doesNotContains``, ``doesNotBeginsWith``,
  ``doesNotEndsWith``, ``notBetween``) is exactly the opposite of its positive one. So a missing
  value fails every positive comparison and passes every negative one: a service without an
  ``environment`` is not ``= prod`` and is ``!= dev``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from port_bridge.scorecards.dates import as_utc, parse_instant, preset_range
from port_bridge.scorecards.model import Condition, DatePreset, DateRange

_NEGATIONS = {
    "!=": "=",
    "doesNotContains": "contains",
    "doesNotBeginsWith": "beginsWith",
    "doesNotEndsWith": "endsWith",
    "notBetween": "between",
}


def holds(condition: Condition, actual: Any, *, now: datetime) -> bool:
    """Whether ``actual`` (the entity's value of the condition's subject) passes the condition."""
    operator = condition.operator
    if operator in ("isEmpty", "isNotEmpty"):
        return (is_empty(actual) == (operator == "isEmpty")) != condition.negate
    positive = _NEGATIONS.get(operator)
    if positive is not None:
        return not _POSITIVE[positive](actual, condition.value, now)
    return _POSITIVE[operator](actual, condition.value, now)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def equals(left: Any, right: Any) -> bool:
    """Equality of JSON values, types respected (a boolean is not a number)."""
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, bool) and isinstance(right, bool):
        return left is right
    if isinstance(left, str) and isinstance(right, str):
        return left == right or _same_moment(left, right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equals(a, b) for a, b in zip(left, right, strict=True))
    return False


def _equal(actual: Any, value: Any, now: datetime) -> bool:
    if isinstance(value, DateRange | DatePreset):
        return _between(actual, value, now)
    return equals(actual, value)


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any, datetime], bool]:
    def compare(actual: Any, value: Any, now: datetime) -> bool:
        if _is_number(actual) and _is_number(value):
            return test(actual, value)
        moments = parse_instant(actual), parse_instant(value)
        if moments[0] is not None and moments[1] is not None:
            return test(*moments)
        return False

    return compare


def _contains(actual: Any, value: Any, now: datetime) -> bool:
    if isinstance(actual, list):
        return any(equals(item, value) for item in actual)
    text, part = _text(actual), _text(value)
    return text is not None and part is not None and part in text


def _begins(actual: Any, value: Any, now: datetime) -> bool:
    text, part = _text(actual), _text(value)
    return text is not None and part is not None and text.startswith(part)


def _ends(actual: Any, value: Any, now: datetime) -> bool:
    text, part = _text(actual), _text(value)
    return text is not None and part is not None and text.endswith(part)


def _any_of(actual: Any, values: Any, now: datetime) -> bool:
    items = actual if isinstance(actual, list) else [] if is_empty(actual) else [actual]
    return any(equals(item, candidate) for item in items for candidate in values)


def _between(actual: Any, value: Any, now: datetime) -> bool:
    moment = parse_instant(actual)
    if moment is None:
        return False
    if isinstance(value, DatePreset):
        first, last = preset_range(value.preset, now)
    else:
        first, last = as_utc(value.start), as_utc(value.end)
    return first <= moment <= last


_POSITIVE: dict[str, Callable[[Any, Any, datetime], bool]] = {
    "=": _equal,
    ">": _ordered(lambda a, b: a > b),
    "<": _ordered(lambda a, b: a < b),
    ">=": _ordered(lambda a, b: a >= b),
    "<=": _ordered(lambda a, b: a <= b),
    "contains": _contains,
    "beginsWith": _begins,
    "endsWith": _ends,
    "containsAny": _any_of,
    "in": _any_of,
    "between": _between,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    """A string, or a number's JSON text (``3``, ``2.5``); ``None`` for anything else."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return None


def _same_moment(left: str, right: str) -> bool:
    moments = parse_instant(left), parse_instant(right)
    return moments[0] is not None and moments[0] == moments[1]
