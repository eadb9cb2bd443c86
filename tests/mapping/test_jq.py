"""jq mappings cannot read the environment or load modules, and their errors read well."""

from __future__ import annotations

import pytest

from port_bridge.mapping.jq import Jq, JqError


@pytest.mark.parametrize(
    "expression", ["env", "env.PORT_CLIENT_SECRET", "$ENV", "$ENV.PORT_CLIENT_SECRET", "[env, $ENV]"]
)
def test_the_environment_is_blank(expression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_CLIENT_SECRET", "do-not-leak")
    assert "do-not-leak" not in repr(Jq(expression).first({}))


@pytest.mark.parametrize("expression", ['include "secrets"; .', 'import "secrets" as s; .', ".a |", "{a: }"])
def test_what_does_not_compile_says_why(expression: str) -> None:
    with pytest.raises(JqError, match="syntax error"):
        Jq(expression)


def test_values_and_runtime_errors() -> None:
    assert Jq('.inputs.namespace // "default"').first({"inputs": {}}) == "default"
    assert Jq(".a, .b").first({"a": 1, "b": 2}) == 1
    assert Jq("empty").first({}) is None
    with pytest.raises(JqError, match="cannot be added"):
        Jq(".a + 1").first({"a": "x"})


def test_expressions_compare_by_text() -> None:
    assert Jq(".a") == Jq(".a") and hash(Jq(".a")) == hash(Jq(".a"))
    assert Jq(".a") != Jq(".b")
