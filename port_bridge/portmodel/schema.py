"""The checks Port's API makes of a blueprint, action or scorecard body, carried by the product.

``apply`` must refuse a file Port would refuse before it writes anything, naming the file and
the field, and it must not need Port's spec (``../shared``) to do so. ``schemas/`` therefore
holds the request-body schemas of the routes ``apply`` creates objects with, cut out of Port's
OpenAPI spec unchanged (``tests/portmodel/refresh_schemas.py`` writes them; a test fails when
they drift from the spec and checks that what they accept, Port's spec accepts).

They are JSON Schema 2020-12 (the spec is OpenAPI 3.1). Identifier patterns use ``\\p{L}``
(any Unicode letter), which ``re`` lacks, so ``pattern`` and ``patternProperties`` are checked
with ``regex``; ``date-time`` must carry a time zone (RFC 3339), as Port's validator requires.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema
import regex
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

Kind = Literal["blueprint", "action", "scorecard"]
ROUTES: Mapping[Kind, tuple[str, str]] = {
    "blueprint": ("POST", "/v1/blueprints"),
    "action": ("POST", "/v1/actions"),
    "scorecard": ("POST", "/v1/blueprints/{blueprint_identifier}/scorecards"),
}
SCHEMA_DIR = Path(__file__).with_name("schemas")
MAX_PROBLEMS_PER_BODY = 5


@dataclass(frozen=True)
class SchemaProblem:
    """One thing Port's schema refuses: the field (``schema.properties.tier.type``) and why."""

    field: str
    message: str


def body_problems(kind: Kind, body: Any) -> list[SchemaProblem]:
    """What Port would refuse in ``body`` as the body of the route that creates a ``kind``."""
    errors = sorted(_validator(kind).iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    problems: list[SchemaProblem] = []
    for error in errors:
        detail = _closest(error)
        problem = SchemaProblem(_field(detail), detail.message)
        if problem not in problems:  # the scorecard schema checks its rules twice (if/then)
            problems.append(problem)
    return problems[:MAX_PROBLEMS_PER_BODY]


def schema_document(kind: Kind) -> dict[str, Any]:
    """The shipped schema for ``kind`` (as Port's spec has it, plus a ``$comment``)."""
    text = resources.files(__package__).joinpath("schemas", f"{kind}.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@functools.cache
def _validator(kind: Kind) -> Validator:
    return cast(Validator, _validator_class()(schema_document(kind), format_checker=_format_checker()))


def _field(error: ValidationError) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).removeprefix(".") or "(the whole body)"


def _closest(error: ValidationError) -> ValidationError:
    """For a failed ``oneOf``/``anyOf``, an error of the branch the body came closest to matching.

    That is the branch of the right type, whose ``enum``/``const`` fields (the ones that tell
    branches apart, such as ``type: WEBHOOK``) match best, with the fewest errors: "'url' is a
    required property" rather than "'WEBHOOK' is not one of ['KAFKA']", and "'resembles' is not
    one of ['=', '!=', ...]" rather than "'relation' is a required property".
    """
    if not error.context:
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for detail in error.context:
        branches.setdefault(detail.relative_schema_path[0], []).append(detail)

    def distance(branch: list[ValidationError]) -> tuple[bool, int, int]:
        wrong_type = any(e.validator == "type" and not e.relative_path for e in branch)
        wrong_kind = sum(e.validator in ("enum", "const") for e in branch)
        return wrong_type, wrong_kind, len(branch)

    nearest = min(branches.values(), key=distance)
    detail = best_match(nearest)
    return error if detail is None else _closest(detail)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    if not isinstance(instance, dict):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _compiled(pattern).search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@functools.cache
def _validator_class() -> Any:
    keywords = {"pattern": _pattern, "patternProperties": _pattern_properties}
    return jsonschema.validators.extend(jsonschema.Draft202012Validator, keywords)  # type: ignore[no-untyped-call]


@functools.cache
def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if "T" not in instance.upper():
        return False
    return datetime.fromisoformat(instance).tzinfo is not None
