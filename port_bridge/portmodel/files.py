"""The Port model as the files hold it: ``blueprints/*.json``, ``actions/*.yaml``, ``scorecards/<bp>/*.json``.

Each body is what Port's API takes (an action file's ``action`` part; its ``kratix`` and
``entity`` mappings stay with the bridge). Action files are read one by one by the bridge's own
loader (:mod:`port_bridge.mapping.actions`), so ``apply`` accepts exactly the files intake and
the controller run with. Every body is checked against what Port takes for its route
(:mod:`.schema`), and every problem of every file is reported at once, each naming the file
and the field, before anything is sent to Port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from port_bridge.mapping.actions import ActionConfigError, load_action_file
from port_bridge.portmodel.schema import Kind, body_problems

Json = dict[str, Any]
KINDS: tuple[Kind, ...] = ("blueprint", "action", "scorecard")
DIRECTORIES: Mapping[Kind, str] = {"blueprint": "blueprints", "action": "actions", "scorecard": "scorecards"}
ACTION_SUFFIXES = (".yaml", ".yml", ".json")  # as the bridge's loader reads actions/


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Which object of Port's: ``("scorecard", "production-readiness", blueprint="postgresql")``."""

    kind: Kind
    identifier: str
    blueprint: str = ""  # a scorecard's blueprint; scorecard identifiers are unique per blueprint

    @property
    def name(self) -> str:
        return f"{self.blueprint}/{self.identifier}" if self.blueprint else self.identifier

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ModelObject:
    """One object as a file defines it: the body to send to Port, and where it came from."""

    key: ObjectKey
    body: Json
    source: Path
    field_prefix: str = ""  # where the body sits in its file: "action." in an action file

    def where(self, field: str = "") -> str:
        """``actions/x.yaml: action.trigger.blueprintIdentifier``, for messages."""
        return f"{self.source}: {self.field_prefix}{field}" if field else str(self.source)


@dataclass(frozen=True)
class Model:
    directory: Path
    objects: Mapping[ObjectKey, ModelObject] = field(default_factory=dict)

    def of_kind(self, kind: Kind) -> list[ModelObject]:
        return [self.objects[key] for key in sorted(self.objects) if key.kind == kind]

    def identifiers(self, kind: Kind) -> set[str]:
        return {key.identifier for key in self.objects if key.kind == kind}


class ModelError(ValueError):
    """Files Port would refuse (or that cannot be read); ``problems`` name each file and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_model(directory: Path) -> Model:
    """Every object under ``directory``; :class:`ModelError` lists every problem found."""
    if not any((directory / name).is_dir() for name in DIRECTORIES.values()):
        raise ModelError(
            [f"{directory} holds none of blueprints/, actions/ and scorecards/: there is nothing to apply"]
        )
    objects: dict[ObjectKey, ModelObject] = {}
    problems: list[str] = []
    for found in _read(directory, problems):
        schema = [f"{found.where(p.field)}: {p.message}" for p in body_problems(found.key.kind, found.body)]
        if schema:
            problems += schema
        elif found.key in objects:
            problems.append(f"{found.source}: {found.key} is also defined in {objects[found.key].source}")
        else:
            objects[found.key] = found
    if problems:
        raise ModelError(problems)
    return Model(directory, objects)


def _read(directory: Path, problems: list[str]) -> Iterator[ModelObject]:
    for path in _files(directory / "blueprints", "*.json"):
        body = _json_object(path, problems)
        if body is not None:
            yield ModelObject(ObjectKey("blueprint", _identifier(body)), body, path)
    for path in _files(directory / "actions", "*"):
        if path.suffix not in ACTION_SUFFIXES:
            continue
        try:
            config = load_action_file(path)
        except ActionConfigError as error:
            problems += error.problems
        else:
            key = ObjectKey("action", config.identifier)
            yield ModelObject(key, dict(config.raw_action), config.source, field_prefix="action.")
    for path in _files(directory / "scorecards", "*/*.json"):
        body = _json_object(path, problems)
        if body is not None:
            key = ObjectKey("scorecard", _identifier(body), blueprint=path.parent.name)
            yield ModelObject(key, body, path)


def _files(directory: Path, pattern: str) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob(pattern) if not path.name.startswith("."))


def _json_object(path: Path, problems: list[str]) -> Json | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append(f"{path}: cannot be read as JSON: {error}")
        return None
    if not isinstance(body, dict):
        problems.append(f"{path}: must hold one JSON object, not {type(body).__name__}")
        return None
    return body


def _identifier(body: Mapping[str, Any]) -> str:
    identifier = body.get("identifier")
    return identifier if isinstance(identifier, str) else ""  # the schema check names a missing one
