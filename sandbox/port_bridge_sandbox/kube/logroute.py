"""``GET /api/v1/namespaces/{ns}/pods/{name}/log`` as the API server serves it.

The API server checks the options (``PodLogOptions``) and the container name itself
(``LogLocation`` in ``pkg/registry/core/pod/strategy.go``), then streams what the kubelet reads
from the container's log: ``text/plain``, the last ``tailLines`` lines, without the lines written
before ``sinceTime``/``sinceSeconds``, each line prefixed with its RFC 3339 timestamp
(nanoseconds, as the kubelet's ``RFC3339NanoFixed``) when ``timestamps=true``, at most
``limitBytes`` bytes, and with ``follow=true`` everything written after that until the
container ends, the Pod goes or the client hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web

from port_bridge_sandbox.kube import errors
from port_bridge_sandbox.kube.podlogs import PodLogs

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_CLIENT_CHECK_SECONDS = 0.5  # how often a quiet follow stream checks that its client is still there


@dataclass(frozen=True)
class LogOptions:
    container: str
    follow: bool
    timestamps: bool
    tail_lines: int | None
    limit_bytes: int | None
    since: datetime.datetime | None


def log_options(params: Mapping[str, str], pod: Mapping[str, Any], *, now: datetime.datetime) -> LogOptions:
    """The request's options, refused as the API server refuses them (400 unparsable, 422 invalid)."""
    name = str(pod["metadata"]["name"])
    tail_lines, limit_bytes = _integer(params, "tailLines"), _integer(params, "limitBytes")
    since_seconds, since_time = _integer(params, "sinceSeconds"), _time(params, "sinceTime")
    problems: list[tuple[str, str]] = []
    if tail_lines is not None and tail_lines < 0:
        problems.append(("tailLines", f"Invalid value: {tail_lines}: must be greater than or equal to 0"))
    if limit_bytes is not None and limit_bytes < 1:
        problems.append(("limitBytes", f"Invalid value: {limit_bytes}: must be greater than 0"))
    if since_seconds is not None and since_time is not None:
        problems.append(("", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        problems.append(("sinceSeconds", f"Invalid value: {since_seconds}: must be greater than 0"))
    if problems:
        raise errors.invalid("PodLogOptions", name, problems, group="", kind="PodLogOptions")
    container = _container(params.get("container") or "", pod)
    if _boolean(params, "previous"):
        raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    since = since_time
    if since_seconds is not None:
        since = now - datetime.timedelta(seconds=since_seconds)
    return LogOptions(
        container=container,
        follow=_boolean(params, "follow"),
        timestamps=_boolean(params, "timestamps"),
        tail_lines=tail_lines,
        limit_bytes=limit_bytes,
        since=since,
    )


async def serve_log(
    raw: aiohttp.web.BaseRequest,
    logs: PodLogs,
    *,
    namespace: str,
    pod: str,
    options: LogOptions,
    pod_exists: Callable[[], bool],
) -> aiohttp.web.StreamResponse:
    """Stream one container's log to the client."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the server stopped: nobody is waiting any more
            loop.call_soon_threadsafe(changed.set)

    stop_listening = logs.listen(namespace, pod, options.container, wake)
    response = aiohttp.web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(raw)
    remaining = options.limit_bytes
    try:
        view = logs.view(namespace, pod, options.container)
        cursor = _first_offset(view.starts, len(view.text), options.tail_lines)
        while True:
            changed.clear()
            view = logs.view(namespace, pod, options.container)
            if len(view.text) > cursor:
                chunk = view.render(
                    cursor, len(view.text), timestamps=options.timestamps, since=options.since
                ).encode()
                cursor = len(view.text)
                if remaining is not None:
                    chunk, remaining = chunk[:remaining], remaining - min(remaining, len(chunk))
                if chunk:
                    await response.write(chunk)
            if not options.follow or view.closed or remaining == 0 or not pod_exists():
                break
            try:
                await asyncio.wait_for(changed.wait(), _CLIENT_CHECK_SECONDS)
            except TimeoutError:
                if raw.transport is None or raw.transport.is_closing():
                    return response
        await response.write_eof()
    except ConnectionResetError:
        pass
    finally:
        stop_listening()
    return response


def _first_offset(starts: tuple[int, ...], length: int, tail_lines: int | None) -> int:
    if tail_lines is None:
        return 0
    if tail_lines == 0 or not starts:
        return length
    return starts[max(0, len(starts) - tail_lines)]


def _container(requested: str, pod: Mapping[str, Any]) -> str:
    spec = pod.get("spec") or {}
    name = str(pod["metadata"]["name"])
    containers = [c.get("name", "") for c in spec.get("containers") or ()]
    init_containers = [c.get("name", "") for c in spec.get("initContainers") or ()]
    ephemeral = [c.get("name", "") for c in spec.get("ephemeralContainers") or ()]
    if not requested:
        if len(containers) == 1:
            return str(containers[0])
        if not containers:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        message = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
        if init_containers:
            message += f" or one of the init containers: [{' '.join(init_containers)}]"
        raise errors.bad_request(message)
    if requested not in (*containers, *init_containers, *ephemeral):
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def _integer(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value, 10)
    except ValueError as error:
        raise errors.bad_request(f'{name}: invalid value "{value}": not an integer') from error


def _boolean(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value is None or value == "" or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise errors.bad_request(f'{name}: invalid value "{value}": not a boolean')


def _time(params: Mapping[str, str], name: str) -> datetime.datetime | None:
    value = params.get(name)
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise errors.bad_request(f'{name}: invalid value "{value}": not an RFC 3339 time') from error
    if moment.tzinfo is None:
        raise errors.bad_request(f'{name}: invalid value "{value}": an RFC 3339 time needs its offset')
    return moment
