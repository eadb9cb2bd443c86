"""Reading scorecards and entities from files, with every problem naming the file and the field.

Scorecards live as ``<dir>/<blueprint>/<scorecard>.json``, the body Port's API takes (the
project's ``scorecards/`` directory). Entities come as a JSON file holding a list of Port entity
objects or Port's answer ``{"entities": [...]}``, e.g. saved from ``GET
/v1/blueprints/{bp}/entities``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from port_bridge.scorecards.entity import Entity
from port_bridge.scorecards.model import Scorecard

_M = TypeVar("_M", bound=BaseModel)


class InputError(ValueError):
    """Input the command cannot use; the message (one line) names the file or option and the field."""


def parse_scorecard(document: Any, *, source: str) -> Scorecard:
    """One scorecard from Port's JSON; ``source`` names where it came from in errors."""
    return _parse(Scorecard, document, source=source)


def load_scorecard_dir(directory: Path, *, blueprints: Iterable[str] = ()) -> dict[str, list[Scorecard]]:
    """The scorecards under ``directory`` by blueprint (only ``blueprints``, when given)."""
    if not directory.is_dir():
        raise InputError(f"{directory}: no such scorecards directory")
    wanted = set(blueprints)
    found: dict[str, list[Scorecard]] = {}
    for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
        if folder.name.startswith(".") or (wanted and folder.name not in wanted):
            continue
        scorecards = [
            parse_scorecard(_read_json(path), source=str(path)) for path in sorted(folder.glob("*.json"))
        ]
        _check_unique(scorecards, source=str(folder))
        if scorecards:
            found[folder.name] = scorecards
    return found


def load_entities(path: Path) -> list[Entity]:
    """The entities of a file: a JSON list of entities, or ``{"entities": [...]}``."""
    document = _read_json(path)
    if isinstance(document, Mapping) and "entities" in document:
        document = document["entities"]
    if not isinstance(document, list):
        raise InputError(f'{path}: must hold a JSON list of entities or {{"entities": [...]}}')
    return [_parse(Entity, item, source=f"{path}: entities[{index}]") for index, item in enumerate(document)]


def parse_entities(documents: Iterable[Any], *, source: str) -> list[Entity]:
    return [
        _parse(Entity, item, source=f"{source}: entities[{index}]") for index, item in enumerate(documents)
    ]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise InputError(f"{path}: is not valid JSON: {error}") from None


def _parse(model: type[_M], document: Any, *, source: str) -> _M:
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InputError(f"{source}: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    """The first problem, by field (one line: fixing it may well fix the rest)."""
    problem = error.errors()[0]
    location = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def _check_unique(scorecards: list[Scorecard], *, source: str) -> None:
    seen: set[str] = set()
    for scorecard in scorecards:
        if scorecard.identifier in seen:
            raise InputError(f"{source}: two files define the scorecard {scorecard.identifier!r}")
        seen.add(scorecard.identifier)
