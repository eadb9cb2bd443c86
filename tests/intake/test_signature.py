"""Port's webhook signature, checked against an independent signer (the Port emulator's)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from port_bridge.intake.signature import SignatureRejected, verify
from port_bridge_sandbox.port import port_json, sign

SECRET = "port-client-secret"
NOW = 1_800_000_000
Mutation = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]  # (headers, body) -> sent
BODY = {"runId": "r_AbCdEfGhIjKlMnOp", "action": "create-postgresql", "inputs": {"name": "données-ünïcode ✓"}}


def headers(
    body: bytes, *, secret: str = SECRET, timestamp: int = NOW, casing: str = "lower"
) -> dict[str, str]:
    names = ("x-port-timestamp", "x-port-signature")
    if casing == "upper":
        names = ("X-Port-Timestamp", "X-Port-Signature")
    return {names[0]: str(timestamp), names[1]: sign(body, secret=secret, timestamp=str(timestamp))}


def check(body: bytes, hdrs: dict[str, str], *, now: float = NOW, window: int = 300) -> bool:
    return not verify(
        {k.lower(): v for k, v in hdrs.items()}, body, secret=SECRET, now=now, window_seconds=window
    ).reserialized


def test_port_signed_compact_body_with_non_ascii_verifies_on_the_raw_bytes() -> None:
    body = port_json(BODY)
    assert "✓".encode() in body  # Port leaves non-ASCII unescaped
    assert check(body, headers(body))


def test_header_casing_does_not_matter() -> None:
    body = port_json(BODY)
    assert check(body, headers(body, casing="upper"))


def test_execution_agent_spacing_verifies_on_the_compact_reserialisation() -> None:
    signed = json.dumps(BODY, separators=(",", ":")).encode()  # the agent signs compact, ASCII-escaped
    sent = json.dumps(BODY).encode()  # ...and sends with spaces
    result = verify(headers(signed) | {}, sent, secret=SECRET, now=NOW, window_seconds=300)
    assert result.reserialized


def test_non_ascii_reserialisation_of_agent_bodies_also_verifies() -> None:
    signed = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()
    sent = json.dumps(BODY, ensure_ascii=False, indent=2).encode()
    assert verify(headers(signed), sent, secret=SECRET, now=NOW, window_seconds=300).reserialized


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda h, b: ({**h, "x-port-signature": sign(b, secret="wrong", timestamp=str(NOW))}, b),
            "does not match",
        ),
        (lambda h, b: (h, b.replace(b"create", b"delete")), "does not match"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "x-port-signature"}, b),
            "missing x-port-signature",
        ),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "x-port-timestamp"}, b),
            "missing x-port-timestamp",
        ),
        (lambda h, b: ({}, b), "missing x-port-signature and x-port-timestamp"),
        (lambda h, b: ({**h, "x-port-timestamp": "yesterday"}, b), "epoch seconds"),
        (lambda h, b: ({**h, "x-port-timestamp": "1" * 400}, b), "epoch seconds"),  # once an OverflowError
        (lambda h, b: ({**h, "x-port-timestamp": "\uff11\uff12"}, b), "epoch seconds"),  # fullwidth digits
        (lambda h, b: ({**h, "x-port-signature": h["x-port-signature"][3:]}, b), "v1,"),
        (lambda h, b: ({**h, "x-port-timestamp": str(NOW + 1)}, b), "does not match"),  # signed another time
    ],
)
def test_rejections_say_why(mutate: Mutation, reason: str) -> None:
    body = port_json(BODY)
    hdrs, sent = mutate(headers(body), body)
    with pytest.raises(SignatureRejected, match=reason):
        verify(hdrs, sent, secret=SECRET, now=NOW, window_seconds=300)


@pytest.mark.parametrize("skew", [-301, 301, -86400, 10**9])
def test_timestamps_outside_the_replay_window_are_refused(skew: int) -> None:
    body = port_json(BODY)
    with pytest.raises(SignatureRejected, match="replay window"):
        verify(headers(body, timestamp=NOW + skew), body, secret=SECRET, now=NOW, window_seconds=300)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamps_inside_the_window_are_accepted(skew: int) -> None:
    body = port_json(BODY)
    assert check(body, headers(body, timestamp=NOW + skew))


def test_whitespace_outside_values_is_tolerated_content_changes_are_not() -> None:
    body = port_json(BODY)
    assert verify(headers(body), body + b"\n", secret=SECRET, now=NOW, window_seconds=300).reserialized
    with pytest.raises(SignatureRejected):
        verify(headers(body), body.replace("✓".encode(), b"x"), secret=SECRET, now=NOW, window_seconds=300)


def test_one_of_several_offered_signatures_may_match() -> None:
    body = port_json(BODY)
    good = headers(body)
    offered = f"v1,AAAA {good['x-port-signature']}"
    assert check(body, {**good, "x-port-signature": offered})


def test_no_configured_secret_refuses_everything() -> None:
    body = port_json(BODY)
    with pytest.raises(SignatureRejected, match="no Port client secret"):
        verify(headers(body), body, secret="", now=NOW, window_seconds=300)
