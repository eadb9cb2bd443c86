"""The errors of the Port API client, one class per thing a caller does differently.

- :class:`PortApiError`: Port answered and refused; retrying the same request will not help.
- :class:`NotFound`: a 404; the ``get_*`` operations turn it into ``None``, deletes into ``False``.
- :class:`RunAlreadyFinished`: Port's 422 ``run_exhausted``: the run reached SUCCESS or FAILURE and
  Port will never accept a change to it again. Never retried; the caller records it.
- :class:`PortUnavailable`: no usable answer (429, 5xx, timeouts, dropped connections) until the
  retry budget ran out.

Port's ``message`` is kept on the exception but never logged by the client: Port's validation
messages can quote the values that were sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RUN_EXHAUSTED = "run_exhausted"


class PortError(Exception):
    """Base of everything the Port client raises about Port."""


class PortApiError(PortError):
    """Port refused a request: the HTTP status, Port's error code and message, and its trace id.

    ``attempts`` counts the tries of the call; above 1, an earlier try may have reached Port
    without its answer reaching us (a dropped connection or a timeout), so a ``run_exhausted``
    may come from the call's own first try.
    """

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        trace_id: str | None,
        method: str,
        path: str,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.trace_id = trace_id
        self.method = method
        self.path = path
        self.attempts = attempts

    def __str__(self) -> str:
        return (
            f"Port answered {self.status} {self.code} to {self.method} {self.path}: {self.message}"
            f" (trace id {self.trace_id or 'none'})"
        )


class NotFound(PortApiError):
    """Port has no such run, entity, blueprint, action or scorecard."""


class RunAlreadyFinished(PortApiError):
    """The run is finished (SUCCESS or FAILURE); Port refuses every further change to it."""


class PortUnavailable(PortError):
    """Port gave no usable answer before the retry budget ran out.

    ``status`` and ``trace_id`` describe the last answer, or are ``None`` if the last try got no
    answer at all (the cause is then the ``requests`` exception, chained as ``__cause__``).
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        attempts: int,
        elapsed: float,
        status: int | None,
        trace_id: str | None,
        reason: str,
    ) -> None:
        super().__init__(
            f"Port API {method} {path} gave up after {attempts} attempt(s) in {elapsed:.1f} s: {reason}"
        )
        self.method = method
        self.path = path
        self.attempts = attempts
        self.elapsed = elapsed
        self.status = status
        self.trace_id = trace_id


def api_error(
    *, status: int, body: Mapping[str, Any], trace_id: str | None, method: str, path: str
) -> PortApiError:
    """The exception for a refusal, from Port's ``{ok: false, error, message}`` answer."""
    code = body.get("error")
    message = body.get("message")
    kind: type[PortApiError] = PortApiError
    if status == 404:
        kind = NotFound
    elif status == 422 and code == RUN_EXHAUSTED:
        kind = RunAlreadyFinished
    return kind(
        status=status,
        code=code if isinstance(code, str) else "unknown",
        message=message if isinstance(message, str) else "(no message)",
        trace_id=trace_id,
        method=method,
        path=path,
    )
