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
from port_bridge.sandbox.port import PortEmulator
from tests.port.conftest import FakeClock, MakeClient

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


def test_the_token_is_renewed_shortly_before_it_expires(port_spec_path: Path, waits: list[float]) -> None:
    clock = FakeClock()
    with (
        PortEmulator(spec_path=port_spec_path, token_lifetime=100) as port,
        PortClient(
            port.url,
            client_id=port.client_id,
            client_secret=port.client_secret,
            clock=clock,
            sleep=waits.append,
        ) as client,
    ):
        run_id = port.create_run("deploy")
        client.get_run(run_id)
        clock.advance(89)  # the margin for a 100 s token is 10 s
        client.get_run(run_id)
        assert port.token_requests == 1
        clock.advance(2)
        client.get_run(run_id)
        assert port.token_requests == 2
        assert [call.status for call in port.calls_matching("GET", "/v1/actions/runs/.*")] == [200] * 3
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
