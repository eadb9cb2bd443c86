"""Reading a container's log from where the run's journal left it, through ``pods/log``.

``pods/log`` has no offset; what it has is ``timestamps=true`` (each line prefixed with the
kubelet's RFC 3339 time, in nanoseconds) and ``sinceTime`` (which the API server hands on to the
kubelet in whole seconds). So a position is the timestamp of the last line taken and how many
lines carry exactly that timestamp: a read asks from that second on and skips what is before the
position. It works the same for the next poll, after a lost connection and in a new controller
that finds the position in the ActionRun.

The official client's ``read_namespaced_pod_log`` has no ``sinceTime`` parameter (the OpenAPI
spec leaves it out), so the request is built with the same client's ``param_serialize`` and sent
with its ``call_api``: the same configuration, credentials and errors (``ApiException``).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import kubernetes

from port_bridge.actionrun.model import ContainerLogCursor
from port_bridge.kube.objects import Object

_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


@dataclass(frozen=True)
class LogLine:
    stamp: str  # as the kubelet wrote it
    nanos: int  # the same, in nanoseconds since the epoch
    text: str  # without its newline
    complete: bool  # ended by a newline (the last line of a running container may be unfinished)


def stamp_nanos(stamp: str) -> int | None:
    """An RFC 3339 time with up to nine fractional digits as nanoseconds since the epoch."""
    match = _STAMP.fullmatch(stamp)
    if match is None:
        return None
    whole, fraction, offset = match.groups()
    moment = datetime.datetime.fromisoformat(whole + ("+00:00" if offset == "Z" else offset))
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


def since_time(stamp: str) -> str:
    """``sinceTime`` for a read from the second of ``stamp`` on (UTC, whole seconds)."""
    nanos = stamp_nanos(stamp) or 0
    moment = datetime.datetime.fromtimestamp(nanos // 1_000_000_000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_log(body: str) -> list[LogLine]:
    """The lines of a ``timestamps=true`` answer; a line without a readable timestamp (which the
    kubelet does not write) keeps the time of the line before it."""
    pieces = body.split("\n")
    last_complete = body.endswith("\n")
    if last_complete or not body:
        pieces.pop()
    lines: list[LogLine] = []
    stamp, nanos = "", 0
    for index, piece in enumerate(pieces):
        head, _, text = piece.partition(" ")
        parsed = stamp_nanos(head)
        if parsed is None:
            text = piece
        else:
            stamp, nanos = head, parsed
        complete = last_complete or index < len(pieces) - 1
        lines.append(LogLine(stamp=stamp, nanos=nanos, text=text, complete=complete))
    return lines


def after(lines: list[LogLine], cursor: ContainerLogCursor) -> list[LogLine]:
    """The lines past ``cursor``: later than its time, or at its time beyond the ones taken."""
    if cursor.at is None:
        return lines
    at = stamp_nanos(cursor.at) or 0
    fresh: list[LogLine] = []
    seen_at = 0
    for line in lines:
        if line.nanos < at:
            continue
        if line.nanos == at:
            seen_at += 1
            if seen_at <= cursor.at_lines:
                continue
        fresh.append(line)
    return fresh


def advance(cursor: ContainerLogCursor, line: LogLine, *, in_private_key: bool) -> ContainerLogCursor:
    """The cursor once ``line`` is taken."""
    same = cursor.at is not None and stamp_nanos(cursor.at) == line.nanos
    return ContainerLogCursor(
        lines=cursor.lines + 1,
        at=line.stamp,
        at_lines=cursor.at_lines + 1 if same else 1,
        in_private_key=in_private_key,
    )


@dataclass(frozen=True)
class LogRead:
    text: str
    cut: bool  # the answer reached limitBytes: its last line may be the start of a longer one


def read_log(
    api_client: kubernetes.client.ApiClient,
    *,
    namespace: str,
    pod: str,
    container: str,
    since: str | None,
    limit_bytes: int,
    timeout: float,
) -> LogRead:
    """One container's log with timestamps, from ``since`` (whole seconds) on, at most ``limit_bytes``."""
    query: list[tuple[str, str]] = [
        ("container", container),
        ("timestamps", "true"),
        ("limitBytes", str(limit_bytes)),
    ]
    if since is not None:
        query.append(("sinceTime", since))
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/log"
    raw = get(api_client, path, query, timeout=timeout)
    # limitBytes may end inside a character: that line is incomplete and not taken anyway
    return LogRead(raw.decode("utf-8", errors="replace"), cut=len(raw) >= limit_bytes)


def list_pods(
    api_client: kubernetes.client.ApiClient, *, label_selector: str, timeout: float
) -> list[Object]:
    """Every Pod with these labels, in any namespace, as the API server's JSON."""
    raw = get(api_client, "/api/v1/pods", [("labelSelector", label_selector)], timeout=timeout)
    items = json.loads(raw).get("items") or []
    return [item for item in items if isinstance(item, dict)]


def get(
    api_client: kubernetes.client.ApiClient, path: str, query: list[tuple[str, str]], *, timeout: float
) -> bytes:
    """The body of a GET through the official client (its configuration, credentials and errors)."""
    method, url, headers, body, post = api_client.param_serialize(
        method="GET",
        resource_path=path,
        query_params=query,
        header_params={"Accept": "text/plain, application/json"},
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, headers, body, post, _request_timeout=timeout)
    response.read()  # type: ignore[no-untyped-call]
    data: Any = api_client.response_deserialize(response, {"200": "bytearray"}).data
    return bytes(data) if isinstance(data, bytes | bytearray) else b""
