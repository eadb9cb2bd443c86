"""Reading a body: what Python's json accepts but no later step can handle is found, with its field."""

from __future__ import annotations

import json

import pytest

from port_bridge.intake.body import MAX_DEPTH, MAX_PROBLEMS, BodyProblem, MalformedBody, read_body
from port_bridge.intake.payload import run_id_problem


def nested(depth: int, inner: bytes = b"1") -> bytes:
    """``depth`` arrays inside one another around ``inner``."""
    return b"[" * depth + inner + b"]" * depth


def run_with(field: str, raw_value: bytes) -> bytes:
    return b'{"runId":"r_1","action":"create-redis","' + field.encode() + b'":' + raw_value + b"}"


def test_a_plain_body_has_no_problems() -> None:
    raw = json.dumps(
        {"runId": "r_1", "inputs": {"name": "Zoë 日本 😀", "n": 10**300, "x": -1.5e300}}
    ).encode()
    body = read_body(raw)
    assert body.problems == ()
    assert body.document["inputs"]["name"] == "Zoë 日本 😀"  # an escaped surrogate pair is text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (run_with("inputs", nested(MAX_DEPTH - 1)), ()),  # the body itself is one level
        (
            run_with("inputs", nested(MAX_DEPTH)),
            (BodyProblem("inputs", "is nested more than 64 levels deep (port-bridge reads at most 64)"),),
        ),
        (
            run_with("inputs", nested(3000)),  # deeper than the parser itself can go
            (BodyProblem("inputs", "is nested more than 64 levels deep (port-bridge reads at most 64)"),),
        ),
        (
            nested(5000, b'{"runId":"r_1"}'),
            (BodyProblem("0", "is nested more than 64 levels deep (port-bridge reads at most 64)"),),
        ),
    ],
)
def test_nesting_beyond_the_limit_is_found_in_its_top_level_field(
    raw: bytes, expected: tuple[BodyProblem, ...]
) -> None:
    assert read_body(raw).problems == expected


def test_a_nan_before_a_part_too_deep_for_the_parser_is_found_too() -> None:
    """Found by the fuzz test: the second parse (marking the NaN) met the deep part."""
    raw = b'{"runId":"r_1","inputs":{"name":NaN},"entity":' + nested(1500) + b"}"
    body = read_body(raw)
    assert body.document["runId"] == "r_1"
    assert {problem.path for problem in body.problems} == {"inputs.name", "entity"}


def test_a_body_too_deep_for_the_parser_still_yields_its_run_id() -> None:
    tricky = b'"] } [ { \\" [[[["'  # brackets and an escaped quote inside a string are not nesting
    raw = b'{"runId":"r_deep","context":' + tricky + b',"inputs":{"a":' + nested(6000) + b"}}"
    body = read_body(raw)
    assert body.document["runId"] == "r_deep"
    assert body.document["context"] == '] } [ { " [[[['
    assert [problem.path for problem in body.problems] == ["inputs"]


@pytest.mark.parametrize(
    ("raw_value", "message"),
    [
        (b"NaN", "NaN is not a JSON value (JSON has no NaN or Infinity)"),
        (b"-Infinity", "-Infinity is not a JSON value (JSON has no NaN or Infinity)"),
        (b"1e999", "1e999 is out of range for a JSON number (at most about 1.8e308)"),
        (b"9" * 400, "99999999999999999999999… is out of range for a JSON number (at most about 1.8e308)"),
        (b"9" * 5000, "99999999999999999999999… is out of range for a JSON number (at most about 1.8e308)"),
        (
            b"9" * 299 + b"e10",
            "99999999999999999999999… is out of range for a JSON number (at most about 1.8e308)",
        ),
        (
            b"1" + b"0" * 210 + b".5e99",
            "10000000000000000000000… is out of range for a JSON number (at most about 1.8e308)",
        ),
        (b'"a\\ud800"', "holds a lone UTF-16 surrogate (such as \\ud800), which is not text"),
        (b'"\\udc00b"', "holds a lone UTF-16 surrogate (such as \\ud800), which is not text"),
    ],
)
def test_values_no_later_step_could_handle_are_named_with_their_field(raw_value: bytes, message: str) -> None:
    raw = run_with("inputs", b'{"size":[1,' + raw_value + b"]}")
    assert read_body(raw).problems == (BodyProblem("inputs.size.1", message),)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"runId":"r_1","inputs":{"name":"\xed\xa0\x80"}}',  # UTF-8 bytes of a surrogate: json reads them
        '{"runId":"r_1","inputs":{"name":"\ud800"}}'.encode("utf-16-le", "surrogatepass"),
    ],
)
def test_lone_surrogates_that_arrive_without_an_escape(raw: bytes) -> None:
    assert read_body(raw).problems == (
        BodyProblem("inputs.name", "holds a lone UTF-16 surrogate (such as \\ud800), which is not text"),
    )


def test_many_containers_that_do_not_nest_deeply_are_fine() -> None:
    raw = json.dumps({"runId": "r_1", "inputs": {f"k{i}": [{"a": [1]}] for i in range(200)}}).encode()
    assert read_body(raw).problems == ()


def test_a_surrogate_in_a_key_is_named_escaped() -> None:
    raw = run_with("inputs", b'{"\\ud800k":{"x":1}}')
    [problem] = read_body(raw).problems
    assert problem == BodyProblem(
        "inputs", "has a key that holds a lone UTF-16 surrogate (such as \\ud800), which is not text"
    )
    problem.message.encode()  # every message can be written as UTF-8


def test_problems_are_capped() -> None:
    raw = run_with("inputs", json.dumps({f"k{i}": None for i in range(50)}).replace("null", "NaN").encode())
    assert len(read_body(raw).problems) == MAX_PROBLEMS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"runId": ', "the body is not valid JSON: Expecting value: line 1 column 11 (char 10)"),
        (b"\xff\xfe\xfa", "the body is not valid JSON: 'utf-16-le' codec can't decode"),
        (b'{"a": "\\ud800' + b"[" * 5000, "the body is not valid JSON: Unterminated string"),
    ],
)
def test_a_body_that_is_not_json(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedBody) as error:
        read_body(raw)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("run_id", ["r_QOz6WoOB1Q2lmhZZ", "wfnr_a1b2", "r_" + "x" * 126, "!~"])
def test_plain_run_ids(run_id: str) -> None:
    assert run_id_problem(run_id) is None


@pytest.mark.parametrize(
    ("run_id", "shown"),
    [
        ("r_\ud800x", r"'r_\ud800x'"),
        ("r_ 1", "'r_ 1'"),
        ("r_\n", r"'r_\n'"),
        ("r_é", "'r_é'"),
        ("r_" + "x" * 127, "'r_xxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxx'"),
    ],
)
def test_run_ids_port_would_not_send(run_id: str, shown: str) -> None:
    assert run_id_problem(run_id) == (
        "the run id must be 1 to 128 printable ASCII characters without spaces, "
        f"as Port's are (r_QOz6WoOB1Q2lmhZZ); got {shown}"
    )
