"""Reading Port's wait hints and renewal margins: pure functions, no server."""

from __future__ import annotations

from email.utils import formatdate

import pytest
import requests

from port_bridge.port.retry import RetryableAnswer, is_retryable
from port_bridge.port.waits import requested_wait

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": "Tue, 14 Nov 2023 22:13:50 -0000"}, 30.0),
        ({"Retry-After": formatdate(NOW - 30, usegmt=True)}, None),
        ({"Retry-After": "0"}, None),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "3", "x-ratelimit-reset": "40"}, 3.0),
        ({"Retry-After": "soon", "x-ratelimit-reset": "12"}, 12.0),
        ({"x-ratelimit-reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": "0.5"}, 0.5),
        ({"x-ratelimit-reset": str(int(NOW + 45))}, 45.0),
        ({"x-ratelimit-reset": str(int(NOW - 5))}, None),
        ({"x-ratelimit-reset": "nan"}, None),
        ({"x-ratelimit-reset": "inf"}, None),
        ({"x-ratelimit-reset": ""}, None),
        ({"x-ratelimit-remaining": "0"}, None),
        ({}, None),
    ],
)
def test_requested_wait(headers: dict[str, str], expected: float | None) -> None:
    assert requested_wait(headers, now=NOW) == expected


def test_the_epoch_threshold_splits_delays_from_times() -> None:
    assert requested_wait({"x-ratelimit-reset": "999999999"}, now=NOW) == 999999999.0
    assert requested_wait({"x-ratelimit-reset": "1000000001"}, now=1_000_000_000.0) == 1.0


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (RetryableAnswer(status=429, headers={}, trace_id="t"), True),
        (requests.ConnectionError(), True),
        (requests.exceptions.ConnectTimeout(), True),
        (requests.exceptions.ReadTimeout(), True),
        (requests.exceptions.ChunkedEncodingError(), True),
        (requests.exceptions.SSLError(), False),
        (requests.HTTPError(), False),
        (ValueError(), False),
    ],
)
def test_what_is_retried(error: BaseException, retried: bool) -> None:
    assert is_retryable(error) is retried
