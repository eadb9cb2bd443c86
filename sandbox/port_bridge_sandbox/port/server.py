"""``PortEmulator``: Port's REST API on 127.0.0.1, served from a background thread.

Tests and ``port-bridge sandbox`` point a real HTTP client at :attr:`PortEmulator.url`. The
emulator is werkzeug's threaded server around the Flask app in :mod:`.app`; stopping it wakes
any request held by injected latency, so ``stop()`` returns within a few tens of milliseconds.
Port's spec is parsed once per process, so starting an emulator costs milliseconds.

Besides the HTTP API it offers test helpers: recorded calls and spec violations, the stored runs
and entities, seeding of blueprints/actions/scorecards/entities (checked against the same spec),
token expiry, fault injection (:attr:`faults`), Port's organisation rate limits
(:meth:`limit_rate`) and acting as Port to invoke an action's webhook.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from port_bridge_sandbox.port.app import create_app
from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.faults import Faults
from port_bridge_sandbox.port.github import WorkflowDispatcher
from port_bridge_sandbox.port.invoker import ActionInvoker
from port_bridge_sandbox.port.ratelimit import RateLimiter, RateLimits
from port_bridge_sandbox.port.recording import RecordedCall, Recorder, SpecViolation
from port_bridge_sandbox.port.routebook import OwnRoutes, RouteBook
from port_bridge_sandbox.port.routes import Backend, all_routes
from port_bridge_sandbox.port.runs import Run
from port_bridge_sandbox.port.spec import PortSpec, default_spec_path
from port_bridge_sandbox.port.state import PortState
from port_bridge_sandbox.port.tokens import TokenIssuer
from port_bridge_sandbox.shared import SharedDataMissing

log = logging.getLogger(__name__)
AUTH_ROUTE = "/v1/auth/access_token"
ONE_MIB = 1024 * 1024


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to debug logging: every call is recorded by the emulator anyway.

    HTTP/1.1, so clients keep their connections open as they do with Port's API.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.warning("emulator server %s: " + message.rstrip(), type, *args)


def _route_book(spec_path: Path | None) -> tuple[RouteBook, str]:
    """Port's spec (given, or found beside the clone), else the emulator's own routes; and which it is."""
    if spec_path is None:
        try:
            spec_path = default_spec_path()
        except SharedDataMissing:
            note = "requests are answered, not checked (Port's OpenAPI spec is not beside the clone)"
            log.info(note)
            return OwnRoutes(all_routes()), note
    spec = PortSpec.load(spec_path)
    return spec, f"every request is checked against Port's OpenAPI spec ({spec_path.name})"


class PortEmulator:
    """An emulated Port organisation with one set of API credentials, served over HTTP.

    Usable as a context manager or with :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        spec_path: Path | None = None,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 - the sandbox's own made-up credentials
        token_lifetime: float = 10800.0,
        max_body_bytes: int = ONE_MIB,
        org_id: str = "org_sandbox",
        secrets: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.spec, self.spec_note = _route_book(spec_path)
        self.client_id = client_id
        self.client_secret = client_secret
        self.org_id = org_id
        self.state = PortState(actor=client_id)
        self.faults = Faults()
        self._tokens = TokenIssuer(client_id=client_id, client_secret=client_secret, lifetime=token_lifetime)
        self._recorder = Recorder()
        self._stopping = threading.Event()
        self.rate_limiter: RateLimiter | None = None
        self.limit_rate(rate_limits)
        self.invoker = ActionInvoker(
            state=self.state, client_secret=client_secret, org_id=org_id, secrets=secrets or {}
        )
        self._app = create_app(
            spec=self.spec,
            backend=Backend(state=self.state, tokens=self._tokens, deliver=self.invoker.deliver_api_run),
            faults=self.faults,
            recorder=self._recorder,
            max_body_bytes=max_body_bytes,
            stopping=self._stopping,
            limiter=lambda: self.rate_limiter,
        )
        # Acting as Port: create a run and deliver the action's signed webhook (see .invoker).
        self.invoke = self.invoker.invoke
        # Acting as Port for a GITHUB action: create a run and render its workflow's inputs (see .github).
        self.workflows = WorkflowDispatcher(state=self.state, org_id=org_id)
        self._address = (host, port)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> PortEmulator:
        if self._server is not None:
            raise RuntimeError("the Port emulator is already running")
        self._stopping.clear()
        try:
            server = make_server(*self._address, self._app, threaded=True, request_handler=_QuietHandler)
        except SystemExit:  # werkzeug exits the process when it cannot bind
            raise OSError(
                f"the Port emulator cannot listen on {self._address[0]}:{self._address[1]}"
            ) from None
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="port-emulator", daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> PortEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Port emulator is not running; call start() first")
        return f"http://{self._address[0]}:{self._server.port}"

    # What clients did

    @property
    def calls(self) -> list[RecordedCall]:
        return self._recorder.calls()

    @property
    def checks_spec(self) -> bool:
        """Whether requests are checked against Port's spec (it is beside the clone or was given)."""
        return self.spec.checks

    @property
    def spec_violations(self) -> list[SpecViolation]:
        return self._recorder.violations()

    @property
    def token_requests(self) -> int:
        return len(self._recorder.matching("POST", AUTH_ROUTE))

    @property
    def internal_errors(self) -> list[RecordedCall]:
        """Requests the emulator itself failed on (a bug in the emulator, not in the client)."""
        return [
            call
            for call in self.calls
            if isinstance(call.response, dict) and call.response.get("error") == "emulator_error"
        ]

    def calls_matching(self, method: str | None, path: str) -> list[RecordedCall]:
        """Recorded calls by method (``None`` for any) and a regex the whole path must match."""
        return self._recorder.matching(method, path)

    def clear_calls(self) -> None:
        self._recorder.clear()

    def run(self, run_id: str) -> Run:
        """A snapshot of the run: status, history, PATCH bodies, logs, refusals, affected entities."""
        return self.state.run(run_id)

    def runs(self) -> list[Run]:
        return self.state.runs()

    def entity(self, blueprint: str, identifier: str) -> dict[str, Any] | None:
        """The stored entity as Port would return it (with scorecards), or ``None``."""
        try:
            return self.state.entity(blueprint, identifier)
        except PortError:
            return None

    def blueprint(self, identifier: str) -> dict[str, Any] | None:
        try:
            return self.state.catalog.blueprint(identifier)
        except PortError:
            return None

    def action(self, identifier: str) -> dict[str, Any] | None:
        return self.state.catalog.find_action(identifier)

    # Arranging a scenario

    def access_token(self) -> str:
        """The active token (the one a client asking now would get); not counted as a request."""
        return self._tokens.issue().value

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}"}

    def limit_rate(self, limits: RateLimits | None) -> RateLimiter | None:
        """Enforce ``limits`` from now on, in fresh windows (``None``: no limit, the default)."""
        self.rate_limiter = RateLimiter(limits) if limits is not None else None
        return self.rate_limiter

    @property
    def rate_limited(self) -> list[RecordedCall]:
        """Requests answered 429 because they went over the rate limit (not injected faults)."""
        return [call for call in self.calls if call.fault == "rate_limited"]

    def expire_token(self) -> None:
        """Expire the active token now, to exercise a client's refresh-on-401."""
        self._tokens.expire()

    def add_blueprint(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Seed a blueprint; what it refers to is not checked, so blueprints can be seeded in any order."""
        self._check("POST", "/v1/blueprints", body)
        return self.state.catalog.create_blueprint(body, check=False)

    def add_action(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check("POST", "/v1/actions", body)
        return self.state.catalog.create_action(body)

    def add_scorecard(self, blueprint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check("POST", "/v1/blueprints/{blueprint_identifier}/scorecards", body)
        return self.state.catalog.create_scorecard(blueprint, body)

    def add_entity(self, blueprint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check("POST", "/v1/blueprints/{blueprint_identifier}/entities", body)
        entity, _ = self.state.write_entity(blueprint, body, upsert=True)
        return entity

    def create_run(
        self,
        action_identifier: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        entity: str | None = None,
        user_email: str = "developer@example.com",
        operation: str | None = None,
    ) -> str:
        """Start a run as if a user pressed the action's button; returns the run id."""
        run = self.state.create_run(
            action_identifier,
            properties=inputs or {},
            entity=entity,
            user_email=user_email,
            operation=operation,
        )
        return run.id

    def _check(self, method: str, template: str, body: Mapping[str, Any]) -> None:
        errors = self.spec.validate_body(method, template, dict(body))
        if errors:
            raise ValueError(f"{method} {template} body does not match Port's spec: " + "; ".join(errors))
