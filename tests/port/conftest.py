"""Fixtures for the Port client's tests: clients on the Port emulator whose waits are recorded.

The client's ``sleep`` is a recorder (tests run fast and assert the waits Port asked for), and
every test that builds a client ends by checking that Port's spec allowed every request sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from port_bridge.port import PortClient
from port_bridge_sandbox.port import PortEmulator

MakeClient = Callable[..., PortClient]

DATABASE_BLUEPRINT = {
    "identifier": "database",
    "title": "Database",
    "schema": {
        "properties": {
            "engine": {"type": "string", "enum": ["postgres", "redis"]},
            "size": {"type": "number", "minimum": 1},
        },
        "required": [],
    },
}
CREATE_DATABASE = {
    "identifier": "create_database",
    "title": "Create database",
    "trigger": {
        "type": "self-service",
        "operation": "CREATE",
        "blueprintIdentifier": "database",
        "userInputs": {"properties": {"name": {"type": "string"}}},
    },
    "invocationMethod": {"type": "WEBHOOK", "url": "https://bridge.example.com/webhook"},
}


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def waits() -> list[float]:
    """The waits the client asked for, in order (it never really sleeps)."""
    return []


@pytest.fixture
def make_client(port_emulator: PortEmulator, waits: list[float]) -> Iterator[MakeClient]:
    """Build clients on the emulator (options as keywords); checks spec conformance at the end."""
    clients: list[PortClient] = []

    def make(**options: Any) -> PortClient:
        options.setdefault("sleep", waits.append)
        options.setdefault("client_id", port_emulator.client_id)
        options.setdefault("client_secret", port_emulator.client_secret)
        client = PortClient(port_emulator.url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    assert port_emulator.spec_violations == []


@pytest.fixture
def client(make_client: MakeClient) -> PortClient:
    return make_client()


@pytest.fixture
def port(port_emulator: PortEmulator) -> PortEmulator:
    """The emulator with the ``database`` blueprint and the ``create_database`` action."""
    port_emulator.add_blueprint(DATABASE_BLUEPRINT)
    port_emulator.add_action(CREATE_DATABASE)
    return port_emulator
