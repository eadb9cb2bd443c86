"""Levels, filters and readiness, from Port's "Total level calculation" and the documented formula.

Port (docs: scorecards/concepts-and-structure): an entity always starts at the base level and
reaches a level once it passes every rule of that level and of all lower levels; passing all
Silver rules but one of two Bronze rules leaves it at Basic. The property test below states that
rule independently of the product's code and checks the evaluator and readiness against it.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from port_bridge.scorecards import NotApplicable, Scorecard, applies, evaluate, parse_scorecard, readiness
from tests.conftest import REPO

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def flag_rule(name: str, level: str) -> dict[str, Any]:
    """A rule passed by entities whose boolean property ``name`` is true."""
    return {
        "identifier": name,
        "title": f"{name} is set",
        "level": level,
        "query": {"combinator": "and", "conditions": [{"property": name, "operator": "=", "value": True}]},
    }


def scorecard_of(rules: list[tuple[str, str]], **extra: Any) -> Scorecard:
    document = {
        "identifier": "s",
        "title": "S",
        "rules": [flag_rule(n, level) for n, level in rules],
        **extra,
    }
    return parse_scorecard(document, source="test")


def entity_passing(*names: str) -> dict[str, Any]:
    return {"identifier": "e", "properties": dict.fromkeys(names, True)}


# The docs' example: two Bronze rules, four Silver rules.
DOCS_EXAMPLE = scorecard_of(
    [
        ("b1", "Bronze"),
        ("b2", "Bronze"),
        ("s1", "Silver"),
        ("s2", "Silver"),
        ("s3", "Silver"),
        ("s4", "Silver"),
    ]
)


@pytest.mark.parametrize(
    ("passing", "level"),
    [
        ((), "Basic"),  # every entity starts at Basic
        (("b1",), "Basic"),
        (("b1", "b2"), "Bronze"),
        (("b1", "b2", "s1", "s2", "s3"), "Bronze"),
        (("b1", "b2", "s1", "s2", "s3", "s4"), "Silver"),
        (("b1", "s1", "s2", "s3", "s4"), "Basic"),  # the docs' "multiple rules scenario"
    ],
)
def test_the_docs_level_calculation(passing: tuple[str, ...], level: str) -> None:
    result = evaluate(entity_passing(*passing), DOCS_EXAMPLE, now=NOW)
    assert result is not None
    assert result.level.title == level
    assert result.passed == len(passing)
    assert {r.rule.identifier for r in result.failing} == {"b1", "b2", "s1", "s2", "s3", "s4"} - set(passing)


def test_levels_without_rules_are_not_reached_by_themselves() -> None:
    gap = scorecard_of([("bronze", "Bronze"), ("gold", "Gold")])  # Silver owns no rule
    assert _level(gap, "bronze") == "Bronze"  # not Silver
    assert _level(gap, "bronze", "gold") == "Gold"
    assert _level(gap, "gold") == "Basic"
    only_bronze = scorecard_of([("bronze", "Bronze")])
    assert _level(only_bronze, "bronze") == "Bronze"  # not Gold
    no_rules = scorecard_of([])
    assert _level(no_rules) == "Basic"
    assert readiness(entity_passing(), no_rules, now=NOW) == 100  # nothing is asked of it


def test_custom_levels_in_their_order() -> None:
    traffic_light = [
        {"title": "Red", "color": "red"},
        {"title": "Orange", "color": "orange"},
        {"title": "Yellow", "color": "yellow"},
        {"title": "Green", "color": "green"},
    ]
    scorecard = scorecard_of([("g", "Green"), ("o", "Orange"), ("y", "Yellow")], levels=traffic_light)
    assert [_level(scorecard, *names) for names in [(), ("o",), ("o", "y"), ("o", "y", "g"), ("y", "g")]] == [
        "Red",
        "Orange",
        "Yellow",
        "Green",
        "Red",
    ]


def test_without_levels_a_scorecard_has_port_s_default_ones() -> None:
    scorecard = scorecard_of([("b", "Bronze")])
    assert [(level.title, level.color) for level in scorecard.levels] == [
        ("Basic", "paleBlue"),
        ("Bronze", "bronze"),
        ("Silver", "silver"),
        ("Gold", "gold"),
    ]


def test_the_filter_decides_whether_the_scorecard_applies() -> None:
    scorecard = scorecard_of(
        [("b", "Bronze")],
        filter={
            "combinator": "or",
            "conditions": [
                {"property": "tier", "operator": "=", "value": "critical"},
                {"property": "$team", "operator": "containsAny", "value": ["platform"]},
            ],
        },
    )
    outside = {"identifier": "e", "properties": {"tier": "experimental", "b": True}}
    assert evaluate(outside, scorecard, now=NOW) is None
    assert not applies(outside, scorecard, now=NOW)
    with pytest.raises(NotApplicable, match="does not apply"):
        readiness(outside, scorecard, now=NOW)
    for inside in (
        {"identifier": "e", "properties": {"tier": "critical", "b": True}},
        {"identifier": "e", "team": ["platform"], "properties": {"b": True}},
    ):
        result = evaluate(inside, scorecard, now=NOW)
        assert result is not None and result.level.title == "Bronze"
        assert applies(inside, scorecard, now=NOW)


FOUR_LEVELS = scorecard_of(
    [("b", "Bronze"), ("s1", "Silver"), ("s2", "Silver"), ("g1", "Gold"), ("g2", "Gold")]
)


@pytest.mark.parametrize(
    ("passing", "level", "expected"),
    [
        ((), "Basic", 0),
        (("s1", "s2", "g1", "g2"), "Basic", 0),  # higher rules do not count below the level reached
        (("b",), "Bronze", 34),  # bands start at ceil(100 r / 3): 0, 34, 67, 100
        (("b", "s1"), "Bronze", 50),  # 34 + floor(1/2 * 33)
        (("b", "s2", "g1", "g2"), "Bronze", 50),
        (("b", "s1", "s2"), "Silver", 67),
        (("b", "s1", "s2", "g2"), "Silver", 83),  # 67 + floor(1/2 * 33)
        (("b", "s1", "s2", "g1", "g2"), "Gold", 100),
    ],
)
def test_readiness_follows_the_level(passing: tuple[str, ...], level: str, expected: int) -> None:
    result = evaluate(entity_passing(*passing), FOUR_LEVELS, now=NOW)
    assert result is not None and result.level.title == level
    assert result.readiness == expected
    assert readiness(entity_passing(*passing), FOUR_LEVELS, now=NOW) == expected


def test_readiness_rounds_down_within_a_band() -> None:
    gold = [f"g{i}" for i in range(4)]
    scorecard = scorecard_of([("b", "Bronze"), ("s", "Silver"), *((name, "Gold") for name in gold)])
    assert readiness(entity_passing("b", "s", *gold[:3]), scorecard, now=NOW) == 91  # 67 + floor(3/4 * 33)
    two_bands = scorecard_of([("b", "Bronze"), ("s1", "Silver"), ("s2", "Silver"), ("s3", "Silver")])
    assert readiness(entity_passing("b", "s1", "s2"), two_bands, now=NOW) == 83  # 50 + floor(2/3 * 50)


LEVEL_TITLES = ["L0", "L1", "L2", "L3", "L4", "L5"]


@st.composite
def scorecards_and_entities(draw: st.DrawFn) -> tuple[list[list[str]], set[str]]:
    """Rules per level above the base (some levels own none) and the rules an entity passes."""
    levels = draw(st.integers(min_value=1, max_value=5))
    per_level = [
        [f"r{level}_{i}" for i in range(draw(st.integers(min_value=0, max_value=4)))]
        for level in range(levels)
    ]
    every_rule = [rule for rules in per_level for rule in rules]
    passing = draw(st.sets(st.sampled_from(every_rule))) if every_rule else set()
    return per_level, passing


@given(scorecards_and_entities())
def test_level_and_readiness_agree_with_port_s_rule(case: tuple[list[list[str]], set[str]]) -> None:
    per_level, passing = case
    levels = [{"title": title, "color": "blue"} for title in LEVEL_TITLES[: len(per_level) + 1]]
    rules = [(rule, LEVEL_TITLES[index + 1]) for index, names in enumerate(per_level) for rule in names]
    scorecard = scorecard_of(rules, levels=levels)
    result = evaluate(entity_passing(*passing), scorecard, now=NOW)
    assert result is not None

    # Port's rule, stated here on its own: the highest level owning rules whose rules, and all
    # rules below it, are passed; the base level if there is none.
    owning = [index for index, names in enumerate(per_level) if names]
    reached = 0
    for position, index in enumerate(owning, start=1):
        if not all(rule in passing for names in per_level[: index + 1] for rule in names):
            break
        reached = position
    expected_level = LEVEL_TITLES[owning[reached - 1] + 1] if reached else "L0"
    assert result.level.title == expected_level

    # Readiness: 100 exactly at the top, and the level can be read back from the number.
    bands = len(owning)
    assert 0 <= result.readiness <= 100
    assert (result.readiness == 100) == (reached == bands)
    if bands:
        starts = [math.ceil(100 * band / bands) for band in range(bands + 1)]
        assert sum(start <= result.readiness for start in starts[1:]) == reached


def test_the_project_s_postgresql_scorecard() -> None:
    path = REPO / "scorecards" / "postgresql" / "production-readiness.json"
    scorecard = parse_scorecard(json.loads(Path(path).read_text()), source=str(path))
    ready = {"team": "team-a", "host": "orders.team-a.svc", "backupEnabled": True, "environment": "prod"}
    cases = [
        (ready, "Gold"),
        ({**ready, "environment": "dev"}, "Silver"),
        ({**ready, "backupEnabled": False}, "Bronze"),
        ({**ready, "host": ""}, "Basic"),
        ({"team": "team-a", "host": "orders.team-a.svc"}, "Bronze"),
        ({}, "Basic"),
    ]
    for properties, level in cases:
        result = evaluate({"identifier": "orders", "properties": properties}, scorecard, now=NOW)
        assert result is not None and result.level.title == level, properties


def _level(scorecard: Scorecard, *passing: str) -> str:
    result = evaluate(entity_passing(*passing), scorecard, now=NOW)
    assert result is not None
    return result.level.title
