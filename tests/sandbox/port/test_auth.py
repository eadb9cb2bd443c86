"""Access tokens: one active token per credential set, expiry, 401 on anything else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from port_bridge_sandbox.port import PortEmulator


def _token(emulator: PortEmulator, *, secret: str | None = None) -> requests.Response:
    credentials = {"clientId": emulator.client_id, "clientSecret": secret or emulator.client_secret}
    return requests.post(emulator.url + "/v1/auth/access_token", json=credentials, timeout=5)


def _blueprints(emulator: PortEmulator, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(emulator.url + "/v1/blueprints", headers=headers, timeout=5).status_code


def test_credentials_get_a_bearer_token_that_opens_the_api(port_emulator: PortEmulator) -> None:
    answer = _token(port_emulator)
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 10800
    assert _blueprints(port_emulator, body["accessToken"]) == 200


def test_repeated_requests_get_the_same_active_token_and_are_counted(port_emulator: PortEmulator) -> None:
    tokens = {_token(port_emulator).json()["accessToken"] for _ in range(3)}
    assert len(tokens) == 1
    assert port_emulator.token_requests == 3


@pytest.mark.parametrize("field", ["clientId", "clientSecret"])
def test_wrong_credentials_are_401(port_emulator: PortEmulator, field: str) -> None:
    credentials = {"clientId": port_emulator.client_id, "clientSecret": port_emulator.client_secret}
    credentials[field] = "wrong"
    answer = requests.post(port_emulator.url + "/v1/auth/access_token", json=credentials, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["ok"] is False
    assert "accessToken" not in answer.json()


def test_a_credentials_body_off_the_spec_is_422_and_a_violation(port_emulator: PortEmulator) -> None:
    answer = requests.post(
        port_emulator.url + "/v1/auth/access_token", json={"clientId": port_emulator.client_id}, timeout=5
    )
    assert answer.status_code == 422
    assert "clientSecret" in answer.json()["message"]
    assert len(port_emulator.spec_violations) == 1


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-token", "Basic c2FuZGJveDpzZWNyZXQ=", "bearer"]
)
def test_requests_without_a_valid_bearer_token_are_401(
    port_emulator: PortEmulator, authorization: str | None
) -> None:
    _token(port_emulator)
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.get(port_emulator.url + "/v1/blueprints", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"


def test_a_token_expires_after_its_lifetime_and_a_new_one_is_issued(port_spec_path: Path) -> None:
    with PortEmulator(spec_path=port_spec_path, token_lifetime=0.3) as emulator:
        first = _token(emulator).json()
        assert first["expiresIn"] <= 0.3
        assert _blueprints(emulator, first["accessToken"]) == 200
        time.sleep(0.35)  # the token's lifetime is wall time: nothing but its passing ends the token
        assert _blueprints(emulator, first["accessToken"]) == 401
        second = _token(emulator).json()["accessToken"]
        assert second != first["accessToken"]
        assert _blueprints(emulator, second) == 200


def test_expire_token_forces_a_refresh(port_emulator: PortEmulator) -> None:
    first = _token(port_emulator).json()["accessToken"]
    port_emulator.expire_token()
    assert _blueprints(port_emulator, first) == 401
    second = _token(port_emulator).json()["accessToken"]
    assert second != first
    assert _blueprints(port_emulator, second) == 200
    assert port_emulator.token_requests == 2


def test_the_helper_token_is_the_one_clients_get(port_emulator: PortEmulator) -> None:
    assert port_emulator.access_token() == _token(port_emulator).json()["accessToken"]
    assert port_emulator.token_requests == 1
