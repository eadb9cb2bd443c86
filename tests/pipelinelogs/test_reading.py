"""Positions in a container's log: the kubelet's timestamps, sinceTime in whole seconds, what was taken."""

from __future__ import annotations

import datetime

from port_bridge.actionrun.model import ContainerLogCursor
from port_bridge.pipelinelogs.reading import LogLine, advance, after, parse_log, since_time, stamp_nanos

T1 = "2026-03-01T10:00:00.100000000Z"
T2 = "2026-03-01T10:00:00.100000001Z"
T3 = "2026-03-01T10:00:01.000000000Z"


def test_stamps_are_nanoseconds_in_any_offset() -> None:
    base = int(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC).timestamp()) * 1_000_000_000
    assert stamp_nanos(T1) == base + 100_000_000
    assert stamp_nanos(T2) == base + 100_000_001
    assert stamp_nanos("2026-03-01T11:00:00.1+01:00") == base + 100_000_000
    assert stamp_nanos("2026-03-01T10:00:00Z") == base
    assert stamp_nanos("not a time") is None


def test_since_time_is_the_whole_second_in_utc() -> None:
    assert since_time("2026-03-01T11:00:00.999999999+01:00") == "2026-03-01T10:00:00Z"


def test_a_timestamped_body_parses_into_lines() -> None:
    body = f"{T1} first\n{T2} second line\n{T3} unfinished"
    assert parse_log(body) == [
        LogLine(T1, stamp_nanos(T1) or 0, "first", complete=True),
        LogLine(T2, stamp_nanos(T2) or 0, "second line", complete=True),
        LogLine(T3, stamp_nanos(T3) or 0, "unfinished", complete=False),
    ]
    assert parse_log("") == []
    assert [line.text for line in parse_log(f"{T1} \n")] == [""]  # an empty line is a line


def test_after_skips_what_was_taken_even_at_the_same_nanosecond() -> None:
    lines = parse_log(f"{T1} a\n{T1} b\n{T2} c\n{T3} d\n")
    assert [line.text for line in after(lines, ContainerLogCursor())] == ["a", "b", "c", "d"]
    cursor = ContainerLogCursor()
    for line in lines[:2]:
        cursor = advance(cursor, line, in_private_key=False)
    assert (cursor.lines, cursor.at, cursor.at_lines) == (2, T1, 2)
    assert [line.text for line in after(lines, cursor)] == ["c", "d"]
    one_of_two = ContainerLogCursor(lines=1, at=T1, at_lines=1)
    assert [line.text for line in after(lines, one_of_two)] == ["b", "c", "d"]
