"""What the masker hides in a pipeline's log lines, and what it leaves for the developer to read."""

from __future__ import annotations

import pytest

from port_bridge.pipelinelogs.masking import Masker

SECRET = "port-client-secret-value"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (f"signing with {SECRET}.", "signing with ***."),
        ("Authorization: Bearer eyJhbGciOi.abc", "Authorization: ***"),
        ("curl -H 'authorization: token abc123'", "curl -H 'authorization: ***'"),
        ("sent bearer abc.def-ghi to the API", "sent bearer *** to the API"),
        ("password=hunter2 user=bob", "password=*** user=bob"),
        ('{"apiKey": "k-123", "name": "orders"}', '{"apiKey": "***", "name": "orders"}'),
        ("DB_PASSWORD: hunter2", "DB_PASSWORD: ***"),
        ("clientSecret=abc", "clientSecret=***"),
        ("GITHUB_TOKEN=abc", "GITHUB_TOKEN=***"),
        ("aws_access_key: abc", "aws_access_key: ***"),
        ("db url postgres://admin:pa55@db:5432/x", "db url postgres://admin:***@db:5432/x"),
        (
            "clone https://x-access:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r",
            "clone https://x-access:***@github.com/o/r",
        ),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 used", "token *** used"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "***"),
        ("glpat-abcdefghij0123456789", "***"),
        ("xoxb-1234567890-abcdef", "***"),
        ("key AKIAABCDEFGHIJKLMNOP", "key ***"),
        ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig-nature_x", "jwt ***"),
    ],
)
def test_credentials_are_masked(line: str, shown: str) -> None:
    assert Masker([SECRET]).mask(line).text == shown


@pytest.mark.parametrize(
    "line",
    [
        "created 3 files",
        "author: me",
        "tokens=5 processed",
        "secretName: db-creds",  # the name of a Secret is not the secret
        "passwordless login configured",
        "https://github.com/o/r",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert Masker([SECRET]).mask(line).text == line


def test_a_private_key_is_masked_line_by_line_until_its_end() -> None:
    masker = Masker()
    lines = [
        "key:",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEA",
        "AAAA",
        "-----END OPENSSH PRIVATE KEY-----",
        "after",
    ]
    shown, inside = [], False
    for line in lines:
        masked = masker.mask(line, in_private_key=inside)
        shown.append(masked.text)
        inside = masked.in_private_key
    assert shown == ["key:", "***", "***", "***", "***", "after"]


def test_short_secret_values_are_not_masked_everywhere() -> None:
    assert Masker(["ab", ""]).mask("a table").text == "a table"


def test_a_secret_containing_another_is_masked_whole() -> None:
    assert Masker(["abcd", "abcdefgh"]).mask("x abcdefgh y").text == "x *** y"
