import asyncio

import kmock
import pytest

from port_bridge_sandbox.kube.events import Event, EventLog, ResourceVersionTooOld

RESOURCE = kmock.resource("", "v1", "configmaps")


def event(version: int) -> Event:
    return Event(version, RESOURCE, "ADDED", {"metadata": {"name": f"c{version}"}})


def test_after_returns_only_newer_events_in_order() -> None:
    log = EventLog(capacity=10)
    for version in (3, 5, 9):
        log.append(event(version))
    assert [e.resource_version for e in log.after(4)] == [5, 9]
    assert log.after(9) == []


def test_versions_older_than_the_window_are_gone() -> None:
    log = EventLog(capacity=2)
    for version in (1, 2, 3):
        log.append(event(version))
    assert [e.resource_version for e in log.after(1)] == [2, 3]
    with pytest.raises(ResourceVersionTooOld):
        log.after(0)


def test_waiting_returns_what_was_appended_or_nothing_at_timeout() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        log = EventLog(capacity=10)
        waiting = asyncio.ensure_future(log.wait_after(0, timeout=5))
        await asyncio.sleep(0)
        log.append(event(1))
        woken = [e.resource_version for e in await waiting]
        timed_out = [e.resource_version for e in await log.wait_after(1, timeout=0.01)]
        return woken, timed_out

    assert asyncio.run(scenario()) == ([1], [])
