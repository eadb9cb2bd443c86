"""Normalising and comparing bodies: only real changes show, as key paths."""

from __future__ import annotations

from typing import Any

import pytest

from port_bridge.portmodel.diff import MISSING, Difference, differences, shown
from port_bridge.portmodel.normalise import DEFAULT_LEVELS, normalised, same

RULE = {
    "identifier": "backups",
    "title": "Backups",
    "level": "Silver",
    "query": {"combinator": "and", "conditions": []},
}


def test_port_bookkeeping_defaults_and_nulls_are_not_changes() -> None:
    in_file = {
        "identifier": "redis",
        "title": "Redis",
        "description": None,
        "schema": {"properties": {"size": {"type": "string"}}},
        "relations": {"team": {"target": "team", "required": False, "many": False}},
    }
    from_port = {
        "identifier": "redis",
        "title": "Redis",
        "schema": {"properties": {"size": {"type": "string"}}, "required": []},
        "relations": {"team": {"target": "team", "required": False, "many": False}},
        "calculationProperties": {},
        "mirrorProperties": {},
        "aggregationProperties": {},
        "teamInheritance": None,
        "createdAt": "2026-01-01T00:00:00Z",
        "createdBy": "someone",
        "updatedAt": "2026-01-02T00:00:00Z",
        "updatedBy": "someone",
    }
    assert normalised("blueprint", in_file) == normalised("blueprint", from_port)
    assert normalised("blueprint", from_port)["relations"] == {"team": {"target": "team"}}


def test_a_value_unlike_its_default_stays() -> None:
    action = {
        "identifier": "a",
        "requiredApproval": True,
        "publish": False,
        "invocationMethod": {"method": "PUT"},
    }
    assert normalised("action", action) == action
    assert normalised("action", {**action, "requiredApproval": 0})["requiredApproval"] == 0  # 0 is not false


def test_the_default_scorecard_levels_equal_no_levels() -> None:
    assert normalised(
        "scorecard", {"identifier": "s", "levels": DEFAULT_LEVELS, "blueprint": "x", "id": "1"}
    ) == {"identifier": "s"}


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}, True),
        ("1", 1, False),
    ],
)
def test_json_equality(left: Any, right: Any, equal: bool) -> None:
    assert same(left, right) is equal


def test_fields_are_reported_by_key_path() -> None:
    before = {"title": "Redis", "schema": {"properties": {"size": {"enum": ["small"]}, "old": {}}}}
    after = {
        "title": "Redis cache",
        "schema": {"properties": {"size": {"enum": ["small", "large"]}, "new": {"type": "string"}}},
    }
    assert [d.describe() for d in differences(before, after)] == [
        '~ title: "Redis" -> "Redis cache"',
        '~ schema.properties.size.enum: ["small"] -> ["small", "large"]',
        '+ schema.properties.new: {"type": "string"}',
        "- schema.properties.old: {}",
    ]


def test_rules_are_compared_by_identifier_and_levels_by_position() -> None:
    added = {**RULE, "identifier": "monitoring"}
    before = {"rules": [RULE], "levels": [{"title": "Basic", "color": "blue"}]}
    after = {"rules": [added, {**RULE, "level": "Gold"}], "levels": [{"title": "Basic", "color": "red"}]}
    assert differences(before, after) == [
        Difference("rules[monitoring]", MISSING, added),
        Difference("rules[backups].level", "Silver", "Gold"),
        Difference("levels[0].color", "blue", "red"),
    ]


def test_long_values_are_cut_short() -> None:
    assert len(shown("x" * 1000)) == 160 and shown("x" * 1000).endswith("…")
