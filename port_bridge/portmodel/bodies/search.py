"""Port's search rules: which entities an aggregation counts, an action shows on, an entity input offers.

The same rule language (Port's "search and query" syntax) appears in three places: an
aggregation property's ``query``, a DAY-2 or DELETE action's ``trigger.condition`` (which
entities show the action), and an entity input's ``dataset`` (which entities the form offers).
A dataset's values may also be ``{"jqQuery": ...}``, computed from the form when it is shown.

A query is ``{"combinator": "and"|"or", "rules": [...]}``; each rule is one of the kinds below,
or a query itself. The bodies refer to them through ``$defs`` (:data:`DEFS`), as a query nests.
"""

from __future__ import annotations

from port_bridge.portmodel.bodies.terms import (
    BOOLEAN,
    COMBINATOR,
    DATE_TIME,
    JQ_QUERY,
    NULL,
    NUMBER,
    STRING,
    Schema,
    any_of,
    choice,
    list_of,
    one_of,
    record,
)

QUERY: Schema = {"$ref": "#/$defs/search-query"}
RULE: Schema = {"$ref": "#/$defs/search-rule"}
DATASET: Schema = {"$ref": "#/$defs/dataset-query"}

DATE_PRESETS = (
    "today", "tomorrow", "yesterday", "lastDay", "lastWeek", "last2Weeks", "lastMonth",
    "last3Months", "last6Months", "last12Months",
)  # fmt: skip
COMPARISONS = (
    "=", "!=", "containsAny", "contains", "doesNotContains", "beginsWith", "doesNotBeginsWith",
    "endsWith", "doesNotEndsWith", "in", "notIn",
)  # fmt: skip

# The user running the action: one of their own properties, or their teams, stands for a value.
USERS_OWN = record(required={"property": STRING, "context": choice("user", "userTeams")}, closed=False)
_SUBJECT = one_of(STRING, USERS_OWN)
_RELATION_STEP = record(
    optional={"relation": STRING, "maxHops": {"type": "number", "minimum": 1, "maximum": 15}}, closed=False
)
_RELATION_PATH = record(
    required={"path": list_of(any_of(STRING, _RELATION_STEP))}, optional={"fromBlueprint": STRING}
)
_PROPERTY_SCHEMA = record(
    required={"type": STRING},
    optional={
        "format": STRING,
        "items": record(required={"type": STRING}, optional={"format": STRING}, closed=False),
    },
)


def _rules(*, jq: bool, query: str) -> Schema:
    """The kinds of rule; ``jq``: values may be computed with jq (datasets); ``query``: a nested query."""

    def value(*kinds: Schema) -> Schema:
        return any_of(*kinds, JQ_QUERY) if jq else any_of(*kinds)

    date_range = record(required={"from": DATE_TIME, "to": DATE_TIME}, closed=False)
    preset = record(required={"preset": choice(*DATE_PRESETS)}, closed=False)
    return any_of(
        record(  # a date in a range, or not
            required={
                "property": _SUBJECT,
                "operator": choice("between", "notBetween", "="),
                "value": one_of(date_range, preset, USERS_OWN),
            }
        ),
        record(required={"operator": choice("isEmpty", "isNotEmpty"), "property": STRING}),
        record(required={"operator": choice("isExpired", "isNotExpired"), "property": STRING}),
        record(
            required={
                "property": _SUBJECT,
                "operator": choice(">", ">=", "<", "<="),
                "value": value(NUMBER, DATE_TIME, USERS_OWN),
            }
        ),
        record(
            required={
                "property": _SUBJECT,
                "operator": choice(*COMPARISONS),
                "value": value(
                    NULL,
                    STRING,
                    NUMBER,
                    BOOLEAN,
                    list_of(STRING),
                    list_of(NUMBER),
                    list_of(BOOLEAN),
                    USERS_OWN,
                ),
            }
        ),
        record(  # entities related to the given ones
            required={
                "operator": choice("relatedTo"),
                "blueprint": STRING,
                "value": value(STRING, list_of(STRING)),
            },
            optional={"direction": choice("upstream", "downstream"), "required": BOOLEAN},
        ),
        record(  # properties of a kind (any property of type/format), rather than one property
            required={"operator": choice("=", "!=", "contains"), "propertySchema": _PROPERTY_SCHEMA},
            optional={"value": value(NULL, STRING, NUMBER, BOOLEAN)},
        ),
        record(  # a property reached through relations, matching any of the values
            required={
                "property": any_of(_RELATION_PATH, _SUBJECT),
                "operator": choice("matchAny"),
                "value": any_of(list_of(STRING), STRING, USERS_OWN),
            }
        ),
        {"$ref": f"#/$defs/{query}"},
    )


def _query(rule: str) -> Schema:
    return record(required={"combinator": COMBINATOR, "rules": list_of({"$ref": f"#/$defs/{rule}"})})


DEFS: dict[str, Schema] = {
    "search-query": _query("search-rule"),
    "search-rule": _rules(jq=False, query="search-query"),
    "dataset-query": _query("dataset-rule"),
    "dataset-rule": _rules(jq=True, query="dataset-query"),
}
