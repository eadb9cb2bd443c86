"""The three action files of a generated model: CREATE, DAY-2 and DELETE.

Each is an action file as README "Action files" describes it: the Port action exactly as
``POST /v1/actions`` takes it, calling intake with the webhook body of README "The webhook body"
(the one the shipped actions use), beside its ``kratix`` mapping and, but for DELETE, its
``entity`` mapping.

* CREATE asks for the request's ``name`` and ``namespace`` and one input per spec field;
* DAY-2 offers the spec fields again, each prefilled from the selected entity: Port evaluates a
  ``default`` of ``{"jqQuery": ".entity.properties.<field>"}`` when the form opens, for DAY-2
  and DELETE actions (docs.port.io "Advanced input configurations"); its spec is merged into the
  request, so only what the form sends changes;
* DELETE runs on the selected entity and needs no input; DAY-2 and DELETE find the request
  through the entity's ``namespace`` and ``requestName``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from port_bridge.generate import jqtext
from port_bridge.generate.fields import Form, FormField
from port_bridge.generate.keywords import humanize
from port_bridge.kratix.promise import PromiseApi
from port_bridge.mapping.actions import ActionConfig, Operation

DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
WEBHOOK_URL = '{{ .secrets["port-bridge-url"] }}/webhook'
WEBHOOK_BODY = {
    "runId": "{{ .run.id }}",
    "action": "{{ .action.identifier }}",
    "operation": "{{ .trigger.operation }}",
    "blueprint": "{{ .action.blueprint }}",
    "inputs": "{{ .inputs }}",
    "entity": "{{ .entity }}",
    "trigger": "{{ {by: {email: .trigger.by.user.email, userId: .trigger.by.userId, "
    "orgId: .trigger.by.orgId}, origin: .trigger.origin, at: .trigger.at} }}",
}
TIMEOUT = "30m"


@dataclass(frozen=True)
class GeneratedAction:
    identifier: str
    operation: Operation
    document: dict[str, Any]  # the action file: {action, kratix, entity}

    def config(self) -> ActionConfig:
        """The action as the bridge loads it (validated as :func:`load_action_file` validates a file)."""
        source = Path("generated") / f"{self.identifier}.yaml"
        return ActionConfig.model_validate(
            {**self.document, "source": source, "raw_action": self.document["action"]}
        )


@dataclass(frozen=True)
class Names:
    """What the generated files are called: the Promise, its blueprint and its title."""

    promise: str
    blueprint: str
    title: str

    @classmethod
    def of(cls, api: PromiseApi) -> Names:
        title = api.kind if api.kind != api.kind.lower() else humanize((api.promise,))
        return cls(api.promise, api.promise, title)


def _description(text: str, spec: Form) -> str:
    if not spec.limitations:
        return text
    return f"{text}. Left to the Kubernetes API server, as this form cannot check or set them: " + "; ".join(
        spec.limitations
    )


def create_action(
    names: Names, spec: Form, entity: dict[str, Any], namespaces: Sequence[str] | None
) -> GeneratedAction:
    properties: dict[str, Any] = {
        "name": {
            "type": "string",
            "title": "Name",
            "description": "The request's name in Kubernetes: lowercase letters, digits and '-'",
            "pattern": DNS_LABEL,
            "maxLength": 63,
        },
        "namespace": _namespace_input(namespaces),
    }
    for form_field in spec.fields:
        properties[form_field.identifier] = _input(spec, form_field, prefill=False)
    required = ["name", *(f.identifier for f in spec.fields if f.required)]
    default_namespace = namespaces[0] if namespaces else "default"
    kratix = {
        "promise": names.promise,
        "namespace": f".inputs.namespace // {json.dumps(default_namespace)}",
        "name": ".inputs.name",
        "spec": _spec_expression(spec),
    }
    return _action(
        names,
        "CREATE",
        f"create-{names.promise}",
        f"Create {names.title}",
        _description(f"Request a {names.title} from the platform (Kratix {names.promise} Promise)", spec),
        {"properties": properties, "required": required, "order": list(properties)},
        kratix,
        namespaces,
        entity,
    )


def change_action(
    names: Names, spec: Form, entity: dict[str, Any], namespaces: Sequence[str] | None
) -> GeneratedAction:
    properties = {f.identifier: _input(spec, f, prefill=True) for f in spec.fields}
    kratix = {
        "promise": names.promise,
        "namespace": ".entity.properties.namespace",
        "name": ".entity.properties.requestName",
        "spec": _spec_expression(spec),
    }
    return _action(
        names,
        "DAY-2",
        f"update-{names.promise}",
        f"Change {names.title}",
        _description(
            f"Change a {names.title} (Kratix {names.promise} Promise); the form starts from its values",
            spec,
        ),
        {"properties": properties, "required": [], "order": list(properties)},
        kratix,
        namespaces,
        entity,
    )


def delete_action(names: Names, namespaces: Sequence[str] | None) -> GeneratedAction:
    kratix = {
        "promise": names.promise,
        "namespace": ".entity.properties.namespace",
        "name": ".entity.properties.requestName",
    }
    return _action(
        names,
        "DELETE",
        f"delete-{names.promise}",
        f"Delete {names.title}",
        f"Delete a {names.title} and its Kratix request",
        {"properties": {}, "required": [], "order": []},
        kratix,
        namespaces,
        None,
    )


def _action(
    names: Names,
    operation: Operation,
    identifier: str,
    title: str,
    description: str,
    user_inputs: dict[str, Any],
    kratix: dict[str, Any],
    namespaces: Sequence[str] | None,
    entity: dict[str, Any] | None,
) -> GeneratedAction:
    action = {
        "identifier": identifier,
        "title": title,
        "description": description,
        "trigger": {
            "type": "self-service",
            "operation": operation,
            "blueprintIdentifier": names.blueprint,
            "userInputs": user_inputs,
        },
        "invocationMethod": {
            "type": "WEBHOOK",
            "url": WEBHOOK_URL,
            "agent": False,
            "synchronized": False,
            "method": "POST",
            "body": dict(WEBHOOK_BODY),
        },
        "requiredApproval": False,
    }
    mapping = dict(kratix)
    if namespaces is not None:
        mapping["allowedNamespaces"] = list(namespaces)
    mapping["timeout"] = TIMEOUT
    document: dict[str, Any] = {"action": action, "kratix": mapping}
    if entity is not None:
        document["entity"] = entity
    return GeneratedAction(identifier, operation, copy.deepcopy(document))  # shares nothing with its siblings


def _namespace_input(namespaces: Sequence[str] | None) -> dict[str, Any]:
    if namespaces is None:
        return {
            "type": "string",
            "title": "Namespace",
            "description": "Where the request is created",
            "pattern": DNS_LABEL,
            "maxLength": 63,
            "default": "default",
        }
    return {
        "type": "string",
        "title": "Namespace",
        "description": "Where the request is created",
        "enum": list(namespaces),
        "default": namespaces[0],
    }


def _input(spec: Form, form_field: FormField, *, prefill: bool) -> dict[str, Any]:
    port_input = dict(form_field.leaf.input)
    values = spec.selector_values.get(form_field.path)
    if values is not None and "enum" not in port_input:
        port_input["enum"] = list(values)
    if (visible := spec.visible(form_field)) is not None:
        port_input["visible"] = visible
    if prefill:
        port_input["default"] = {"jqQuery": jqtext.field(".entity.properties", form_field.identifier)}
    return port_input


def _spec_expression(spec: Form) -> str:
    conditions = {f.path: c for f in spec.fields if (c := spec.condition(f, over=".inputs")) is not None}
    return jqtext.spec_from_inputs({f.path: f.identifier for f in spec.fields}, conditions=conditions)
