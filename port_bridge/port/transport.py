"""One call to Port's API: the token, the retry policy, logging and errors around an HTTP request.

Every operation of the client goes through :meth:`Transport.request`. Each try takes the cached
token; on a 401 it renews the token once per call and *rebuilds* the request with the new
Authorization header (Ocean #3286 resent the stale header, and long syncs died on 401). What
:mod:`.retry` deems transient is retried; anything else becomes an error from :mod:`.errors`.

Before each call (the token request aside) the shared :class:`~.budget.RateBudget` may hold it
until Port's rate limit allows it, and every answer tells the budget where that limit stands.

Every failed exchange is logged with Port's ``x-trace-id``, the method, the path and the status.
Bodies are never logged, nor Port's error messages: entity properties and run summaries may carry
secrets, and Port's validation messages can quote them. The token and the client secret only
ever travel in headers and the token request's body.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
import tenacity

from port_bridge import __version__
from port_bridge.port.auth import TokenCache
from port_bridge.port.budget import BudgetExhausted, RateBudget, bucket_of
from port_bridge.port.errors import PortApiError, PortUnavailable, api_error
from port_bridge.port.retry import RETRYABLE_STATUSES, RetryableAnswer, RetryPolicy

log = logging.getLogger(__name__)
AUTH_ROUTE = "/v1/auth/access_token"
USER_AGENT = f"port-bridge/{__version__}"

Json = dict[str, Any]
Params = Mapping[str, str]


def segment(identifier: str) -> str:
    """An identifier as one path segment: entity identifiers may contain ``/``, ``@``, ``=``..."""
    return quote(identifier, safe="")


def flag(value: bool) -> str:
    return "true" if value else "false"


def unwrap(body: Json, key: str) -> Json:
    """``body[key]`` when Port wrapped the object as documented, else the body without ``ok``."""
    inner = body.get(key)
    if isinstance(inner, dict):
        return inner
    return {k: v for k, v in body.items() if k != "ok"}


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status and parsed JSON body (``{}`` when it has none)."""

    status: int
    body: Json
    trace_id: str | None


@dataclass
class _Call:
    method: str
    path: str
    params: Params
    json: Any
    quiet: Collection[int]
    renewed: bool = False
    throttled: bool = False  # the last try drew a 429; the retry policy waited what Port asked


class Transport:
    """Sends requests to one Port API root; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        timeout: float,
        policy: RetryPolicy,
        session: requests.Session,
        clock: Callable[[], float],
        budget: RateBudget,
    ) -> None:
        self._base_url = base_url
        self._credentials = {"clientId": client_id, "clientSecret": client_secret}
        self._timeout = timeout
        self._policy = policy
        self._session = session
        self._tokens = TokenCache(self._fetch_token, clock=clock)
        self.budget = budget
        self._background = False

    def with_sleep(self, sleep: Callable[[float], None]) -> Transport:
        """This transport (session and token cache shared) waiting between retries with ``sleep``."""
        clone = copy.copy(self)
        clone._policy = self._policy.with_sleep(sleep)
        return clone

    def in_background(self) -> Transport:
        """This transport (budget shared) sending background calls: they yield to the others."""
        clone = copy.copy(self)
        clone._background = True
        return clone

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        quiet: Collection[int] = (),
    ) -> Answer:
        """Send with retries; ``quiet`` statuses are expected answers, logged at debug level only."""
        call = _Call(method, path, params or {}, json, quiet)
        retrying = self._policy.retrying(method=method, path=path)
        try:
            return retrying(self._attempt, call)
        except PortApiError as error:
            error.attempts = retrying.statistics.get("attempt_number", 1)
            raise
        except tenacity.RetryError as error:
            raise _unavailable(call, error, retrying.statistics) from error.last_attempt.exception()
        except BudgetExhausted as error:
            raise PortUnavailable(
                method=method,
                path=path,
                attempts=retrying.statistics.get("attempt_number", 1),
                elapsed=0.0,
                status=None,
                trace_id=None,
                reason=str(error),
            ) from error

    def authenticate(self) -> None:
        """Have a token: the cached one, else one fetched now in a single try without retries.

        Raises what a refusal raises (:class:`PortApiError`), or :class:`PortUnavailable` when
        the one try got no usable answer.
        """
        try:
            self._tokens.token()
        except (RetryableAnswer, requests.RequestException) as error:
            answer = error if isinstance(error, RetryableAnswer) else None
            raise PortUnavailable(
                method="POST",
                path=AUTH_ROUTE,
                attempts=1,
                elapsed=0.0,
                status=answer.status if answer else None,
                trace_id=answer.trace_id if answer else None,
                reason=f"answered {answer.status}" if answer else f"no answer ({type(error).__name__})",
            ) from error

    def _attempt(self, call: _Call) -> Answer:
        token = self._tokens.token()
        response = self._send(call, token)
        if response.status_code == 401 and not call.renewed:
            _log_refusal(
                call, response, _json_object(response), note="renewing the token", level=logging.INFO
            )
            call.renewed = True
            self._tokens.invalidate(token)
            response = self._send(call, self._tokens.token())
        return self._answer(call, response)

    def _fetch_token(self) -> tuple[str, float]:
        call = _Call("POST", AUTH_ROUTE, {}, self._credentials, ())
        answer = self._answer(call, self._send(call, None))
        token, lifetime = answer.body.get("accessToken"), answer.body.get("expiresIn")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            raise PortApiError(
                status=answer.status,
                code="invalid_token_answer",
                message="the token answer lacks accessToken or expiresIn",
                trace_id=answer.trace_id,
                method=call.method,
                path=call.path,
            )
        return token, float(lifetime)

    def _send(self, call: _Call, token: str | None) -> requests.Response:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        bucket = None
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            bucket = bucket_of(call.path)
            self.budget.take(
                bucket,
                background=self._background,
                sleep=self._policy.sleep,
                max_wait=self._policy.max_retry_seconds,
                retrying_after_429=call.throttled,
            )
        try:
            response = self._session.request(
                call.method,
                self._base_url + call.path,
                params=call.params,
                json=call.json,
                headers=headers,
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            log.warning(
                "Port API %s %s got no answer: %s",
                call.method,
                call.path,
                type(error).__name__,
                extra={"method": call.method, "path": call.path, "status": None, "trace_id": None},
            )
            raise
        if bucket is not None:
            self.budget.observe(bucket, status=response.status_code, headers=response.headers)
        call.throttled = response.status_code == 429
        return response

    def _answer(self, call: _Call, response: requests.Response) -> Answer:
        status, trace_id = response.status_code, response.headers.get("x-trace-id")
        body = _json_object(response)
        if 200 <= status < 300:
            if body is None:
                raise PortApiError(
                    status=status,
                    code="invalid_answer",
                    message="Port's answer is not a JSON object",
                    trace_id=trace_id,
                    method=call.method,
                    path=call.path,
                )
            return Answer(status, body, trace_id)
        level = logging.DEBUG if status in call.quiet else logging.WARNING
        _log_refusal(call, response, body, note=None, level=level)
        if status in RETRYABLE_STATUSES:
            raise RetryableAnswer(status=status, headers=response.headers, trace_id=trace_id)
        raise api_error(status=status, body=body or {}, trace_id=trace_id, method=call.method, path=call.path)


class ApiArea:
    """Base of the client's groups of operations, which all speak through one :class:`Transport`."""

    _transport: Transport


def _log_refusal(
    call: _Call, response: requests.Response, body: Json | None, *, note: str | None, level: int
) -> None:
    code = (body or {}).get("error")
    trace_id = response.headers.get("x-trace-id")
    log.log(
        level,
        "Port API %s %s answered %d %s (trace id %s)%s",
        call.method,
        call.path,
        response.status_code,
        code if isinstance(code, str) else "-",
        trace_id,
        f"; {note}" if note else "",
        extra={
            "method": call.method,
            "path": call.path,
            "status": response.status_code,
            "trace_id": trace_id,
        },
    )


def _json_object(response: requests.Response) -> Json | None:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _unavailable(call: _Call, error: tenacity.RetryError, statistics: Mapping[str, Any]) -> PortUnavailable:
    last = error.last_attempt.exception()
    status = last.status if isinstance(last, RetryableAnswer) else None
    return PortUnavailable(
        method=call.method,
        path=call.path,
        attempts=error.last_attempt.attempt_number,
        elapsed=max(statistics.get("delay_since_first_attempt", 0.0), statistics.get("idle_for", 0.0)),
        status=status,
        trace_id=last.trace_id if isinstance(last, RetryableAnswer) else None,
        reason=f"last answer {status}"
        if status is not None
        else f"last try got no answer ({type(last).__name__})",
    )
