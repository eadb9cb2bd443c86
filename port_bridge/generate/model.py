"""A Promise's Port model: its blueprint and its CREATE, DAY-2 and DELETE action files.

:func:`generate` is pure (a Promise in, documents out) so the same code serves ``port-bridge
generate`` (which writes the files) and the controller (which serves live Promises). The
action files have the shape the shipped ones have (README "Action files"): the Port action as
``POST /v1/actions`` takes it, with the webhook body of README "The webhook body", beside its
``kratix`` and ``entity`` mappings. Everything comes from the request CRD in the Promise's
``spec.api``, read the way :class:`~port_bridge.kratix.promise.PromiseApi` reads it.

* the actions (:mod:`~port_bridge.generate.actions`): CREATE, DAY-2 (only when the spec has a
  field to change) and DELETE;
* the blueprint mirrors the spec fields, the fields the Promise publishes in ``status``, the
  request's ``namespace`` and ``requestName`` (which DAY-2 and DELETE read back), Kratix's
  ``status.message``, and the Kratix state the catalog sync keeps current
  (:mod:`port_bridge.catalogsync.state`).

Field order follows the Promise's ``kratix.io/port-input-order`` annotation (comma-separated
input names, or dotted paths), then the schema's fields by name, so the output is the same
whether the Promise was read from a file or from the cluster (which does not keep key order).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES
from port_bridge.generate import jqtext
from port_bridge.generate.actions import GeneratedAction, Names, change_action, create_action, delete_action
from port_bridge.generate.fields import (
    RESERVED,
    Form,
    normalise_order_name,
    order_keys,
    spec_form,
    status_form,
)
from port_bridge.kratix.promise import PromiseApi, PromiseWithoutApi
from port_bridge.mapping.actions import ActionConfig

INPUT_ORDER_ANNOTATION = "kratix.io/port-input-order"
ENTITY_IDENTIFIER = '.request.metadata.namespace + "." + .request.metadata.name'


class GenerateError(ValueError):
    """The Promise cannot become a Port model; the message says why."""


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
    names = Names.of(api)
    blueprint = _blueprint(names, spec, status)
    entity = _entity(names, spec, status)
    actions = [create_action(names, spec, entity, namespaces)]
    if spec.fields:
        actions.append(change_action(names, spec, entity, namespaces))
    actions.append(delete_action(names, namespaces))
    return GeneratedModel(api.promise, blueprint, tuple(actions), spec.limitations, warnings)


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


def _blueprint(names: Names, spec: Form, status: Form) -> dict[str, Any]:
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
    properties.update(copy.deepcopy(BLUEPRINT_PROPERTIES))
    return {
        "identifier": names.blueprint,
        "title": names.title,
        "description": f"A {names.title} requested from Kratix ({names.promise} Promise) through port-bridge",
        "schema": {"properties": properties, "required": ["namespace", "requestName"]},
        "relations": {},
    }


def _entity(names: Names, spec: Form, status: Form) -> dict[str, Any]:
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
