"""Checks a blueprint, action or scorecard body against what Port's API takes, naming each field.

``apply`` must refuse a file Port would refuse before it writes anything, naming the file and
the field. What Port takes is written down by the project in :mod:`.bodies`, as JSON Schema
(2020-12) in a few words of its own (:mod:`.bodies.terms`): ``pattern`` is checked against the
whole string with ``regex`` (Port's identifier rules use ``\\p{L}``, any Unicode letter, which
``re`` lacks) and named in the message by its ``description``; ``refuse`` refuses the value it
stands for, with its reason; ``date-time`` must carry a time zone (RFC 3339), as Port requires.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import jsonschema
import regex
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from port_bridge.portmodel.bodies.action import ACTION
from port_bridge.portmodel.bodies.blueprint import BLUEPRINT
from port_bridge.portmodel.bodies.scorecard import SCORECARD
from port_bridge.portmodel.bodies.terms import Schema

Kind = Literal["blueprint", "action", "scorecard"]
BODIES: Mapping[Kind, Schema] = {"blueprint": BLUEPRINT, "action": ACTION, "scorecard": SCORECARD}
MAX_PROBLEMS_PER_BODY = 5


@dataclass(frozen=True)
class SchemaProblem:
    """One thing Port refuses in a body: the field (``schema.properties.tier.type``) and why."""

    field: str
    message: str


def body_problems(kind: Kind, body: Any) -> list[SchemaProblem]:
    """What Port would refuse in ``body`` as the body of the route that creates a ``kind``."""
    errors = sorted(_validator(kind).iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    problems: list[SchemaProblem] = []
    for error in errors:
        detail = _closest(error)
        problem = SchemaProblem(_field(detail), detail.message)
        if problem not in problems:
            problems.append(problem)
    return problems[:MAX_PROBLEMS_PER_BODY]


@functools.cache
def _validator(kind: Kind) -> Validator:
    return cast(Validator, _validator_class()(BODIES[kind], format_checker=_format_checker()))


def _field(error: ValidationError) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).removeprefix(".") or "(the whole body)"


def _closest(error: ValidationError) -> ValidationError:
    """For a failed ``oneOf``/``anyOf``, an error of the branch the body came closest to matching.

    That is the branch of the right type with the fewest of the value's fields it does not know
    or whose ``enum``/``const`` it does not match (the fields that tell branches apart, such as
    an operator), then with the fewest errors: "'resembles' is not one of ['=', '!=', ...]"
    rather than "'relation' is a required property" or "'combinator' is a required property".
    """
    if not error.context:
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for detail in error.context:
        branches.setdefault(detail.relative_schema_path[0], []).append(detail)

    def distance(branch: list[ValidationError]) -> tuple[bool, int, int]:
        wrong_type = any(e.validator == "type" and not e.relative_path for e in branch)
        unknown_fields = sum(_unexpected(e) for e in branch if not e.relative_path)
        wrong_kind = sum(e.validator in ("enum", "const") for e in branch)
        return wrong_type, unknown_fields + wrong_kind, len(branch)

    nearest = min(branches.values(), key=distance)
    detail = best_match(nearest)
    return error if detail is None else _closest(detail)


def _unexpected(error: ValidationError) -> int:
    """How many fields of the value an ``additionalProperties: false`` error found unknown."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return 0
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    return len(set(error.instance) - set(schema.get("properties", {})))


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str) and not _compiled(pattern).fullmatch(instance):
        yield ValidationError(f"{instance!r} does not match {schema.get('description', repr(pattern))}")


def _refuse(validator: Any, reason: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    yield ValidationError(reason)


@functools.cache
def _validator_class() -> Any:
    keywords = {"pattern": _pattern, "refuse": _refuse}
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, keywords)  # type: ignore[no-untyped-call]


@functools.cache
def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if "T" not in instance.upper():
        return False
    return datetime.fromisoformat(instance).tzinfo is not None
