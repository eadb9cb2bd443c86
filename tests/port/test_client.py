"""The client's construction and lifecycle: base URLs, options, sessions."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from port_bridge.port import PortClient
from port_bridge_sandbox.port import PortEmulator


class RecordingSession(requests.Session):
    """A real session that remembers whether it was closed and how many requests it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        return super().send(request, **kwargs)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.mark.parametrize(
    ("base_url", "root"),
    [
        ("https://api.port.io", "https://api.port.io"),
        ("https://api.us.port.io/", "https://api.us.port.io"),
        ("https://api.getport.io", "https://api.getport.io"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_base_urls(base_url: str, root: str) -> None:
    with PortClient(base_url, client_id="id", client_secret="secret") as client:
        assert client.base_url == root


@pytest.mark.parametrize(
    "base_url", ["api.port.io", "ftp://api.port.io", "https://api.port.io/v1", "https://api.port.io?x=1", ""]
)
def test_bad_base_urls_are_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        PortClient(base_url, client_id="id", client_secret="secret")


@pytest.mark.parametrize(
    "options",
    [
        {"client_id": "", "client_secret": "secret"},
        {"client_id": "id", "client_secret": ""},
        {"client_id": "id", "client_secret": "secret", "timeout": 0},
        {"client_id": "id", "client_secret": "secret", "max_retry_seconds": -1},
    ],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"client_id|timeout"):
        PortClient("https://api.port.io", **options)


def test_the_secret_stays_out_of_repr() -> None:
    client = PortClient("https://api.port.io", client_id="id", client_secret="s3cr3t-value")
    assert "s3cr3t-value" not in repr(client)
    assert repr(client) == "PortClient('https://api.port.io')"


def test_an_injected_session_is_used_and_left_open(port_emulator: PortEmulator, waits: list[float]) -> None:
    session = RecordingSession()
    with PortClient(
        port_emulator.url,
        client_id=port_emulator.client_id,
        client_secret=port_emulator.client_secret,
        session=session,
        sleep=waits.append,
    ) as client:
        client.get_run(port_emulator.create_run("deploy"))
    assert session.sent == 2  # the token, then the run
    assert not session.closed
    session.close()
    assert port_emulator.spec_violations == []
