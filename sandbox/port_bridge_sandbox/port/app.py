"""The emulator's Flask app: every request goes through the same pipeline Port applies.

The order is: injected faults, the organisation's rate limit when one is set (:mod:`.ratelimit`;
its headers go on every answer), route lookup in the OpenAPI spec (404 for a route Port does not
have), bearer token (401), body size (413), JSON content type and syntax, OpenAPI validation of
query and body (422 ``invalid_request``), then the route's handler. Unknown routes, off-spec
requests and wrong content types are recorded as spec violations. Every answer carries Port's
error shape on failure and an ``x-trace-id`` header, and is recorded before it is sent.

Routing is done here rather than by Flask's URL rules so that path parameters are cut from the
raw, still percent-encoded path: entity identifiers may contain ``/`` (sent as ``%2F``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request

from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.faults import FaultAnswer, Faults
from port_bridge_sandbox.port.ratelimit import RateLimiter, Window
from port_bridge_sandbox.port.recording import RecordedCall, Recorder, flat_query, redact
from port_bridge_sandbox.port.routebook import RouteBook
from port_bridge_sandbox.port.routes import ApiRequest, Backend, Handler, all_routes
from port_bridge_sandbox.port.spec import Operation

log = logging.getLogger(__name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class _Outcome:
    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str]
    violation: str | None = None
    fault: str | None = None


class _SpecViolation(PortError):
    """A refusal that also means the client sent something Port's spec does not allow."""


def create_app(
    *,
    spec: RouteBook,
    backend: Backend,
    faults: Faults,
    recorder: Recorder,
    max_body_bytes: int,
    stopping: threading.Event,
    limiter: Callable[[], RateLimiter | None] = lambda: None,
) -> Flask:
    app = Flask(__name__)
    pipeline = _Pipeline(spec, backend, faults, recorder, max_body_bytes, stopping, limiter)
    options: dict[str, Any] = {"methods": METHODS, "provide_automatic_options": False}
    app.add_url_rule("/", "port_api", pipeline, defaults={"path": ""}, **options)
    app.add_url_rule("/<path:path>", "port_api", pipeline, **options)
    return app


class _Pipeline:
    def __init__(
        self,
        spec: RouteBook,
        backend: Backend,
        faults: Faults,
        recorder: Recorder,
        max_body_bytes: int,
        stopping: threading.Event,
        limiter: Callable[[], RateLimiter | None],
    ) -> None:
        self._spec = spec
        self._limiter = limiter
        self._backend = backend
        self._faults = faults
        self._recorder = recorder
        self._max_body_bytes = max_body_bytes
        self._stopping = stopping
        self._handlers = _handlers(spec)

    def __call__(self, path: str) -> Response:
        trace_id = uuid.uuid4().hex
        raw_path = _raw_path()
        outcome = self._outcome(raw_path)
        dropped = outcome.fault == "drop"
        self._recorder.add(
            RecordedCall(
                method=request.method,
                path=raw_path,
                query=flat_query(request.args.to_dict(flat=False)),
                json=redact(g.request_json if "request_json" in g else self._peek_json()),
                status=None if dropped else outcome.status,
                response=redact(outcome.body),
                trace_id=trace_id,
                violation=outcome.violation,
                fault=outcome.fault,
            )
        )
        if dropped:
            _drop_connection()
        payload = b"" if outcome.body is None else json.dumps(outcome.body, ensure_ascii=False).encode()
        response = Response(payload, status=outcome.status, mimetype="application/json")
        response.headers.update(dict(outcome.headers))
        response.headers["x-trace-id"] = trace_id
        return response

    def _outcome(self, raw_path: str) -> _Outcome:
        decision = self._faults.decide(request.method, raw_path)
        if decision.delay:
            self._stopping.wait(decision.delay)
        if decision.answer is not None:
            return _fault_outcome(decision.answer)
        limiter, headers = self._limiter(), {}
        if limiter is not None:
            admission = limiter.admit(self._window(raw_path))
            headers = admission.headers
            if not admission.admitted:
                body = {"ok": False, "error": "rate_limit_exceeded", "message": "Too many requests"}
                return _Outcome(429, body, headers, fault="rate_limited")
        try:
            status, body = self._handle(raw_path)
        except _SpecViolation as error:
            return _Outcome(error.status, error.body(), headers, violation=error.message)
        except PortError as error:
            return _Outcome(error.status, error.body(), headers)
        except Exception as error:  # a bug in the emulator must reach the test, not hang it
            log.exception("the Port emulator failed on %s %s", request.method, raw_path)
            return _Outcome(500, {"ok": False, "error": "emulator_error", "message": repr(error)}, headers)
        return _Outcome(status, body, headers)

    def _window(self, raw_path: str) -> Window:
        """The rate-limit window a request counts against, by the tags of its operation in Port's spec."""
        operation = self._spec.match(request.method, raw_path)
        if operation is None:
            return "other"
        if not operation.definition.get("security"):
            return "unauthenticated"
        return "entities" if "Entities" in (operation.definition.get("tags") or ()) else "other"

    def _handle(self, raw_path: str) -> tuple[int, dict[str, Any]]:
        operation = self._spec.match(request.method, raw_path)
        if operation is None:
            message = f"Port's API has no route {request.method} {raw_path}"
            raise _SpecViolation(404, "not_found", message)
        if operation.definition.get("security"):
            self._authorize()
        data = self._read_body()
        present, body = _parse_json(data)
        g.request_json = body
        query = self._spec.coerce_query(operation, request.args.to_dict(flat=False))
        errors = self._spec.query_errors(operation, query) + self._spec.body_errors(
            operation, body, present=present
        )
        if errors:
            raise _SpecViolation(422, "invalid_request", "; ".join(errors))
        handler = self._handlers.get((operation.method, operation.template))
        if handler is None:
            message = f"the emulator does not implement {operation.method} {operation.template}"
            raise PortError(501, "not_implemented", message)
        return handler(self._backend, _api_request(operation, raw_path, query, body))

    def _peek_json(self) -> Any:
        """For the recording only: the JSON body of a request refused before it was parsed."""
        if g.get("body_read") or (request.content_length or 0) > self._max_body_bytes:
            return None
        try:
            return json.loads(request.get_data()) if request.content_length else None
        except ValueError:
            return None

    def _authorize(self) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise PortError(401, "unauthorized", "an Authorization: Bearer <token> header is required")
        if not self._backend.tokens.is_valid(token.strip()):
            raise PortError(401, "unauthorized", "the access token is invalid or has expired")

    def _read_body(self) -> bytes:
        too_large = PortError(
            413, "payload_too_large", f"the request body is over {self._max_body_bytes} bytes"
        )
        g.body_read = True
        length = request.content_length
        if length is not None and length > self._max_body_bytes:
            raise too_large
        data = request.stream.read(self._max_body_bytes + 1)
        if len(data) > self._max_body_bytes:
            raise too_large
        if data and request.mimetype != "application/json":
            message = (
                f"Content-Type {request.mimetype or 'none'!r} is not supported; Port takes application/json"
            )
            raise _SpecViolation(415, "unsupported_media_type", message)
        return data


def _handlers(spec: RouteBook) -> dict[tuple[str, str], Handler]:
    handlers = {}
    for route in all_routes():
        if not spec.has_operation(route.method, route.template):
            raise ValueError(f"the emulator serves {route.method} {route.template}, which Port's spec lacks")
        handlers[(route.method, route.template)] = route.handler
    return handlers


def _api_request(operation: Operation, raw_path: str, query: dict[str, Any], body: Any) -> ApiRequest:
    return ApiRequest(operation.method, raw_path, operation.path_params, query, body)


def _parse_json(data: bytes) -> tuple[bool, Any]:
    if not data:
        return False, None
    try:
        return True, json.loads(data)
    except ValueError as error:
        raise _SpecViolation(422, "invalid_request", f"body: not valid JSON ({error})") from None


def _fault_outcome(answer: FaultAnswer) -> _Outcome:
    body = dict(answer.body) if answer.body else None
    return _Outcome(answer.status, body, answer.headers, fault=answer.kind)


def _raw_path() -> str:
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if isinstance(raw_uri, str) and raw_uri.startswith("/"):
        return raw_uri.partition("?")[0]
    return request.path


def _drop_connection() -> None:
    """Shut the client's socket so it sees the connection end without any answer."""
    connection = request.environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
