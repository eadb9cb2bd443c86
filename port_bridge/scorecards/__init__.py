"""Port scorecards in the product: the one evaluator, and the ``port-bridge scorecards`` command.

    from port_bridge.scorecards import evaluate, parse_scorecard, readiness

    scorecard = parse_scorecard(json.loads(path.read_text()), source=str(path))
    result = evaluate(entity_json, scorecard)      # None when the scorecard's filter leaves it out
    result.level.title, [r.rule.identifier for r in result.failing]
    readiness(entity_json, scorecard)              # 0-100, in step with the level

Modules: :mod:`.model` (a scorecard as typed data), :mod:`.entity` (what a condition reads),
:mod:`.conditions` and :mod:`.dates` (what each operator means), :mod:`.evaluate` (rules, levels,
readiness), :mod:`.files` (reading scorecards and entities), :mod:`.report` and :mod:`.command`
(the command). Nothing here imports the emulators: the Port emulator has its own evaluator, and
the tests check this one against Port's documented semantics, not against it.
"""

from __future__ import annotations

from port_bridge.scorecards.entity import Entity
from port_bridge.scorecards.evaluate import (
    ConditionResult,
    NotApplicable,
    RuleResult,
    ScorecardResult,
    applies,
    evaluate,
    readiness,
)
from port_bridge.scorecards.files import InputError, load_scorecard_dir, parse_scorecard
from port_bridge.scorecards.model import Condition, Level, Query, Rule, Scorecard

__all__ = [
    "Condition",
    "ConditionResult",
    "Entity",
    "InputError",
    "Level",
    "NotApplicable",
    "Query",
    "Rule",
    "RuleResult",
    "Scorecard",
    "ScorecardResult",
    "applies",
    "evaluate",
    "load_scorecard_dir",
    "parse_scorecard",
    "readiness",
]
