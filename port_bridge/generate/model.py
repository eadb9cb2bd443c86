"""A Promise's Port model: its blueprint and its CREATE, DAY-2 and DELETE action files.

:func:`generate` is pure (a Promise in, documents out) so the same code serves ``port-bridge
generate`` (which writes the files) and the controller (which serves live Promises). The
action files have the shape the shipped ones have (README "Action files"): the Port action as
``POST /v1/actions`` takes it, with the webhook body of README "The webhook body", beside its
``kratix`` and ``entity`` mappings. Everything comes from the request CRD in the Promise's
``spec.api``, read the way :class:`~port_bridge.kratix.promise.PromiseApi` reads it.

* CREATE asks for the request's ``name`` and ``namespace`` and one input per spec field;
* DAY-2 offers the spec fields again, each prefilled from the selected entity (Port evaluates a
  ``default`` of ``{"jqQuery": ".entity.properties.<field>"}`` when the form opens, for DAY-2
  and DELETE actions: docs.port.io "Advanced input configurations"); it exists only when the
  spec has a field to change;
* DELETE runs on the selected entity and needs no input;
* the blueprint mirrors the spec fields, the fields the Promise publishes in ``status``, the
  request's ``namespace`` and ``requestName`` (which DAY-2 and DELETE read back) and Kratix's
  ``status.message``.

Field order follows the Promise's ``kratix.io/port-input-order`` annotation (comma-separated
input names, or dotted paths), then the schema's fields by name, so the output is the same
whether the Promise was read from a file or from the cluster (which does not keep key order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from port_bridge.generate import jqtext
from port_bridge.generate.fields import (
    RESERVED,
    Form,
    FormField,
    normalise_order_name,
    order_keys,
    spec_form,
    status_form,
)
from port_bridge.generate.keywords import humanize
from port_bridge.kratix.promise import PromiseApi, PromiseWithoutApi
from port_bridge.mapping.actions import ActionConfig, Operation

INPUT_ORDER_ANNOTATION = "kratix.io/port-input-order"
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
ENTITY_IDENTIFIER = '.request.metadata.namespace + "." + .request.metadata.name'


class GenerateError(ValueError):
    """The Promise cannot become a Port model; the message says why."""


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
class GeneratedModel:
    promise: str
    blueprint: dict[str, Any]
    actions: tuple[GeneratedAction, ...]
    limitations: tuple[str, ...]  # what the form leaves to the API server, one line per field
    warnings: tuple[str, ...]  # problems in the Promise's own hints (the input-order annotation)

    def action_configs(self) -> dict[str, ActionConfig]:
        return {action.identifier: action.config() for action in self.actions}


def generate(
    promise: Mapping[str, Any], *, namespaces: Sequence[str] | None = ("default",)
) -> GeneratedModel:
    """The blueprint and action files for ``promise``.

    ``namespaces`` are where developers may place requests: the CREATE form offers them (the first
    is the default) and every action's ``allowedNamespaces`` holds them; None lets a developer type
    any namespace (then RBAC alone decides).
    """
    try:
        api = PromiseApi.from_promise(promise)
    except PromiseWithoutApi as error:
        raise GenerateError(f"{error}: there is nothing to request, so nothing to generate") from None
    if namespaces is not None and not namespaces:
        raise GenerateError("namespaces: give at least one namespace, or None for any")
    schema = api.schema or {}
    order, warnings = _input_order(promise)
    spec = spec_form(schema, order=order)
    known = {key for form_field in spec.fields for key in order_keys(form_field)}
    warnings += tuple(
        f"{INPUT_ORDER_ANNOTATION}: {name!r} is not a field of this Promise's request"
        for name in order
        if normalise_order_name(name) not in known | {"name", "namespace"}
    )
    status = status_form(schema, taken={*RESERVED, *(f.identifier for f in spec.fields)})
    names = _Names.of(api)
    blueprint = _blueprint(names, spec, status)
    entity = _entity(names, spec, status)
    actions = [_create(names, spec, entity, namespaces)]
    if spec.fields:
        actions.append(_change(names, spec, entity, namespaces))
    actions.append(_delete(names, namespaces))
    return GeneratedModel(api.promise, blueprint, tuple(actions), spec.limitations, warnings)


@dataclass(frozen=True)
class _Names:
    promise: str
    blueprint: str
    title: str

    @classmethod
    def of(cls, api: PromiseApi) -> _Names:
        title = api.kind if api.kind != api.kind.lower() else humanize((api.promise,))
        return cls(api.promise, api.promise, title)


def _input_order(promise: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The annotation's names, from the Promise or else from the CRD in ``spec.api``."""
    crd = (promise.get("spec") or {}).get("api") or {}
    for holder in (promise, crd):
        text = ((holder.get("metadata") or {}).get("annotations") or {}).get(INPUT_ORDER_ANNOTATION)
        if text is None:
            continue
        if isinstance(text, str) and text.strip().startswith("["):
            try:
                listed = yaml.safe_load(text)
            except yaml.YAMLError:
                listed = None
            if isinstance(listed, list) and all(isinstance(item, str) for item in listed):
                return tuple(item.strip() for item in listed if item.strip()), ()
        if isinstance(text, str):
            return tuple(part for part in text.replace(",", " ").split() if part), ()
        return (), (f"{INPUT_ORDER_ANNOTATION}: must be a comma-separated list of input names",)
    return (), ()


def _blueprint(names: _Names, spec: Form, status: Form) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "namespace": {
            "type": "string",
            "title": "Request namespace",
            "description": "Namespace of the Kratix request",
        },
        "requestName": {
            "type": "string",
            "title": "Request name",
            "description": "Name of the Kratix request",
        },
    }
    for form_field in (*spec.fields, *status.fields):
        properties[form_field.identifier] = form_field.leaf.property
    properties["kratixMessage"] = {
        "type": "string",
        "title": "Kratix message",
        "description": "status.message of the request",
    }
    properties["requestedBy"] = {"type": "string", "format": "email", "title": "Requested by"}
    return {
        "identifier": names.blueprint,
        "title": names.title,
        "description": f"A {names.title} requested from Kratix ({names.promise} Promise) through port-bridge",
        "schema": {"properties": properties, "required": ["namespace", "requestName"]},
        "relations": {},
    }


def _entity(names: _Names, spec: Form, status: Form) -> dict[str, Any]:
    pairs = [("namespace", ".request.metadata.namespace"), ("requestName", ".request.metadata.name")]
    for root, form in (("spec", spec), ("status", status)):
        for form_field in form.fields:
            value = jqtext.path(f".request.{root}", form_field.path)
            pairs.append(
                (form_field.identifier, jqtext.as_text(value) if form_field.leaf.int_or_string else value)
            )
    pairs += [("kratixMessage", ".request.status.message"), ("requestedBy", ".trigger.by.email")]
    return {
        "blueprint": names.blueprint,
        "identifier": ENTITY_IDENTIFIER,
        "title": ".request.metadata.name",
        "properties": jqtext.object_of(pairs),
    }


def _description(text: str, spec: Form) -> str:
    if not spec.limitations:
        return text
    return f"{text}. Left to the Kubernetes API server, as this form cannot check or set them: " + "; ".join(
        spec.limitations
    )


def _create(
    names: _Names, spec: Form, entity: dict[str, Any], namespaces: Sequence[str] | None
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


def _change(
    names: _Names, spec: Form, entity: dict[str, Any], namespaces: Sequence[str] | None
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


def _delete(names: _Names, namespaces: Sequence[str] | None) -> GeneratedAction:
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
    names: _Names,
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
    return GeneratedAction(identifier, operation, document)


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
