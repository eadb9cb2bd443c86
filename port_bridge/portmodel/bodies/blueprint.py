"""What Port takes as a blueprint (``POST /v1/blueprints``): its properties, relations and the rest.

A blueprint's own top level is open: Port lets a body carry fields it does not know. Inside,
most objects are closed, but a property of ``schema.properties`` is JSON Schema of the platform
team's (``enum``, ``enumColors``, ``default``, ``minimum``...), so only the fields Port reads
(``type``, ``format``, ``title``...) are checked there.
"""

from __future__ import annotations

from port_bridge.portmodel.bodies import search
from port_bridge.portmodel.bodies.terms import (
    BLUEPRINT_IDENTIFIER,
    BOOLEAN,
    COLORS,
    PROPERTY_TYPES,
    STRING,
    Schema,
    choice,
    key,
    keyed,
    list_of,
    matching,
    one_of,
    record,
    tagged,
    text,
    values_of,
)

FORMATS = (
    "date-time", "url", "email", "idn-email", "ipv4", "ipv6", "markdown", "yaml", "user",
    "blueprints", "team", "timer", "proto", "labeled-url",
)  # fmt: skip
CALCULATED_FORMATS = tuple(f for f in FORMATS if f not in ("blueprints", "timer"))
# The items of a calculated array: Port's spec spells idn-email "idn-format" here (port-bridge follows it).
CALCULATED_ITEM_FORMATS = tuple("idn-format" if f == "idn-email" else f for f in FORMATS if f != "blueprints")
SPECS = ("open-api", "embedded-url", "async-api")

_TITLE = text(max_length=100)
_NAME = key(max_length=100)  # of a property, relation, calculation, mirror or aggregation
_SPEC_AUTHENTICATION = record(  # the OAuth client that shows an embedded-url spec
    required={"clientId": STRING, "authorizationUrl": STRING, "tokenUrl": STRING},
    optional={"authorizationScope": list_of(STRING)},
)
_DESCRIBED = {"title": _TITLE, "description": STRING, "icon": STRING}

PROPERTY = record(
    required={"type": choice(*PROPERTY_TYPES)},
    optional={
        **_DESCRIBED,
        "format": choice(*FORMATS),
        "spec": choice(*SPECS),
        "specAuthentication": _SPEC_AUTHENTICATION,
    },
    closed=False,
)

CALCULATION = record(  # a property computed by jq from the entity
    required={"calculation": STRING, "type": choice(*PROPERTY_TYPES)},
    optional={
        **_DESCRIBED,
        "format": choice(*CALCULATED_FORMATS),
        "spec": choice(*SPECS),
        "specAuthentication": _SPEC_AUTHENTICATION,
        "colorized": BOOLEAN,
        "colors": values_of(choice(*COLORS)),
        "items": record(
            optional={"type": choice(*PROPERTY_TYPES), "format": choice(*CALCULATED_ITEM_FORMATS)},
            closed=False,
        ),
    },
)

MIRROR = record(  # a property of a related entity: relation.relation...property
    required={
        "path": matching(
            r"(?:[A-Za-z0-9@_=$-]+\.)+[^.]+",
            "Port's rule for mirror paths (relation identifiers and a property, separated by dots)",
        )
    },
    optional={"title": _TITLE},
)

_PERIOD = choice("hour", "day", "week", "month", "total")
_AGGREGATE = one_of(  # what an aggregation computes over the related entities
    record(required={"func": choice("count"), "calculationBy": choice("entities")}),
    record(
        required={"func": choice("average"), "calculationBy": choice("entities"), "averageOf": _PERIOD},
        optional={"measureTimeBy": STRING},
    ),
    record(
        required={
            "func": choice("sum", "min", "max", "median"),
            "calculationBy": choice("property"),
            "property": STRING,
        }
    ),
    record(
        required={
            "func": choice("average"),
            "calculationBy": choice("property"),
            "property": STRING,
            "averageOf": _PERIOD,
        },
        optional={"measureTimeBy": STRING},
    ),
)
AGGREGATION = record(
    required={"title": _TITLE, "target": STRING, "calculationSpec": _AGGREGATE},
    optional={
        "description": STRING,
        "icon": STRING,
        "type": choice("number"),
        "query": search.QUERY,
        "pathFilter": list_of(
            record(required={"path": list_of(STRING, min_items=1)}, optional={"fromBlueprint": STRING}),
            max_items=1,
        ),
    },
)

RELATION = record(
    required={"target": STRING, "required": BOOLEAN, "many": BOOLEAN},
    optional={"title": _TITLE, "description": STRING, "type": STRING},
)

OWNERSHIP = tagged(  # which team owns an entity: its own (Direct), or a related entity's
    "type",
    {
        "Direct": record(optional={"title": _TITLE}),
        "Inherited": record(required={"path": STRING}, optional={"title": _TITLE}),
    },
)

CHANGELOG_DESTINATION = tagged(
    "type",
    {"WEBHOOK": record(required={"url": STRING}, optional={"agent": BOOLEAN}), "KAFKA": record()},
)

BLUEPRINT: Schema = {
    **record(
        required={
            "identifier": BLUEPRINT_IDENTIFIER,
            "title": text(min_length=1, max_length=100),
            "schema": record(
                required={"properties": keyed(PROPERTY, names=_NAME)},
                optional={"required": list_of(STRING)},
            ),
        },
        optional={
            "description": text(max_length=200),
            "icon": STRING,
            "ownership": OWNERSHIP,
            "calculationProperties": keyed(CALCULATION, names=_NAME),
            "mirrorProperties": keyed(MIRROR, names=_NAME),
            "aggregationProperties": keyed(AGGREGATION, names=_NAME),
            "relations": keyed(RELATION, names=_NAME),
            "changelogDestination": CHANGELOG_DESTINATION,
        },
        closed=False,
    ),
    "$defs": search.DEFS,
}
