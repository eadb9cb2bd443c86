"""Bodies Port takes that use what the project's own files do not, for the checks' oracle to mutate.

The project's blueprints, actions and scorecards use a few of Port's fields; these use the
rest: ownership, calculation, mirror and aggregation properties, a changelog destination; every
invocation method, conditions, datasets, steps, titles, approvals; scorecard filters and every
kind of condition. Each must pass Port's spec and the product's checks (test_schema.py).
"""

from __future__ import annotations

import copy
from typing import Any

Json = dict[str, Any]

SEARCH_RULES: list[Json] = [
    {"property": "$createdAt", "operator": "between", "value": {"preset": "lastWeek"}},
    {
        "property": "$updatedAt",
        "operator": "notBetween",
        "value": {"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00+02:00"},
    },
    {"property": "owner", "operator": "isNotEmpty"},
    {"property": "deadline", "operator": "isNotExpired"},
    {"property": "size", "operator": ">=", "value": 3},
    {"property": "since", "operator": "<", "value": "2024-01-01T00:00:00Z"},
    {"property": "$team", "operator": "containsAny", "value": ["platform", "data"]},
    {"property": {"property": "$team", "context": "userTeams"}, "operator": "=", "value": "x"},
    {"property": "tier", "operator": "in", "value": ["critical", "standard"]},
    {
        "operator": "relatedTo",
        "blueprint": "team",
        "value": ["platform"],
        "direction": "upstream",
        "required": True,
    },
    {"operator": "=", "propertySchema": {"type": "string", "format": "user"}, "value": "someone@example.com"},
    {
        "property": {"path": ["team", {"relation": "parent", "maxHops": 3}], "fromBlueprint": "service"},
        "operator": "matchAny",
        "value": ["platform"],
    },
    {"combinator": "or", "rules": [{"property": "$blueprint", "operator": "=", "value": "service"}]},
]
SEARCH_QUERY: Json = {"combinator": "and", "rules": SEARCH_RULES}
DATASET: Json = {
    "combinator": "and",
    "rules": [
        *SEARCH_RULES,
        {"property": "region", "operator": "=", "value": {"jqQuery": ".form.region"}},
        {"operator": "relatedTo", "blueprint": "environment", "value": {"jqQuery": ".form.environment"}},
    ],
}

BLUEPRINT: Json = {
    "identifier": "ünïcode.service:v1/x",
    "title": "Everything a blueprint may have",
    "description": "Ownership, calculated, mirrored and aggregated properties, a changelog",
    "icon": "Service",
    "ownership": {"type": "Inherited", "path": "team", "title": "Owners"},
    "schema": {
        "properties": {
            "createdOn": {"type": "string", "format": "date-time", "title": "Created"},
            "api": {
                "type": "string",
                "format": "url",
                "spec": "embedded-url",
                "specAuthentication": {
                    "clientId": "client",
                    "authorizationUrl": "https://auth.example.com/authorize",
                    "tokenUrl": "https://auth.example.com/token",
                    "authorizationScope": ["openid"],
                },
            },
            "tags": {"type": "array", "items": {"type": "string"}, "icon": "Tag", "description": "Labels"},
            "expires": {"type": "string", "format": "timer"},
            "size": {"type": "number", "default": 1},
        },
        "required": ["createdOn"],
    },
    "calculationProperties": {
        "age": {
            "title": "Age",
            "calculation": ".properties.createdOn",
            "type": "string",
            "format": "date-time",
        },
        "labels": {
            "title": "Labels",
            "description": "Tags, colourised",
            "icon": "Tag",
            "calculation": ".properties.tags",
            "type": "array",
            "colorized": True,
            "colors": {"prod": "red", "dev": "lime"},
            "items": {"type": "string", "format": "idn-format"},
        },
    },
    "mirrorProperties": {"teamName": {"title": "Team", "path": "team.$title"}},
    "aggregationProperties": {
        "services": {
            "title": "Services",
            "target": "service",
            "calculationSpec": {"func": "count", "calculationBy": "entities"},
            "query": SEARCH_QUERY,
            "pathFilter": [{"path": ["team"], "fromBlueprint": "team"}],
        },
        "averageSize": {
            "title": "Average size",
            "description": "Per week",
            "icon": "Chart",
            "type": "number",
            "target": "service",
            "calculationSpec": {
                "func": "average",
                "calculationBy": "property",
                "property": "size",
                "averageOf": "week",
                "measureTimeBy": "$createdAt",
            },
        },
        "largest": {
            "title": "Largest",
            "target": "service",
            "calculationSpec": {"func": "max", "calculationBy": "property", "property": "size"},
        },
    },
    "relations": {
        "team": {
            "title": "Team",
            "target": "team",
            "required": False,
            "many": False,
            "description": "Owners",
        },
    },
    "changelogDestination": {"type": "WEBHOOK", "url": "https://example.com/changes", "agent": False},
}

DAY_2_ACTION: Json = {
    "identifier": "resize-service",
    "title": "Resize",
    "icon": "Scale",
    "description": "A DAY-2 action with a condition, steps, titles, a dataset and approvals",
    "trigger": {
        "type": "self-service",
        "operation": "DAY-2",
        "blueprintIdentifier": "service",
        "actionCardButtonText": "Resize",
        "executeActionButtonText": "Go ahead",
        "condition": {"type": "SEARCH", "combinator": "and", "rules": SEARCH_RULES},
        "userInputs": {
            "properties": {
                "size": {"type": "number", "title": "Size", "visible": {"jqQuery": ".form.advanced"}},
                "advanced": {"type": "boolean", "title": "Advanced", "visible": True},
                "database": {
                    "type": "string",
                    "format": "entity",
                    "blueprint": "postgresql",
                    "dataset": DATASET,
                    "sort": {"property": "$title", "order": "ASC"},
                    "dependsOn": ["advanced"],
                    "icon": "Postgres",
                },
                "note": {"type": "string", "format": "multi-line", "jqQuery": None},
            },
            "required": {"jqQuery": 'if .form.advanced then ["size"] else [] end'},
            "titles": {"sizing": {"title": "Sizing", "description": "How big", "visible": False}},
            "steps": [
                {"title": "Size", "order": ["size", "advanced"]},
                {"title": "More", "order": ["database", "note"], "visible": {"jqQuery": ".form.advanced"}},
            ],
        },
    },
    "invocationMethod": {
        "type": "GITHUB",
        "org": "example",
        "repo": "platform",
        "workflow": "resize.yaml",
        "workflowInputs": {"size": "{{ .inputs.size }}"},
        "reportWorkflowStatus": True,
    },
    "requiredApproval": {"type": "ANY"},
    "approvalNotification": {"type": "webhook", "url": "https://example.com/approve", "format": "slack"},
    "allowAnyoneToViewRuns": True,
    "publish": True,
}

INVOCATION_METHODS: list[Json] = [
    {
        "type": "WEBHOOK",
        "url": "https://example.com/hook",
        "agent": "{{ .inputs.agent }}",
        "synchronized": False,
        "method": "PUT",
        "headers": {"X-Team": "platform"},
        "body": ["{{ .inputs }}"],
    },
    {"type": "GITLAB", "projectName": "platform", "groupName": "example", "defaultRef": "main"},
    {"type": "GITLAB", "projectName": "platform", "groupName": "example", "pipelineVariables": {"A": "1"}},
    {"type": "AZURE_DEVOPS", "webhook": "resize", "org": "example", "payload": {"size": 1}},
    {"type": "KAFKA", "payload": {"size": "{{ .inputs.size }}"}},
    {"type": "KAFKA"},
    {
        "type": "INTEGRATION_ACTION",
        "installationId": "github-ocean",
        "integrationActionType": "dispatch_workflow",
        "integrationActionExecutionProperties": {"org": "example", "repo": "platform", "workflow": "x.yaml"},
    },
    {
        "type": "UPSERT_ENTITY",
        "blueprintIdentifier": "service",
        "mapping": {
            "identifier": "{{ .inputs.name }}",
            "title": "{{ .inputs.name }}",
            "icon": "Service",
            "team": ["platform"],
            "properties": {"size": "{{ .inputs.size }}"},
            "relations": {"team": "platform", "tags": ["a"], "old": None},
        },
    },
]


def with_change(body: Json, path: str, value: Any) -> Json:
    """A copy of ``body`` with ``value`` at the dotted ``path`` (``...`` removes the field)."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    place: Any = changed
    for part in parents:
        place = place[int(part)] if isinstance(place, list) else place[part]
    if value is ...:
        del place[last]
    else:
        place[last] = value
    return changed


def create_action(number: int, method: Json) -> Json:
    return {
        "identifier": f"create-thing-{number}",
        "title": "Create a thing",
        "trigger": {
            "type": "self-service",
            "operation": "CREATE",
            "userInputs": {
                "properties": {"name": {"type": "string", "title": "Name"}},
                "required": ["name"],
                "order": ["name"],
            },
        },
        "invocationMethod": copy.deepcopy(method),
        "requiredApproval": False,
        "approvalNotification": {"type": "email"},
    }


SCORECARD: Json = {
    "identifier": "ünïcode:readiness/v1",
    "title": "Everything a scorecard may have",
    "filter": {
        "combinator": "or",
        "conditions": [{"property": "tier", "operator": "=", "value": "critical"}],
    },
    "properties": {"owner": "platform"},
    "levels": [
        {"title": "None", "color": "darkGray"},
        {"title": "Some", "color": "olive"},
        {"title": "All", "color": "brown"},
    ],
    "rules": [
        {
            "identifier": "fresh",
            "title": "Changed lately",
            "description": "Each kind of condition",
            "level": "Some",
            "query": {
                "combinator": "and",
                "conditions": [
                    {"property": "$updatedAt", "operator": "between", "value": {"preset": "lastMonth"}},
                    {
                        "property": "$createdAt",
                        "operator": "=",
                        "value": {"from": "2024-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
                    },
                    {"property": "tier", "operator": "in", "value": ["critical"]},
                    {"relation": "team", "operator": "containsAny", "value": ["platform"]},
                    {"property": "size", "operator": ">", "value": 2},
                    {"relation": "team", "operator": "!=", "value": "nobody"},
                    {"property": "tags", "operator": "contains", "value": ["x"]},
                    {"property": "owner", "operator": "isEmpty", "not": True},
                    {"relation": "team", "operator": "isNotEmpty"},
                ],
            },
        },
        {
            "identifier": "owned",
            "title": "Owned",
            "level": "All",
            "query": {
                "combinator": "or",
                "conditions": [{"property": "flag", "operator": "=", "value": True}],
            },
        },
    ],
}

BLUEPRINTS: list[Json] = [BLUEPRINT]
ACTIONS: list[Json] = [DAY_2_ACTION] + [create_action(n, m) for n, m in enumerate(INVOCATION_METHODS)]
SCORECARDS: list[Json] = [SCORECARD]
