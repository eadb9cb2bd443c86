"""Action files: ``actions/<identifier>.yaml`` (or ``.json``), loaded and checked at start.

Each file holds two things side by side, so a platform team keeps one file per button:

* ``action``: the Port action exactly as Port's API takes it (``port-bridge apply`` pushes it);
* ``kratix``: which Promise it requests, and jq expressions over the run for the request's
  namespace, name and spec (and labels); ``entity``: how the catalog entity is built once the
  request has succeeded, jq over the run and the request object.

Everything is validated when the bridge starts, and every problem is reported with the file,
the field and, for jq, the compile error, so a broken mapping never reaches a developer's run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from port_bridge.mapping.jq import Jq, JqError

Operation = Literal["CREATE", "DAY-2", "DELETE"]
DEFAULT_TIMEOUT_SECONDS = 30 * 60
MAIN = "main"  # the id of an action's only (or first) request
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _to_jq(value: Any) -> Jq:
    if isinstance(value, Jq):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a jq expression (a string)")
    try:
        return Jq(value)
    except JqError as error:
        raise ValueError(f"jq does not compile: {error}") from None


JqExpression = Annotated[Jq, BeforeValidator(_to_jq)]


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"1h30m"`` or ``"7d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and float(value) > 0:
        return float(value)
    if (
        isinstance(value, str)
        and value
        and (match := _DURATION.fullmatch(value.strip()))
        and any(match.groups())
    ):
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        total = days * 86400 + hours * 3600 + minutes * 60 + seconds
        if total > 0:
            return float(total)
    raise ValueError(f"must be a positive duration such as 90s, 30m or 1h30m, not {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, arbitrary_types_allowed=True, frozen=True
    )


class KratixMapping(_Strict):
    """How a run becomes (or finds) a Kratix resource request."""

    promise: str = Field(min_length=1)
    namespace: JqExpression
    name: JqExpression
    spec: JqExpression | None = None
    labels: JqExpression | None = None
    allowed_namespaces: tuple[str, ...] | None = Field(default=None, alias="allowedNamespaces")
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, alias="timeout")

    @field_validator("timeout_seconds", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class EntityMapping(_Strict):
    """How the catalog entity is built from the run and the finished request."""

    blueprint: str = Field(min_length=1)
    identifier: JqExpression
    title: JqExpression | None = None
    team: JqExpression | None = None
    icon: str | None = None
    properties: JqExpression | None = None
    relations: JqExpression | None = None
    # Properties port-bridge computes from a scorecard of the blueprint: property -> scorecard
    # identifier; the value is the entity's readiness on it, 0-100 (port_bridge/scorecards).
    readiness: dict[str, str] = Field(default_factory=dict)


class PortTrigger(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["self-service"]
    operation: Operation
    blueprint_identifier: str | None = Field(default=None, alias="blueprintIdentifier")
    user_inputs: dict[str, Any] = Field(default_factory=dict, alias="userInputs")


class PortAction(BaseModel):
    """The fields of the Port action the bridge itself relies on; the rest passes through untouched."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    identifier: str = Field(min_length=1)
    title: str | None = None
    trigger: PortTrigger
    invocation_method: dict[str, Any] = Field(alias="invocationMethod")

    @field_validator("invocation_method")
    @classmethod
    def _asynchronous(cls, method: dict[str, Any]) -> dict[str, Any]:
        if method.get("synchronized", False) is not False:
            raise ValueError(
                "synchronized must be false (or left out): port-bridge's runs are asynchronous, it "
                "reports each run's result when Kratix has finished; with synchronized: true, Port "
                "(or its execution agent) would close the run as soon as intake answers"
            )
        return method


class RequestMapping(_Strict):
    """One Kratix request of an action, with the catalog entity it becomes."""

    id: str = Field(default=MAIN, pattern=r"^[a-z][a-z0-9-]{0,30}$")
    when: JqExpression | None = None  # the request is made only when this is true for the run
    kratix: KratixMapping
    entity: EntityMapping | None = None


class ActionConfig(_Strict):
    """One action file: the Port action and the Kratix request(s) it maps to.

    Most actions map to one request (``kratix`` and ``entity``); an action may map to several
    (``requests``: each with an ``id``, an optional ``when`` and its own ``kratix`` and ``entity``),
    created and followed together. The first request is the run's main one: it gives the run its
    ``externalRunId`` and link, and a DELETE's selected entity is its entity.
    """

    action: PortAction
    kratix: KratixMapping | None = None
    entity: EntityMapping | None = None
    requests: tuple[RequestMapping, ...] = ()
    source: Path = Field(default=Path(), exclude=True)
    raw_action: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @property
    def identifier(self) -> str:
        return self.action.identifier

    @property
    def operation(self) -> Operation:
        return self.action.trigger.operation

    @property
    def request_mappings(self) -> tuple[RequestMapping, ...]:
        """Every request of the action, the main one first."""
        if self.kratix is not None:
            return (RequestMapping(kratix=self.kratix, entity=self.entity),)
        return self.requests

    @property
    def promises(self) -> frozenset[str]:
        return frozenset(mapping.kratix.promise for mapping in self.request_mappings)

    @property
    def timeout_seconds(self) -> float:
        return max(mapping.kratix.timeout_seconds for mapping in self.request_mappings)

    @model_validator(mode="after")
    def _consistent(self) -> ActionConfig:
        if (self.kratix is None) == (not self.requests):
            raise ValueError("give either kratix (and entity) for one request, or requests for several")
        if self.requests and self.entity is not None:
            raise ValueError("with requests, each request has its own entity")
        mappings = self.request_mappings
        ids = [mapping.id for mapping in mappings]
        if len(set(ids)) != len(ids):
            raise ValueError(f"request ids must be distinct, not {', '.join(ids)}")
        if mappings[0].when is not None:
            raise ValueError(f"the first request ({ids[0]}) is the main one: it cannot have a when")
        where = "" if self.kratix is not None else "requests: "
        for mapping in mappings:
            name = "" if self.kratix is not None else f"{mapping.id}: "
            if self.operation != "DELETE" and mapping.kratix.spec is None:
                raise ValueError(f"{where}{name}kratix.spec is required for a {self.operation} action")
            if self.operation != "DELETE" and mapping.entity is None:
                raise ValueError(
                    f"{where}{name}entity is required for a {self.operation} action: "
                    "it is what the catalog shows"
                )
        blueprint = self.action.trigger.blueprint_identifier
        main_entity = mappings[0].entity
        if main_entity is not None and blueprint and main_entity.blueprint != blueprint:
            raise ValueError(
                f"entity.blueprint ({main_entity.blueprint}) differs from "
                f"action.trigger.blueprintIdentifier ({blueprint})"
            )
        return self


class ActionConfigError(ValueError):
    """One or more action files are invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid action configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_action_file(path: Path) -> ActionConfig:
    """Read and validate one action file; errors name the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ActionConfigError([f"{path}: cannot be read as {path.suffix[1:].upper()}: {error}"]) from None
    if not isinstance(document, Mapping):
        raise ActionConfigError([f"{path}: must hold a mapping with action, kratix and entity"])
    try:
        config = ActionConfig.model_validate(
            {**document, "source": path, "raw_action": document.get("action") or {}}
        )
    except ValidationError as error:
        raise ActionConfigError([_describe(path, problem) for problem in error.errors()]) from None
    if config.identifier != path.stem:
        raise ActionConfigError(
            [f"{path}: action.identifier ({config.identifier}) must match the file name ({path.stem})"]
        )
    return config


def load_actions(directory: Path) -> dict[str, ActionConfig]:
    """Every action file in ``directory``, by action identifier; all problems are reported at once."""
    if not directory.is_dir():
        raise ActionConfigError([f"{directory}: the actions directory does not exist"])
    configs: dict[str, ActionConfig] = {}
    problems: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json") or path.name.startswith("."):
            continue
        try:
            config = load_action_file(path)
        except ActionConfigError as error:
            problems += error.problems
            continue
        if config.identifier in configs:
            problems.append(
                f"{path}: action {config.identifier} is also defined in {configs[config.identifier].source}"
            )
        configs[config.identifier] = config
    if problems:
        raise ActionConfigError(problems)
    return configs


def _describe(path: Path, problem: Mapping[str, Any]) -> str:
    location = ".".join(
        str(part) for part in problem.get("loc", ()) if part != "function-after[_consistent()]"
    )
    message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{path}: {location}: {message}" if location else f"{path}: {message}"
