"""The scorecard evaluator: the level an entity reaches, every rule's result, and its readiness.

Levels (docs: scorecards/concepts-and-structure, "Total level calculation"): an entity always
starts at the base level (the first); it reaches a level when it passes every rule of that level
and of every lower level, so failing one Bronze rule keeps it at the base level whatever else it
passes. A level that owns no rules is not reached by itself (Port's docs are silent): the entity
shows the highest level that owns rules and that it reaches, and a scorecard without rules leaves
every entity at the base level. ``filter`` decides whether the scorecard applies at all; an
entity it leaves out has no level on that scorecard.

A rule passes when its query does: ``and`` needs every condition, ``or`` one of them. Every
condition is evaluated (none is skipped) so a failing rule can show each value it read.

:func:`readiness` turns the result into the 0-100 number port-bridge writes to the catalog
(``productionReadiness``), chosen so that the number and the level Port shows always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from port_bridge.scorecards.conditions import holds
from port_bridge.scorecards.entity import Entity
from port_bridge.scorecards.model import Condition, Level, Query, Rule, Scorecard


class NotApplicable(ValueError):
    """The scorecard's ``filter`` leaves the entity out: it has no level on that scorecard."""


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    actual: Any
    """The entity's value of the condition's property or relation (``None`` when it has none)."""
    passed: bool


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    passed: bool
    conditions: tuple[ConditionResult, ...]

    @property
    def failing(self) -> tuple[ConditionResult, ...]:
        return tuple(result for result in self.conditions if not result.passed)


@dataclass(frozen=True)
class ScorecardResult:
    scorecard: Scorecard
    level: Level
    """The level reached (the base level when no rule-owning level is)."""
    rules: tuple[RuleResult, ...]
    readiness: int

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.rules)

    @property
    def failing(self) -> tuple[RuleResult, ...]:
        return tuple(result for result in self.rules if not result.passed)


def entity_of(entity: Entity | dict[str, Any]) -> Entity:
    return entity if isinstance(entity, Entity) else Entity.model_validate(entity)


def applies(entity: Entity | dict[str, Any], scorecard: Scorecard, *, now: datetime | None = None) -> bool:
    """Whether the scorecard's filter (if any) lets the entity be evaluated."""
    if scorecard.filter is None:
        return True
    return _query(scorecard.filter, entity_of(entity), _now(now))[0]


def evaluate(
    entity: Entity | dict[str, Any], scorecard: Scorecard, *, now: datetime | None = None
) -> ScorecardResult | None:
    """The entity's result on the scorecard, or ``None`` when the filter leaves it out.

    ``entity`` is an :class:`Entity` or Port's entity JSON; ``now`` (default: the current time)
    anchors date presets such as ``lastWeek``.
    """
    subject, moment = entity_of(entity), _now(now)
    if not applies(subject, scorecard, now=moment):
        return None
    results = tuple(_rule(rule, subject, moment) for rule in scorecard.rules)
    passed = {result.rule.identifier for result in results if result.passed}
    owning = [level for level in scorecard.levels[1:] if scorecard.rules_of(level)]
    reached = 0
    for level in owning:
        if not all(rule.identifier in passed for rule in scorecard.rules_of(level)):
            break
        reached += 1
    level = owning[reached - 1] if reached else scorecard.base_level
    progress = _share_passed(scorecard.rules_of(owning[reached]), passed) if reached < len(owning) else 0.0
    return ScorecardResult(scorecard, level, results, _readiness(reached, len(owning), progress))


def readiness(entity: Entity | dict[str, Any], scorecard: Scorecard, *, now: datetime | None = None) -> int:
    """How ready the entity is on the scorecard, 0-100, in step with the level Port shows.

    With ``k`` levels that own rules above the base level, the range is cut into ``k`` bands
    that start at ``ceil(100 * r / k)``: the base level is ``0 ..`` the first band's start minus 1,
    and reaching the ``r``-th level puts the entity at the start of band ``r``. Within a band the
    share of the next level's rules already passed moves it up, never into the next band
    (``start_r + floor(share * (start_r+1 - start_r))`` with ``share < 1``). So 100 means the top
    level, and the level can be read back from the number. Rules of levels above the next one
    do not count, as they do not count for the level either. A scorecard without rules gives 100
    (nothing is asked of the entity).

    With the default levels (three with rules): Basic 0-33, Bronze 34-66, Silver 67-99, Gold 100;
    an entity at Bronze that passes one of two Silver rules is at 50.

    Raises :class:`NotApplicable` when the scorecard's filter leaves the entity out.
    """
    result = evaluate(entity, scorecard, now=now)
    if result is None:
        raise NotApplicable(f"scorecard {scorecard.identifier!r} does not apply to this entity (filter)")
    return result.readiness


def _readiness(reached: int, bands: int, progress: float) -> int:
    if bands == 0 or reached == bands:
        return 100
    start, end = _band_start(reached, bands), _band_start(reached + 1, bands)
    return start + int(progress * (end - start))


def _band_start(band: int, bands: int) -> int:
    return -(-100 * band // bands)  # ceil(100 * band / bands) in integers


def _share_passed(rules: tuple[Rule, ...], passed: set[str]) -> float:
    return sum(rule.identifier in passed for rule in rules) / len(rules)


def _rule(rule: Rule, entity: Entity, now: datetime) -> RuleResult:
    passed, conditions = _query(rule.query, entity, now)
    return RuleResult(rule, passed, conditions)


def _query(query: Query, entity: Entity, now: datetime) -> tuple[bool, tuple[ConditionResult, ...]]:
    results = tuple(_condition(condition, entity, now) for condition in query.conditions)
    outcomes = [result.passed for result in results]
    return (all(outcomes) if query.combinator == "and" else any(outcomes)), results


def _condition(condition: Condition, entity: Entity, now: datetime) -> ConditionResult:
    if condition.relation is not None:
        actual = entity.relation_value(condition.relation)
    else:
        actual = entity.property_value(condition.subject)
    return ConditionResult(condition, actual, holds(condition, actual, now=now))


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now
