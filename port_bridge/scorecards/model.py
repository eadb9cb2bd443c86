"""A Port scorecard as typed data, parsed from the JSON Port's API takes and returns.

The same models read the project's files (``scorecards/<blueprint>/*.json``, exactly the body
of ``POST /v1/blueprints/{bp}/scorecards``) and what ``GET`` returns; the bookkeeping Port adds
(``id``, ``blueprint``, ``createdAt``...) is ignored. Shapes follow Port's OpenAPI spec for that
route and "Scorecards: concepts and structure" (docs.port.io/scorecards/concepts-and-structure):

- ``levels``: ordered ``{title, color}``, default Basic, Bronze, Silver, Gold; the first is the
  base level every entity starts at and owns no rules;
- ``rules``: ``{identifier, title, description?, level, query: {combinator, conditions}}``, the
  level one of the scorecard's own;
- a condition reads one ``property`` (a blueprint property or a meta-property such as ``$team``)
  or one ``relation`` and compares it with ``value`` using ``operator``; ``isEmpty`` and
  ``isNotEmpty`` take no value and may carry ``not``; ``between``, ``notBetween`` (and ``=``) take a
  date range ``{from, to}`` or ``{preset}``; ``containsAny`` and ``in`` take an array;
- ``filter``: a query choosing which entities the scorecard applies to.

What Port would refuse is refused here too, with the field named, so a bad file fails before the
evaluator meets it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from port_bridge.scorecards.dates import PRESETS, Preset, as_utc

Scalar = str | int | float | bool
Combinator = Literal["and", "or"]
EMPTINESS = frozenset({"isEmpty", "isNotEmpty"})
MEMBERSHIP = frozenset({"containsAny", "in"})
DATE_RANGE = frozenset({"between", "notBetween"})
COMPARISON = frozenset({"=", "!=", ">", "<", ">=", "<="})
TEXT = frozenset(
    {"contains", "doesNotContains", "beginsWith", "doesNotBeginsWith", "endsWith", "doesNotEndsWith"}
)
Operator = Literal[
    "=",
    "!=",
    ">",
    "<",
    ">=",
    "<=",
    "contains",
    "doesNotContains",
    "beginsWith",
    "doesNotBeginsWith",
    "endsWith",
    "doesNotEndsWith",
    "containsAny",
    "in",
    "isEmpty",
    "isNotEmpty",
    "between",
    "notBetween",
]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9@_=\-]+$", max_length=100)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class DateRange(_Model):
    """An absolute range; both ends belong to it."""

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if as_utc(self.start) > as_utc(self.end):
            raise ValueError("from must not be later than to")
        return self


class DatePreset(_Model):
    preset: Preset

    model_config = ConfigDict(extra="forbid")


ConditionValue = DateRange | DatePreset | list[Scalar] | Scalar


class Condition(_Model):
    """One check of one property (or meta-property) or relation of an entity."""

    property_name: str | None = Field(default=None, alias="property", min_length=1)
    relation: str | None = Field(default=None, min_length=1)
    operator: Operator
    value: ConditionValue | None = None
    negate: bool = Field(default=False, alias="not")

    @field_validator("value", mode="wrap")
    @classmethod
    def _value(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(_value_problem(value)) from None

    @property
    def subject(self) -> str:
        """What the condition reads: ``relation`` for relations, else the property's name."""
        return self.relation if self.relation is not None else str(self.property_name)

    @property
    def is_relation(self) -> bool:
        return self.relation is not None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.property_name is None) == (self.relation is None):
            raise ValueError("a condition names exactly one of property or relation")
        operator, value = self.operator, self.value
        if self.negate and operator not in EMPTINESS:
            raise ValueError(f"'not' applies only to isEmpty and isNotEmpty, not to {operator}")
        if operator in EMPTINESS:
            return self
        if value is None:
            raise ValueError(f"operator {operator} needs a value")
        if operator in DATE_RANGE and not isinstance(value, DateRange | DatePreset):
            raise ValueError(f"operator {operator} needs a date range {{from, to}} or {{preset}}")
        if operator in MEMBERSHIP and not isinstance(value, list):
            raise ValueError(f"operator {operator} needs an array of values")
        if operator not in DATE_RANGE and operator != "=" and isinstance(value, DateRange | DatePreset):
            raise ValueError(f"a date range goes with between, notBetween or =, not {operator}")
        if isinstance(value, list) and operator not in MEMBERSHIP | {"=", "!="}:
            raise ValueError(f"operator {operator} compares with one value, not an array")
        return self


class Query(_Model):
    combinator: Combinator
    conditions: tuple[Condition, ...] = Field(min_length=1)


class Level(_Model):
    title: str = Field(min_length=1)
    color: str | None = None


DEFAULT_LEVELS = (
    Level(title="Basic", color="paleBlue"),
    Level(title="Bronze", color="bronze"),
    Level(title="Silver", color="silver"),
    Level(title="Gold", color="gold"),
)


class Rule(_Model):
    identifier: Identifier
    title: str
    description: str | None = None
    level: str
    query: Query


class Scorecard(_Model):
    identifier: str = Field(min_length=1, max_length=100)
    title: str
    levels: tuple[Level, ...] = Field(default=DEFAULT_LEVELS, min_length=1)
    rules: tuple[Rule, ...] = ()
    filter: Query | None = None

    @field_validator("levels", mode="before")
    @classmethod
    def _default_levels(cls, value: Any) -> Any:
        return DEFAULT_LEVELS if value is None or value == [] else value

    @model_validator(mode="after")
    def _rules_on_levels(self) -> Self:
        titles = [level.title for level in self.levels]
        if len(set(titles)) != len(titles):
            raise ValueError(f"levels: every level needs its own title, got {titles}")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.identifier in seen:
                raise ValueError(f"rules: the identifier {rule.identifier!r} is used twice")
            seen.add(rule.identifier)
            if rule.level not in titles:
                raise ValueError(
                    f"rules: rule {rule.identifier!r} has level {rule.level!r}, not one of {titles}"
                )
            if rule.level == titles[0]:
                raise ValueError(
                    f"rules: rule {rule.identifier!r} is on the base level {titles[0]!r}, which owns no rules"
                )
        return self

    @property
    def base_level(self) -> Level:
        return self.levels[0]

    def rules_of(self, level: Level) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.level == level.title)


def _value_problem(value: Any) -> str:
    if isinstance(value, dict) and "preset" in value:
        return f"a date preset is one of {', '.join(PRESETS)}; got {value['preset']!r}"
    if isinstance(value, dict) and ("from" in value or "to" in value):
        return "a date range is {from, to}: two ISO 8601 date-times, from no later than to"
    if isinstance(value, dict):
        return "an object value is a date range {from, to} or {preset}"
    return "a value is a string, a number, a boolean, or an array of them"
