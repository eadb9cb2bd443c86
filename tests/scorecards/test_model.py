"""Scorecards and entities parsed from Port's JSON; what Port would refuse is refused, by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from port_bridge.scorecards import InputError, load_scorecard_dir, parse_scorecard
from port_bridge.scorecards.files import load_entities
from tests.conftest import REPO


def with_condition(condition: dict[str, Any], **rule: Any) -> dict[str, Any]:
    return {
        "identifier": "s",
        "title": "S",
        "rules": [
            {
                "identifier": "r",
                "title": "R",
                "level": "Bronze",
                "query": {"combinator": "and", "conditions": [condition]},
                **rule,
            }
        ],
    }


def test_every_scorecard_the_project_ships_parses() -> None:
    found = load_scorecard_dir(REPO / "scorecards")
    paths = sorted((REPO / "scorecards").glob("*/*.json"))
    assert paths, "the project ships scorecards"
    assert sum(len(scorecards) for scorecards in found.values()) == len(paths)
    for path in paths:
        scorecard = next(
            s for s in found[path.parent.name] if s.identifier == json.loads(path.read_text())["identifier"]
        )
        assert scorecard.rules, path


def test_what_port_returns_parses_with_its_bookkeeping_ignored() -> None:
    answer = {
        "id": "sc_123",
        "identifier": "ownership",
        "title": "Ownership",
        "blueprint": "service",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "updatedBy": "auth0|abc",
        "levels": [{"title": "Basic", "color": "paleBlue"}, {"title": "Bronze", "color": "bronze"}],
        "rules": [
            {
                "identifier": "has-team",
                "title": "Has a team",
                "level": "Bronze",
                "description": "Someone owns it",
                "query": {
                    "combinator": "and",
                    "conditions": [{"operator": "isNotEmpty", "property": "$team"}],
                },
            }
        ],
    }
    scorecard = parse_scorecard(answer, source="Port")
    assert scorecard.identifier == "ownership"
    [rule] = scorecard.rules
    assert (rule.level, rule.description, rule.query.conditions[0].subject) == (
        "Bronze",
        "Someone owns it",
        "$team",
    )


REFUSED = [
    (with_condition({"property": "p", "operator": "isEmpty"}, level="Basic"), "base level 'Basic'"),
    (
        with_condition({"property": "p", "operator": "isEmpty"}, level="Platinum"),
        "level 'Platinum', not one of",
    ),
    (with_condition({"property": "p", "operator": "like", "value": "x"}), "conditions.0.operator"),
    (with_condition({"property": "p", "operator": "="}), "operator = needs a value"),
    (with_condition({"property": "p", "operator": "in", "value": "prod"}), "needs an array"),
    (with_condition({"property": "p", "operator": "containsAny", "value": "go"}), "needs an array"),
    (with_condition({"property": "p", "operator": ">", "value": [1]}), "one value, not an array"),
    (with_condition({"property": "p", "operator": "between", "value": "2025-01-01"}), "date range"),
    (
        with_condition({"property": "p", "operator": "contains", "value": {"preset": "today"}}),
        "date range goes",
    ),
    (
        with_condition({"property": "p", "operator": "between", "value": {"preset": "lastYear"}}),
        "value: a date preset is one of today",
    ),
    (
        with_condition(
            {
                "property": "p",
                "operator": "between",
                "value": {"from": "2025-02-01T00:00:00Z", "to": "2025-01-01"},
            }
        ),
        "from no later than to",
    ),
    (
        with_condition({"property": "p", "operator": "=", "value": {"k": 1}}),
        "date range {from, to} or {preset}",
    ),
    (with_condition({"property": "p", "operator": "=", "value": "x", "not": True}), "'not' applies only"),
    (with_condition({"operator": "isEmpty"}), "exactly one of property or relation"),
    (with_condition({"property": "p", "relation": "q", "operator": "isEmpty"}), "exactly one of property"),
    (
        {"identifier": "s", "title": "S", "rules": [{"identifier": "r", "title": "R", "level": "Bronze"}]},
        "query",
    ),
    (
        {
            "identifier": "s",
            "title": "S",
            "rules": [
                {
                    "identifier": "r",
                    "title": "R",
                    "level": "Bronze",
                    "query": {"combinator": "and", "conditions": []},
                }
            ],
        },
        "conditions: ",
    ),
    ({**with_condition({"property": "p", "operator": "isEmpty"}), "title": None}, "title"),
    ({"identifier": "s", "title": "S", "rules": [], "levels": [{"title": "A"}, {"title": "A"}]}, "own title"),
    (with_condition({"property": "p", "operator": "isEmpty"}, identifier="has readme"), "rules.0.identifier"),
]


@pytest.mark.parametrize(("document", "named"), REFUSED)
def test_a_scorecard_port_would_refuse_is_refused_naming_the_field(
    document: dict[str, Any], named: str
) -> None:
    with pytest.raises(InputError) as raised:
        parse_scorecard(document, source="scorecards/service/s.json")
    message = str(raised.value)
    assert message.startswith("scorecards/service/s.json: ")
    assert named in message
    assert "\n" not in message


def test_twice_the_same_rule_is_refused() -> None:
    document = with_condition({"property": "p", "operator": "isEmpty"})
    document["rules"] = document["rules"] * 2
    with pytest.raises(InputError, match="the identifier 'r' is used twice"):
        parse_scorecard(document, source="s.json")


def test_a_scorecard_directory_names_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "good.json").write_text(
        json.dumps(with_condition({"property": "p", "operator": "isEmpty"}))
    )
    (tmp_path / "service" / "bad.json").write_text('{"identifier": "x", "title": ')
    with pytest.raises(InputError, match=r"service/bad\.json: is not valid JSON"):
        load_scorecard_dir(tmp_path)
    (tmp_path / "service" / "bad.json").write_text(
        json.dumps(with_condition({"property": "p", "operator": "="}))
    )
    with pytest.raises(
        InputError, match=r"service/bad\.json: rules\.0\.query\.conditions\.0: operator = needs"
    ):
        load_scorecard_dir(tmp_path)
    (tmp_path / "service" / "bad.json").unlink()
    (tmp_path / "service" / "again.json").write_text(
        json.dumps(with_condition({"property": "q", "operator": "isEmpty"}))
    )
    with pytest.raises(InputError, match="two files define the scorecard 's'"):
        load_scorecard_dir(tmp_path)
    with pytest.raises(InputError, match="no such scorecards directory"):
        load_scorecard_dir(tmp_path / "nowhere")


def test_entities_come_as_a_list_or_as_port_s_answer(tmp_path: Path) -> None:
    entities = [
        {"identifier": "a", "blueprint": "service", "team": ["x"]},
        {"identifier": "b", "properties": {"k": 1}},
    ]
    as_list, as_answer = tmp_path / "list.json", tmp_path / "answer.json"
    as_list.write_text(json.dumps(entities))
    as_answer.write_text(json.dumps({"ok": True, "entities": entities}))
    for path in (as_list, as_answer):
        loaded = load_entities(path)
        assert [(e.identifier, e.blueprint, e.team, e.properties) for e in loaded] == [
            ("a", "service", ["x"], {}),
            ("b", None, None, {"k": 1}),
        ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"identifier": "a"}', "must hold a JSON list of entities"),
        ("[{]", "is not valid JSON"),
        ('[{"identifier": "a"}, {"title": "no identifier"}]', "entities[1]: identifier: Field required"),
        ('[{"identifier": "a", "properties": []}]', "entities[0]: properties: "),
    ],
)
def test_an_unusable_entities_file_is_refused_naming_the_entity(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "entities.json"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_entities(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert named in str(raised.value)
