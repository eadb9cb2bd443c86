"""An action's form as Port draws it from ``userInputs``, and what a submitted form sends.

Port turns each input into a widget by its JSON-schema ``type`` and ``format`` (research/port.md
§4.2): a string is a text box (``format: multi-line`` a text area, ``format: entity`` a choice of
the ``blueprint``'s entities), an ``enum`` a drop-down, a number a number box, a boolean a toggle,
an array a multi-select of its item ``enum`` (else one item per line), an object a JSON editor.
Defaults are filled in when the form opens, a ``{"jqQuery": ...}`` one evaluated over the entity
and the user as Port does (:func:`~port_bridge_sandbox.port.forms.fill_form`).

A submitted form is checked as Port checks it before it starts a run: required inputs present,
values of their type, enums, patterns, lengths and bounds (with jsonschema, on the ``userInputs``
as the schema they are). An input left empty is not sent.

Choices where Port's docs are silent: an optional boolean without a default is a three-way choice
(unset, true, false), so leaving it untouched sends nothing rather than ``false``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema

from port_bridge_sandbox.port.forms import fill_form
from port_bridge_sandbox.port.templating import TemplateError

Widget = Literal["text", "textarea", "number", "toggle", "tristate", "select", "multiselect", "lines", "json"]
Typed = Mapping[str, str | tuple[str, ...]]  # what the user typed (or chose) in each input, as text
Choices = Callable[[str], Sequence[str]]  # a blueprint's entity identifiers, for ``format: entity``
_SCHEMA_KEYS: tuple[str, ...] = ("type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum")
_SCHEMA_KEYS += ("items", "minItems", "maxItems", "exclusiveMinimum", "exclusiveMaximum")


@dataclass(frozen=True)
class FormField:
    """One input as the form shows it; ``value`` is the text (or chosen texts) in the widget."""

    name: str
    title: str
    widget: Widget
    required: bool
    description: str | None = None
    value: str | tuple[str, ...] = ""
    options: tuple[str, ...] = ()
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    error: str | None = None

    def checked(self) -> bool:
        return self.value == "true"


@dataclass(frozen=True)
class Submission:
    """What a submitted form sends as the run's inputs, and what is wrong with it, by input."""

    inputs: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def ordered_inputs(user_inputs: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    properties: Mapping[str, Any] = user_inputs.get("properties") or {}
    order = [name for name in user_inputs.get("order") or () if name in properties]
    order += [name for name in properties if name not in order]
    return [(name, properties[name] or {}) for name in order]


def required_inputs(user_inputs: Mapping[str, Any]) -> set[str]:
    required = user_inputs.get("required")
    return {name for name in required if isinstance(name, str)} if isinstance(required, list) else set()


def form_fields(
    user_inputs: Mapping[str, Any],
    *,
    entity: Mapping[str, Any],
    user_email: str,
    choices: Choices,
    typed: Typed | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[FormField]:
    """The form's fields: the defaults Port fills in when the form opens, or what was ``typed``."""
    try:
        defaults = fill_form(user_inputs, {}, entity=entity, user={"email": user_email})
    except TemplateError:
        defaults = {}
    required = required_inputs(user_inputs)
    fields = []
    for name, spec in ordered_inputs(user_inputs):
        widget = _widget(spec, required=name in required or "default" in spec)
        if typed is not None:
            value = typed.get(name, "" if widget != "multiselect" else ())
        else:
            value = _shown(defaults.get(name), widget)
        options = spec.get("enum") or _items(spec).get("enum") or ()
        if spec.get("format") == "entity" and isinstance(spec.get("blueprint"), str):
            options = choices(spec["blueprint"])
        fields.append(
            FormField(
                name=name,
                title=str(spec.get("title") or name),
                widget=widget,
                required=name in required,
                description=spec.get("description"),
                value=value,
                options=tuple(str(option) for option in options),
                pattern=spec.get("pattern"),
                min_length=spec.get("minLength"),
                max_length=spec.get("maxLength"),
                minimum=spec.get("minimum"),
                maximum=spec.get("maximum"),
                error=(errors or {}).get(name),
            )
        )
    return fields


def read_form(
    user_inputs: Mapping[str, Any], form: Mapping[str, Sequence[str]]
) -> tuple[Submission, dict[str, str | tuple[str, ...]]]:
    """The inputs a submitted form sends and their problems; also what was typed, to show it again."""
    required = required_inputs(user_inputs)
    inputs: dict[str, Any] = {}
    typed: dict[str, str | tuple[str, ...]] = {}
    errors: dict[str, str] = {}
    for name, spec in ordered_inputs(user_inputs):
        widget = _widget(spec, required=name in required or "default" in spec)
        values = [value for value in form.get(name, ()) if isinstance(value, str)]
        typed[name] = tuple(values) if widget == "multiselect" else (values[-1] if values else "")
        if widget == "toggle":
            typed[name] = "true" if "true" in values else "false"
        try:
            value = _parsed(widget, typed[name])
        except ValueError as error:
            errors[name] = str(error)
            continue
        if value is not None:
            inputs[name] = value
    errors.update({name: "is required" for name in required if name not in inputs and name not in errors})
    schema = {
        "type": "object",
        "properties": {
            name: {key: spec[key] for key in _SCHEMA_KEYS if key in spec}
            for name, spec in ordered_inputs(user_inputs)
        },
    }
    for problem in jsonschema.Draft7Validator(schema).iter_errors(inputs):
        name = str(problem.path[0]) if problem.path else ""
        errors.setdefault(name, _message(problem))
    return Submission(inputs, errors), typed


def _widget(spec: Mapping[str, Any], *, required: bool) -> Widget:
    kind, text_format = spec.get("type", "string"), spec.get("format")
    if spec.get("enum") or text_format == "entity":
        return "select"
    if kind == "boolean":
        return "toggle" if required else "tristate"
    if kind == "number":
        return "number"
    if kind == "array":
        return "multiselect" if _items(spec).get("enum") else "lines"
    if kind == "object":
        return "json"
    return "textarea" if text_format in ("multi-line", "yaml", "markdown") else "text"


def _items(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    items = spec.get("items")
    return items if isinstance(items, Mapping) else {}


def _shown(value: Any, widget: Widget) -> str | tuple[str, ...]:
    if value is None:
        return () if widget == "multiselect" else ""
    if widget == "multiselect":
        return tuple(str(item) for item in value) if isinstance(value, list) else (str(value),)
    if widget == "lines" and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if widget == "json" or isinstance(value, bool):
        return json.dumps(value, indent=2) if widget == "json" else str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parsed(widget: Widget, text: str | tuple[str, ...]) -> Any:
    """The JSON value a widget's text sends; ``None`` when it sends nothing."""
    if isinstance(text, tuple):
        return list(text) or None
    if widget in ("toggle", "tristate"):
        return {"true": True, "false": False}.get(text)
    if text.strip() == "":
        return None
    if widget == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be a number, not {text!r}") from None
        return int(number) if number.is_integer() and "." not in text else number
    if widget == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if widget == "json":
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"must be JSON: {error}") from None
    return text


def _message(problem: jsonschema.ValidationError) -> str:
    """jsonschema's message, said of the input (its value is shown beside it already)."""
    keyword, expected = problem.validator, problem.validator_value
    options = expected if isinstance(expected, list) else []
    messages = {
        "pattern": f"must match the pattern {expected}",
        "enum": "must be one of " + ", ".join(str(option) for option in options),
        "minLength": f"must be at least {expected} characters long",
        "maxLength": f"must be at most {expected} characters long",
        "minimum": f"must be at least {expected}",
        "maximum": f"must be at most {expected}",
        "type": f"must be of type {expected}",
    }
    return messages.get(str(keyword), problem.message)
