"""The access token: fetched once, shared across threads, renewed early, renewed on a 401."""

from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from port_bridge.port import PortApiError, PortClient
from port_bridge.port.auth import TokenCache
from port_bridge_sandbox.port import PortEmulator
from tests.port.conftest import CREATE_DATABASE, DATABASE_BLUEPRINT, FakeClock, MakeClient
from tests.waiting import wait_for

TOKEN_ROUTE = "/v1/auth/access_token"


def test_one_token_serves_many_calls(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    for step in range(10):
        client.add_run_log(run_id, f"step {step}")
    client.get_run(run_id)
    assert port.token_requests == 1
    assert len(port.run(run_id).logs) == 10


def test_threads_share_one_token_fetch(port: PortEmulator, client: PortClient) -> None:
    run_id = port.create_run("create_database")
    port.faults.latency(0.2, path=TOKEN_ROUTE, times=None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(lambda _: client.get_run(run_id), range(8)))
    assert {run["id"] for run in runs} == {run_id}
    assert port.token_requests == 1


def test_busy_threads_ask_for_one_token_per_lifetime(port_spec_path: Path) -> None:
    lifetime = 0.25
    with (
        PortEmulator(spec_path=port_spec_path, token_lifetime=lifetime) as port,
        PortClient(port.url, client_id=port.client_id, client_secret=port.client_secret) as client,
    ):
        port.add_blueprint(DATABASE_BLUEPRINT)
        port.add_action(CREATE_DATABASE)
        run_id = port.create_run("create_database")
        done = threading.Event()

        def call_until_done() -> int:
            calls = 0
            while not done.is_set():
                client.get_run(run_id)
                calls += 1
            return calls

        with ThreadPoolExecutor(max_workers=4) as pool:
            callers = [pool.submit(call_until_done) for _ in range(4)]
            wait_for(lambda: port.token_requests >= 4, what="three renewals")
            done.set()
            calls = sum(caller.result() for caller in callers)
        answers = [call.response["expiresIn"] for call in port.calls_matching("POST", TOKEN_ROUTE)]
        # Port answers a request made while a token is active with that token and the time it has
        # left; only a request made after expiry gets a new token with the whole lifetime.
        assert all(answer > 0.8 * lifetime for answer in answers), answers
        assert calls > 4 * len(answers)
        assert {call.status for call in port.calls_matching("GET", "/v1/actions/runs/.*")} <= {200, 401}
        assert port.spec_violations == []


def test_a_401_renews_the_token_and_rebuilds_the_request(
    port: PortEmulator, client: PortClient, waits: list[float]
) -> None:
    run_id = port.create_run("create_database")
    client.get_run(run_id)
    stale = port.access_token()
    port.expire_token()
    port.clear_calls()
    assert client.patch_run(run_id, status_label="Provisioning")["statusLabel"] == "Provisioning"
    # The emulator only accepts the current token, so the 200 proves the header was rebuilt.
    assert [(call.method, call.status) for call in port.calls] == [
        ("PATCH", 401),
        ("POST", 200),
        ("PATCH", 200),
    ]
    assert port.access_token() != stale
    assert port.token_requests == 1
    assert len(port.run(run_id).patches) == 1
    assert waits == []


def test_wrong_credentials_fail_at_once(
    port: PortEmulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(client_secret="not-the-secret")
    with pytest.raises(PortApiError) as raised:
        client.get_run(port.create_run("create_database"))
    assert (raised.value.status, raised.value.path) == (401, TOKEN_ROUTE)
    assert port.token_requests == 1
    assert port.calls_matching("GET", ".*") == []
    assert waits == []


def test_neither_the_token_nor_the_secret_is_logged(
    port: PortEmulator, client: PortClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="port_bridge")
    run_id = port.create_run("create_database")
    client.get_run(run_id)
    first = port.access_token()
    port.expire_token()
    port.faults.rate_limit(retry_after=1)
    port.faults.server_error(503)
    client.patch_run(run_id, summary="secret-free")
    second = port.access_token()
    assert "401" in caplog.text and "429" in caplog.text and "503" in caplog.text
    for secret in (first, second, port.client_secret):
        assert secret not in caplog.text


def test_the_cache_drops_only_the_refused_token() -> None:
    issued = itertools.count(1)
    fetches: list[str] = []

    def fetch() -> tuple[str, float]:
        fetches.append(f"t{next(issued)}")
        return fetches[-1], 3600.0

    cache = TokenCache(fetch, clock=FakeClock())
    assert cache.token() == "t1"
    cache.invalidate("some-older-token")
    assert cache.token() == "t1"
    cache.invalidate("t1")
    assert cache.token() == "t2"
    assert fetches == ["t1", "t2"]


def test_the_cache_never_fetches_twice_at_once() -> None:
    inside = threading.Semaphore(1)
    overlaps: list[int] = []
    counter = itertools.count(1)

    def fetch() -> tuple[str, float]:
        if not inside.acquire(blocking=False):
            overlaps.append(1)
        threading.Event().wait(0.01)
        inside.release()
        return f"t{next(counter)}", 0.0  # a token that is due at once, so every call fetches

    cache = TokenCache(fetch, clock=FakeClock())
    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(lambda _: cache.token(), range(16)))
    assert overlaps == []
    assert len(set(tokens)) == 16


class PortTokens:
    """Port's token rule, independently of the cache: the active token until it expires, then a new one.

    ``reissue=False`` models a server that hands out a new token on every request instead. Each
    request takes ``latency`` seconds of the shared clock, and records whether it got a fresh token.
    """

    def __init__(self, clock: FakeClock, *, lifetime: float, latency: float, reissue: bool = True) -> None:
        self.clock, self.lifetime, self.latency, self.reissue = clock, lifetime, latency, reissue
        self.issued: list[tuple[str, float]] = []  # (token, expiry)
        self.answers: list[float] = []  # expiresIn of each answer

    def fetch(self) -> tuple[str, float]:
        self.clock.advance(self.latency / 2)
        now = self.clock()
        if not self.reissue or not self.issued or self.issued[-1][1] <= now:
            self.issued.append((f"t{len(self.issued) + 1}", now + self.lifetime))
        token, expiry = self.issued[-1]
        self.answers.append(expiry - now)
        self.clock.advance(self.latency / 2)
        return token, expiry - now

    def valid(self, token: str) -> bool:
        return bool(self.issued) and self.issued[-1][0] == token and self.clock() < self.issued[-1][1]


@pytest.mark.parametrize("reissue", [True, False], ids=["same-token-until-expiry", "new-token-each-time"])
def test_one_token_request_per_token_lifetime(reissue: bool) -> None:
    clock = FakeClock(now=1000.0)
    port = PortTokens(clock, lifetime=3.0, latency=0.004, reissue=reissue)
    cache = TokenCache(port.fetch, clock=clock)
    for _ in range(1500):  # a call every 10 ms for 15 s: five token lifetimes
        token = cache.token()
        if not port.valid(token):  # sent in the instant between Port's expiry and this side's: a 401
            cache.invalidate(token)
        clock.advance(0.01)
    assert len(port.answers) == len(port.issued) == 5
    assert all(answer == pytest.approx(3.0) for answer in port.answers)  # each request got a new token


def test_a_token_with_little_time_left_is_used_until_it_expires() -> None:
    clock = FakeClock(now=1000.0)
    answers = iter([("shared", 0.5), ("fresh", 3600.0)])  # another client asked first: half a second left
    fetches: list[float] = []

    def fetch() -> tuple[str, float]:
        fetches.append(clock())
        return next(answers)

    cache = TokenCache(fetch, clock=clock)
    assert cache.token() == "shared"
    clock.advance(0.49)
    assert cache.token() == "shared"
    clock.advance(0.02)
    assert cache.token() == "fresh"
    assert fetches == [1000.0, 1000.51]
