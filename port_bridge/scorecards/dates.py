"""Dates in scorecard conditions: reading an entity's date-time value and Port's preset ranges.

Port documents the presets by name and meaning only ("lastWeek - In the past week", "lastMonth -
In the past 30 days"; docs: search-and-query/operators/comparison-operators, "between"). Chosen
here where the docs are silent, and relied on by the tests:

- every range is closed: both ends belong to it (``{from, to}`` as well as presets);
- ``lastN`` is ``[now - N, now]`` and ``nextN`` is ``[now, now + N]``, with a day of 24 hours, a
  week of 7 days, a month of 30, 3/6/12 months of 90/180/365 and 2/3 years of 730/1095 days;
- ``today``, ``yesterday`` and ``tomorrow`` are whole calendar days in UTC (Port's UI may use the
  viewer's time zone; a batch evaluation has no viewer);
- a value is a date-time when it is an ISO 8601 string (``2024-05-01T12:00:00Z``; a date alone is
  its midnight); one without a time zone is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal, get_args

Preset = Literal[
    "today",
    "tomorrow",
    "yesterday",
    "lastDay",
    "lastWeek",
    "last2Weeks",
    "lastMonth",
    "last3Months",
    "last6Months",
    "last12Months",
    "last2Years",
    "last3Years",
    "nextDay",
    "nextWeek",
    "next2Weeks",
    "nextMonth",
    "next3Months",
    "next6Months",
    "next12Months",
]
PRESETS: tuple[str, ...] = get_args(Preset)
_SPAN_DAYS = {"Day": 1, "Week": 7, "2Weeks": 14, "Month": 30, "3Months": 90, "6Months": 180}
_SPAN_DAYS |= {"12Months": 365, "2Years": 730, "3Years": 1095}
_CALENDAR_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_LAST_MOMENT = timedelta(microseconds=1)


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_instant(value: Any) -> datetime | None:
    """The moment an ISO 8601 string names, in UTC; ``None`` for anything else."""
    if not isinstance(value, str) or not value[:4].isdigit():
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def preset_range(preset: Preset, now: datetime) -> tuple[datetime, datetime]:
    """The closed range ``(first, last)`` a preset names at ``now``."""
    now = as_utc(now)
    if preset in _CALENDAR_DAYS:
        day = datetime.combine(now.date(), time(), tzinfo=UTC) + timedelta(days=_CALENDAR_DAYS[preset])
        return day, day + timedelta(days=1) - _LAST_MOMENT
    if preset.startswith("last"):
        return now - timedelta(days=_SPAN_DAYS[preset.removeprefix("last")]), now
    return now, now + timedelta(days=_SPAN_DAYS[preset.removeprefix("next")])
