"""The work queue's guarantees: one entry per key, one worker per key, delays and backoff."""

from __future__ import annotations

import threading

import pytest

from port_bridge.controller.workqueue import ShutDown, WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_added_many_times_is_queued_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for _ in range(10):
        queue.add("run-a")
    queue.add("run-b")
    assert [queue.get(timeout=0), queue.get(timeout=0), queue.get(timeout=0)] == ["run-a", "run-b", None]


def test_a_key_added_while_processing_comes_back_once_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("run-a")
    assert queue.get(timeout=0) == "run-a"
    queue.add("run-a")
    queue.add("run-a")
    assert queue.get(timeout=0) is None  # not handed to a second worker while the first works on it
    queue.done("run-a")
    assert queue.get(timeout=0) == "run-a"
    queue.done("run-a")
    assert queue.get(timeout=0) is None


def test_delayed_keys_come_due() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    queue.add_after("later", 10.0)
    queue.add_after("sooner", 5.0)
    assert queue.get(timeout=0) is None
    clock.now = 6.0
    assert queue.get(timeout=0) == "sooner"
    clock.now = 11.0
    assert queue.get(timeout=0) == "later"


def test_failures_back_off_exponentially_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue(base_backoff=1.0, max_backoff=5.0, clock=FakeClock())
    assert [queue.retry("run-a") for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    queue.forget("run-a")
    assert queue.retry("run-a") == 1.0


def test_shut_down_wakes_waiting_workers() -> None:
    queue: WorkQueue[str] = WorkQueue()
    outcome: list[str] = []

    def worker() -> None:
        try:
            queue.get()
        except ShutDown:
            outcome.append("stopped")

    thread = threading.Thread(target=worker)
    thread.start()
    queue.shut_down()
    thread.join(5)
    assert outcome == ["stopped"]
    with pytest.raises(ShutDown):
        queue.get(timeout=0)


def test_each_key_keeps_only_its_earliest_delay_so_memory_stays_bounded() -> None:
    clock = FakeClock()
    queue: WorkQueue[str] = WorkQueue(clock=clock)
    for _ in range(10_000):
        queue.add_after("finished-run", 3600.0)  # asked again at every resync
    queue.add_after("finished-run", 60.0)
    assert queue.delayed == 1
    assert len(queue._delayed) < 200  # superseded entries are dropped, not accumulated
    clock.now = 61.0
    assert queue.get(timeout=0) == "finished-run"
    queue.done("finished-run")
    clock.now = 3601.0
    assert queue.get(timeout=0) is None  # the later time was superseded, not kept


def test_urgent_keys_go_first_even_if_queued_before_as_normal() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("resync-a", "resync-b", "kratix-changed"):
        queue.add(key)
    queue.add("kratix-changed", urgent=True)
    queue.add("new-event", urgent=True)
    order: list[str] = []
    while (taken := queue.get(timeout=0)) is not None:
        order.append(taken)
        queue.done(taken)
    assert order == ["kratix-changed", "new-event", "resync-a", "resync-b"]
    assert len(queue) == 0


def test_urgency_survives_a_re_add_while_processing() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    assert queue.get(timeout=0) == "a"
    queue.add("b")
    queue.add("a", urgent=True)
    queue.done("a")
    assert queue.get(timeout=0) == "a"
