"""Entity writes with Port's semantics: create, replace (upsert) or merge, checked against the blueprint.

Port validates an entity's ``properties`` against its blueprint's ``schema`` and answers 422 with
a message naming the property. The blueprint's property definitions are JSON Schema with Port's
own extras (``enumColors``, ``icon``, Port-only formats), so only the keywords JSON Schema knows are
kept and Port's formats are mapped onto cheap checks (``url``, ``email``, ``date-time``,
``timer``, ``ipv4``, ``ipv6``); formats that need Port itself (``user``, ``team``, ...) are not
checked.

Choices where Port's docs are silent: a property the blueprint does not define is refused; a
property set to ``null`` counts as absent; a relation the blueprint does not define is refused.
"""

from __future__ import annotations

import functools
import json
import secrets
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import jsonschema
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from port_bridge_sandbox.port.clock import now_iso
from port_bridge_sandbox.port.errors import PortError, invalid
from port_bridge_sandbox.port.spec import port_format_checker, schema_validator

ENTITY_FIELDS = ("identifier", "title", "icon", "team", "properties", "relations")
_KEPT_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "items",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
_FORMATS = {
    "url": "url",
    "email": "email",
    "idn-email": "email",
    "date-time": "date-time",
    "timer": "date-time",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
}
_ALPHANUMERIC = string.ascii_letters + string.digits


def new_entity_identifier() -> str:
    """Port's generated identifier for an entity created without one."""
    return "e_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(16))


def build_entity(
    blueprint: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    identifier: str,
    existing: Mapping[str, Any] | None,
    merge: bool,
    actor: str,
) -> dict[str, Any]:
    """The entity that results from writing ``body``; raises :class:`PortError` if it is invalid.

    Without ``merge`` the body replaces the whole entity; with it, only the fields (and the
    properties and relations) the body names change.
    """
    base: Mapping[str, Any] = existing if merge and existing is not None else {}
    properties = dict(base.get("properties", {}))
    properties.update(body.get("properties") or {})
    relations = dict(base.get("relations", {}))
    relations.update(body.get("relations") or {})
    now = now_iso()
    entity = {
        "identifier": identifier,
        "title": body["title"] if "title" in body else base.get("title"),
        "icon": body["icon"] if "icon" in body else base.get("icon"),
        "team": _teams(body["team"]) if "team" in body else list(base.get("team", [])),
        "properties": properties,
        "relations": relations,
        "blueprint": blueprint["identifier"],
        "createdAt": existing["createdAt"] if existing else now,
        "createdBy": existing["createdBy"] if existing else actor,
        "updatedAt": now,
        "updatedBy": actor,
    }
    check_properties(blueprint, properties)
    check_relations(blueprint, relations)
    return entity


def check_properties(blueprint: Mapping[str, Any], properties: Mapping[str, Any]) -> None:
    present = {key: value for key, value in properties.items() if value is not None}
    errors = sorted(_properties_validator(_cache_key(blueprint["schema"])).iter_errors(present), key=str)
    if errors:
        raise invalid(
            f"entity does not match blueprint {blueprint['identifier']!r}: "
            + "; ".join(_describe(error) for error in errors)
        )


def check_relations(blueprint: Mapping[str, Any], relations: Mapping[str, Any]) -> None:
    defined = blueprint.get("relations") or {}
    for name, target in relations.items():
        if name not in defined:
            raise invalid(
                f"relations.{name}: relation {name!r} is not defined on blueprint {blueprint['identifier']!r}"
            )
        many = bool(defined[name].get("many"))
        if target is not None and many != isinstance(target, list):
            kind = "a list of identifiers" if many else "one identifier"
            raise invalid(f"relations.{name}: relation {name!r} takes {kind}")
    for name, definition in defined.items():
        if definition.get("required") and relations.get(name) in (None, []):
            raise invalid(f"relations.{name}: required relation {name!r} is missing")


def relation_targets(blueprint: Mapping[str, Any], relations: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(target blueprint, identifier)`` for every related entity the relations name."""
    defined = blueprint.get("relations") or {}
    targets = []
    for name, value in relations.items():
        identifiers = value if isinstance(value, list) else [value] if value is not None else []
        targets += [(defined[name]["target"], identifier) for identifier in identifiers]
    return targets


def entity_identifier(body: Mapping[str, Any]) -> str:
    identifier = body.get("identifier")
    if identifier is None:
        return new_entity_identifier()
    if not isinstance(identifier, str):
        raise PortError(501, "not_implemented", "the emulator does not resolve search-query identifiers")
    return identifier


def _teams(team: Any) -> list[str]:
    if team is None:
        return []
    if isinstance(team, str):
        return [team]
    if isinstance(team, list):
        return list(team)
    raise PortError(501, "not_implemented", "the emulator does not resolve search-query teams")


def _describe(error: ValidationError) -> str:
    return f"properties{error.json_path[1:]}: {error.message}"


def _cache_key(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


@functools.lru_cache(maxsize=256)
def _properties_validator(schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    definitions = schema.get("properties", {})
    compiled = {
        "type": "object",
        "properties": {name: _json_schema(definition) for name, definition in definitions.items()},
        "required": list(schema.get("required", [])),
        "additionalProperties": False,
    }
    return schema_validator(compiled, format_checker=_format_checker())


def _json_schema(definition: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: v for k, v in definition.items() if k in _KEPT_KEYWORDS}
    if isinstance(kept.get("items"), Mapping):
        kept["items"] = _json_schema(kept["items"])
    if definition.get("format") in _FORMATS:
        kept["format"] = _FORMATS[definition["format"]]
    return kept


@functools.lru_cache(maxsize=1)
def _format_checker() -> jsonschema.FormatChecker:
    checker = port_format_checker()
    checker.checks("url")(_is_url)
    return checker


def _is_url(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    parsed = urlparse(instance)
    return bool(parsed.scheme and parsed.netloc)
