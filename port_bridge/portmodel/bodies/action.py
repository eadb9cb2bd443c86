"""What Port takes as a self-service action (``POST /v1/actions``): its trigger, form and backend.

port-bridge serves self-service actions only (:mod:`port_bridge.mapping.actions` reads no other),
so an automation trigger, which Port also takes here, is refused. An input of the form is JSON
Schema of the platform team's (``default``, ``enum``, ``pattern``, ``maxLength``...), so only the
fields Port reads (``type``, ``format``, ``visible``, ``dataset``...) are checked there.
"""

from __future__ import annotations

from port_bridge.portmodel.bodies import search
from port_bridge.portmodel.bodies.terms import (
    ACTION_IDENTIFIER,
    BOOLEAN,
    COMBINATOR,
    JQ_QUERY,
    NULL,
    OBJECT,
    OBJECT_OR_ARRAY,
    PROPERTY_TYPES,
    STRING,
    Schema,
    any_of,
    choice,
    key,
    keyed,
    list_of,
    matching,
    one_of,
    record,
    refused,
    tagged,
    text,
    values_of,
)

INPUT_FORMATS = (
    "date-time", "url", "email", "ipv4", "ipv6", "yaml", "entity", "user", "team", "proto",
    "markdown", "multi-line", "labeled-url",
)  # fmt: skip

_VISIBLE = one_of(BOOLEAN, JQ_QUERY)
_INPUT_NAME = key(max_length=None)
INPUT = record(
    required={"type": choice(*PROPERTY_TYPES)},
    optional={
        "format": choice(*INPUT_FORMATS),
        "blueprint": STRING,  # the entities an entity input offers
        "dataset": search.DATASET,  # ... narrowed down
        "sort": record(required={"property": STRING, "order": choice("ASC", "DESC")}, closed=False),
        "dependsOn": list_of(STRING),
        "visible": _VISIBLE,
        "icon": STRING,
        "jqQuery": NULL,  # a computed default is {"default": {"jqQuery": ...}}, not here
    },
    closed=False,
)
_STEP = record(required={"title": STRING}, optional={"order": list_of(STRING), "visible": _VISIBLE})
USER_INPUTS: Schema = {
    **record(
        required={"properties": keyed(INPUT, names=_INPUT_NAME)},
        optional={
            "required": one_of(JQ_QUERY, list_of(STRING)),
            "titles": keyed(  # titles between the inputs of the form
                record(
                    optional={
                        "title": text(min_length=1, max_length=140),
                        "description": text(max_length=1000),
                        "visible": _VISIBLE,
                    },
                    closed=False,
                ),
                names=_INPUT_NAME,
            ),
            "order": list_of(STRING),
            "steps": list_of(_STEP),
        },
    ),
    "dependentSchemas": {
        "order": {
            "properties": {"steps": refused("give order or steps, not both (each step has its own order)")}
        }
    },
}

_BUTTON_TEXT = matching(
    r"\S.*\S", "Port's rule for button texts (2 or more characters, no space at either end)", max_length=15
)
CONDITION = record(  # which entities the action shows on
    required={"type": choice("SEARCH"), "combinator": COMBINATOR, "rules": list_of(search.RULE)}
)
TRIGGER: Schema = {
    **record(
        required={
            "type": choice("self-service"),
            "operation": choice("CREATE", "DAY-2", "DELETE"),
            "userInputs": USER_INPUTS,
        },
        optional={
            "blueprintIdentifier": STRING,
            "condition": CONDITION,
            "actionCardButtonText": _BUTTON_TEXT,
            "executeActionButtonText": _BUTTON_TEXT,
        },
    ),
    "dependentRequired": {
        "condition": ["blueprintIdentifier"]
    },  # a condition selects the blueprint's entities
    "if": {"required": ["operation"], "properties": {"operation": {"const": "CREATE"}}},
    "then": {
        "properties": {
            "condition": refused("a CREATE action has no entity to select: condition is for DAY-2 and DELETE")
        }
    },
}

_FLAG = one_of(BOOLEAN, STRING)  # true/false, or a template that gives one
INVOCATION_METHOD = tagged(
    "type",
    {
        "WEBHOOK": record(
            required={"url": STRING},
            optional={
                "agent": _FLAG,
                "synchronized": _FLAG,
                "method": STRING,
                "headers": values_of(STRING),
                "body": OBJECT_OR_ARRAY,
            },
        ),
        "GITHUB": record(
            required={"org": STRING, "repo": STRING, "workflow": STRING},
            optional={"workflowInputs": OBJECT, "reportWorkflowStatus": _FLAG},
        ),
        "GITLAB": record(
            required={"projectName": STRING, "groupName": STRING},
            optional={"defaultRef": STRING, "pipelineVariables": OBJECT},
        ),
        "AZURE_DEVOPS": record(
            required={"webhook": STRING, "org": STRING}, optional={"payload": OBJECT_OR_ARRAY}
        ),
        "KAFKA": record(optional={"payload": OBJECT_OR_ARRAY}),
        "INTEGRATION_ACTION": record(
            required={
                "installationId": STRING,
                "integrationActionType": choice("dispatch_workflow"),
                "integrationActionExecutionProperties": OBJECT,
            }
        ),
        "UPSERT_ENTITY": record(
            required={
                "blueprintIdentifier": STRING,
                "mapping": record(
                    optional={
                        "identifier": STRING,
                        "title": STRING,
                        "icon": STRING,
                        "team": one_of(STRING, list_of(STRING)),
                        "properties": OBJECT,
                        "relations": values_of(any_of(STRING, list_of(STRING), NULL)),
                    },
                    closed=False,
                ),
            }
        ),
    },
)

ACTION: Schema = {
    **record(
        required={"identifier": ACTION_IDENTIFIER, "trigger": TRIGGER, "invocationMethod": INVOCATION_METHOD},
        optional={
            "title": STRING,
            "icon": STRING,
            "description": STRING,
            "requiredApproval": one_of(BOOLEAN, record(required={"type": choice("ANY", "ALL")})),
            "approvalNotification": tagged(
                "type",
                {
                    "email": record(),
                    "webhook": record(required={"url": STRING}, optional={"format": choice("json", "slack")}),
                },
            ),
            "publish": BOOLEAN,
            "allowAnyoneToViewRuns": BOOLEAN,
        },
    ),
    "$defs": search.DEFS,
}
