"""What Port takes as a scorecard (``POST /v1/blueprints/{blueprint}/scorecards``): levels and rules.

A rule's conditions are Port's older condition language (``{property|relation, operator,
value}``), not the search rules of :mod:`.search`. Rules, levels and most conditions are open
objects in Port's API; the scorecard itself is closed. That a rule's ``level`` is one of the
scorecard's levels (Port's default levels when it has none) and not the first is checked with
the other references, by :mod:`port_bridge.portmodel.checks`.
"""

from __future__ import annotations

from port_bridge.portmodel.bodies.terms import (
    BOOLEAN,
    COLORS,
    COMBINATOR,
    DATE_TIME,
    NUMBER,
    SCORECARD_IDENTIFIER,
    STRING,
    Schema,
    any_of,
    choice,
    key,
    list_of,
    one_of,
    record,
)

DATE_PRESETS = (
    "today", "tomorrow", "yesterday", "lastWeek", "last2Weeks", "lastMonth", "last3Months",
    "last6Months", "last12Months",
)  # fmt: skip
COMPARISONS = (
    "=", "!=", ">", "<", ">=", "<=", "contains", "doesNotContains", "beginsWith", "doesNotBeginsWith",
    "endsWith", "doesNotEndsWith",
)  # fmt: skip


def _on(subject: str) -> list[Schema]:
    """The conditions on a ``subject`` ("property" or "relation") of the entity."""
    return [
        record(
            required={subject: STRING, "operator": choice("containsAny", "in"), "value": list_of(STRING)},
            closed=False,
        ),
        record(
            required={
                subject: STRING,
                "operator": choice(*COMPARISONS),
                "value": one_of(STRING, NUMBER, BOOLEAN, list_of(STRING)),
            },
            closed=False,
        ),
        record(
            required={subject: STRING, "operator": choice("isEmpty", "isNotEmpty")},
            optional={"not": BOOLEAN},
            closed=False,
        ),
    ]


CONDITION = any_of(
    record(  # a date property in a range (the only closed condition)
        required={
            "property": STRING,
            "operator": choice("between", "notBetween", "="),
            "value": one_of(
                record(required={"from": DATE_TIME, "to": DATE_TIME}, closed=False),
                record(required={"preset": choice(*DATE_PRESETS)}, closed=False),
            ),
        }
    ),
    *_on("property"),
    *_on("relation"),
)
QUERY = record(
    required={"combinator": COMBINATOR, "conditions": list_of(CONDITION, min_items=1)}, closed=False
)

RULE = record(
    required={"identifier": key(max_length=100), "title": STRING, "level": STRING, "query": QUERY},
    optional={"description": STRING},
    closed=False,
)
LEVEL = record(required={"title": STRING, "color": choice(*COLORS)}, closed=False)

SCORECARD: Schema = record(
    required={"identifier": SCORECARD_IDENTIFIER, "title": STRING, "rules": list_of(RULE)},
    optional={
        "levels": list_of(LEVEL),
        "filter": QUERY,  # which of the blueprint's entities the scorecard rates
        "properties": {"type": "object", "propertyNames": key(max_length=None)},
    },
)
