"""Pacing by Port's rate-limit headers before Port says 429, with reports before background calls."""

from __future__ import annotations

import threading
import time

import pytest

from port_bridge.port import PortClient, PortUnavailable
from port_bridge.port.budget import ENTITIES, OTHER, BudgetExhausted, RateBudget, bucket_of
from port_bridge_sandbox.port import PortEmulator, RateLimits
from tests.port.conftest import FakeClock, MakeClient
from tests.waiting import wait_for

EPOCH = 1_700_000_000.0


def headers(*, limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
    }


class Sleeper:
    """A ``sleep`` that moves a fake clock, so waits are exact and instant."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.waits = clock, []  # type: ignore[var-annotated]

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


@pytest.mark.parametrize(
    ("path", "bucket"),
    [
        ("/v1/blueprints/db/entities", ENTITIES),
        ("/v1/blueprints/db/entities/bulk", ENTITIES),
        ("/v1/blueprints/db/entities/orders%2Fa", ENTITIES),
        ("/v1/blueprints/db/bulk/entities/delete", ENTITIES),
        ("/v1/blueprints/db/entities-count", ENTITIES),
        ("/v1/entities/search", ENTITIES),
        ("/v1/blueprints/db", OTHER),
        ("/v1/blueprints/entities", OTHER),  # a blueprint named "entities"
        ("/v1/actions/runs/r_1", OTHER),
        ("/v1/actions/runs/r_1/logs", OTHER),
    ],
)
def test_which_window_a_call_draws_on(path: str, bucket: str) -> None:
    assert bucket_of(path) == bucket


def test_without_word_from_port_nothing_waits() -> None:
    clock = FakeClock()
    budget, sleep = RateBudget(clock=clock), Sleeper(clock)
    for _ in range(100):
        budget.take(OTHER, background=True, sleep=sleep)
    assert sleep.waits == []


def test_a_used_up_window_waits_for_its_reset_then_goes() -> None:
    clock = FakeClock(EPOCH)
    budget, sleep = RateBudget(clock=clock), Sleeper(clock)
    budget.observe(OTHER, status=200, headers=headers(limit=10, remaining=2, reset=EPOCH + 30))
    budget.take(OTHER, background=False, sleep=sleep)
    budget.take(OTHER, background=False, sleep=sleep)  # the last two, counted as sent
    assert sleep.waits == []
    budget.take(OTHER, background=False, sleep=sleep)
    assert sleep.waits == [pytest.approx(31.0)]  # to the reset, and a second for a reset read early
    assert budget.stats.paced_calls == {"foreground": 1}
    budget.take(ENTITIES, background=False, sleep=sleep)  # the other window was never short
    assert len(sleep.waits) == 1


def test_a_reset_in_seconds_from_now_is_read_too() -> None:
    clock = FakeClock(EPOCH)
    budget, sleep = RateBudget(clock=clock), Sleeper(clock)
    budget.observe(ENTITIES, status=200, headers=headers(limit=10, remaining=0, reset=12))
    budget.take(ENTITIES, background=False, sleep=sleep)
    assert sleep.waits == [pytest.approx(13.0)]


def test_a_foreground_call_that_would_wait_too_long_is_not_made() -> None:
    clock = FakeClock(EPOCH)
    budget, sleep = RateBudget(clock=clock), Sleeper(clock)
    budget.observe(OTHER, status=429, headers=headers(limit=10, remaining=0, reset=EPOCH + 60))
    with pytest.raises(BudgetExhausted) as raised:
        budget.take(OTHER, background=False, sleep=sleep, max_wait=5)
    assert raised.value.wait == pytest.approx(61.0) and sleep.waits == []
    assert budget.stats.throttled == 1


def test_background_calls_leave_the_reserve_to_reports() -> None:
    clock = FakeClock(EPOCH)
    budget, sleep = RateBudget(reserve=0.2, clock=clock), Sleeper(clock)
    budget.observe(ENTITIES, status=200, headers=headers(limit=100, remaining=22, reset=EPOCH + 10))
    budget.take(ENTITIES, background=True, sleep=sleep)
    budget.take(ENTITIES, background=True, sleep=sleep)
    assert sleep.waits == [] and budget.remaining(ENTITIES) == 20
    budget.take(ENTITIES, background=False, sleep=sleep)  # a report may still use the reserve
    assert sleep.waits == [] and budget.remaining(ENTITIES) == 19
    budget.take(ENTITIES, background=True, sleep=sleep)  # the sync waits for the next window
    assert sum(sleep.waits) == pytest.approx(11.0)
    assert budget.stats.paced_calls == {"background": 1}


def test_a_later_answer_of_the_same_window_never_gives_back_calls_already_sent() -> None:
    clock = FakeClock(EPOCH)
    budget = RateBudget(clock=clock)
    budget.observe(OTHER, status=200, headers=headers(limit=10, remaining=5, reset=EPOCH + 30))
    for _ in range(3):
        budget.take(OTHER, background=False, sleep=Sleeper(clock))
    budget.observe(
        OTHER, status=200, headers=headers(limit=10, remaining=4, reset=EPOCH + 30)
    )  # sent before two of ours
    assert budget.remaining(OTHER) == 2
    budget.observe(
        OTHER, status=200, headers=headers(limit=10, remaining=9, reset=EPOCH + 60)
    )  # a new window
    assert budget.remaining(OTHER) == 9


def test_background_calls_wait_while_a_report_waits_for_budget() -> None:
    budget = RateBudget()
    budget.observe(OTHER, status=200, headers=headers(limit=10, remaining=0, reset=time.time() + 60))
    report_waiting, release = threading.Event(), threading.Event()
    background_done = threading.Event()

    def report_sleep(seconds: float) -> None:
        report_waiting.set()
        release.wait(5)
        budget.observe(OTHER, status=200, headers=headers(limit=10, remaining=10, reset=time.time() + 120))

    report = threading.Thread(target=lambda: budget.take(OTHER, background=False, sleep=report_sleep))
    report.start()
    assert report_waiting.wait(5)
    slices: list[float] = []

    def background_sleep(seconds: float) -> None:
        slices.append(seconds)
        if len(slices) == 3:
            release.set()  # the report's window opens; it goes first
        time.sleep(0.01)

    def background_call() -> None:
        budget.take(ENTITIES, background=True, sleep=background_sleep)
        background_done.set()

    sync = threading.Thread(target=background_call)
    sync.start()
    report.join(5)
    sync.join(5)
    assert (
        background_done.is_set() and len(slices) >= 3
    )  # the entities window had room: it waited for the report
    assert budget.stats.paced_calls == {"foreground": 1, "background": 1}


def test_the_client_paces_against_the_emulators_limit_and_never_draws_a_429(
    port: PortEmulator, make_client: MakeClient
) -> None:
    port.limit_rate(RateLimits(entities=4, other=100, period=1.0))
    client = make_client(sleep=time.sleep)
    sync = client.in_background()
    for index in range(6):
        client.upsert_entity("database", {"identifier": f"db-{index}", "properties": {"size": 1}})
    sync.bulk_upsert("database", [{"identifier": f"bulk-{i}", "properties": {"size": 2}} for i in range(30)])
    assert port.rate_limited == []
    assert len(port.calls_matching("POST", "/v1/blueprints/database/entities(/bulk)?")) == 8
    assert client.budget is sync.budget and client.budget.stats.paced_calls.get("foreground", 0) >= 1
    assert client.budget.stats.throttled == 0
    assert wait_for(lambda: port.entity("database", "bulk-29"))


def test_a_report_that_would_wait_longer_than_its_retry_budget_is_port_unavailable(
    port: PortEmulator, make_client: MakeClient
) -> None:
    port.limit_rate(RateLimits(other=1, period=60))
    client: PortClient = make_client(max_retry_seconds=2.0)
    run_id = port.create_run("create_database")
    client.patch_run(run_id, status_label="one")
    with pytest.raises(PortUnavailable, match="rate limit"):
        client.patch_run(run_id, status_label="two")
    assert port.rate_limited == []  # not sent: Port would have said 429
