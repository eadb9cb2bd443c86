"""Port's organisation rate limits as the emulator enforces them: windows by kind, headers, 429."""

from __future__ import annotations

import time

from port_bridge_sandbox.port import RateLimiter, RateLimits
from tests.conftest import PortApi

BLUEPRINT = {"identifier": "db", "title": "DB", "schema": {"properties": {}, "required": []}}


def test_every_answer_says_where_the_window_stands_and_the_one_over_gets_429(port_api: PortApi) -> None:
    port_api.emulator.limit_rate(RateLimits(other=3, period=60))
    before = time.time()
    answers = [port_api.get("/v1/blueprints") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer.headers["x-ratelimit-limit"] for answer in answers} == {"3"}
    assert {answer.headers["x-ratelimit-period"] for answer in answers} == {"60"}
    reset = int(answers[0].headers["x-ratelimit-reset"])
    assert before + 59 <= reset <= time.time() + 61  # an epoch second, as Port's docs say
    assert answers[3].json()["error"] == "rate_limit_exceeded" and "Retry-After" not in answers[3].headers
    assert [call.status for call in port_api.emulator.rate_limited] == [429]


def test_the_entities_api_has_a_window_of_its_own(port_api: PortApi) -> None:
    port_api.emulator.add_blueprint(BLUEPRINT)
    port_api.emulator.limit_rate(RateLimits(entities=2, other=1, period=60))
    entity = {"identifier": "a", "properties": {}}
    writes = [
        port_api.post("/v1/blueprints/db/entities", json=entity, params={"upsert": "true"}) for _ in range(2)
    ]
    assert [answer.status_code for answer in writes] == [201, 201]
    assert writes[-1].headers["x-ratelimit-limit"] == "2"
    assert port_api.get("/v1/blueprints/db").status_code == 200  # another window: still has its one
    assert port_api.get("/v1/blueprints/db/entities").status_code == 429
    assert port_api.get("/v1/blueprints").status_code == 429


def test_reset_in_seconds_and_retry_after_on_request(port_api: PortApi) -> None:
    port_api.emulator.limit_rate(RateLimits(other=1, period=30, reset_format="seconds", retry_after=True))
    assert port_api.get("/v1/blueprints").headers["x-ratelimit-reset"] in ("30", "29")
    refused = port_api.get("/v1/blueprints")
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("30", "29")


def test_no_limit_by_default_and_none_lifts_it(port_api: PortApi) -> None:
    assert "x-ratelimit-limit" not in port_api.get("/v1/blueprints").headers
    port_api.emulator.limit_rate(RateLimits(other=1))
    port_api.get("/v1/blueprints")
    port_api.emulator.limit_rate(None)
    assert port_api.get("/v1/blueprints").status_code == 200


def test_a_window_starts_afresh_after_its_period() -> None:
    now = [1000.0]
    limiter = RateLimiter(RateLimits(other=2, period=10), clock=lambda: now[0])
    assert [limiter.admit("other").admitted for _ in range(3)] == [True, True, False]
    now[0] += 9.9
    assert limiter.admit("other").admitted is False
    now[0] += 0.1
    fresh = limiter.admit("other")
    assert fresh.admitted and fresh.headers["x-ratelimit-remaining"] == "1"
    assert fresh.headers["x-ratelimit-reset"] == "1020"
    assert limiter.refused == 2
