"""``PortClient``: the bridge's one way to talk to Port's REST API.

It is built from settings by whoever wires the application (nothing here reads the environment
or builds anything at import) and shared by every thread of the process: the token is cached
and renewed under a lock, and ``requests.Session`` pools connections to Port.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from types import TracebackType
from urllib.parse import urlsplit

import requests

from port_bridge.port.budget import RateBudget
from port_bridge.port.catalog import CatalogApi
from port_bridge.port.entities import EntitiesApi
from port_bridge.port.retry import RetryPolicy
from port_bridge.port.runs import RunsApi
from port_bridge.port.transport import Transport


class PortClient(RunsApi, EntitiesApi, CatalogApi):
    """Port's API at ``base_url`` (the API root, e.g. ``https://api.port.io``; paths are ``/v1/...``).

    ``timeout`` bounds each HTTP try; ``max_wait_seconds`` each wait between tries;
    ``max_retry_seconds`` the retrying of one call. ``sleep`` does the waiting and ``clock`` (epoch
    seconds) dates tokens and reads epoch rate-limit resets; tests inject both. A ``session``
    passed in stays the caller's to close. ``budget`` paces calls by Port's rate-limit headers
    (:mod:`.budget`); every view of this client (:meth:`with_sleep`, :meth:`in_background`)
    shares it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        max_retry_seconds: float = 300.0,
        max_wait_seconds: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        budget: RateBudget | None = None,
    ) -> None:
        _check_base_url(base_url)
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        if timeout <= 0 or max_wait_seconds < 0 or max_retry_seconds < 0:
            raise ValueError("timeout must be positive, max_wait_seconds and max_retry_seconds not negative")
        self.base_url = base_url.rstrip("/")
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        policy = RetryPolicy(
            max_wait_seconds=max_wait_seconds, max_retry_seconds=max_retry_seconds, sleep=sleep, clock=clock
        )
        self._transport = Transport(
            self.base_url,
            client_id=client_id,
            client_secret=client_secret,
            timeout=timeout,
            policy=policy,
            session=self._session,
            clock=clock,
            budget=budget if budget is not None else RateBudget(clock=clock),
        )

    def check_credentials(self) -> None:
        """Ask Port for a token now (one try, no retries) unless one is cached.

        Returns if Port accepts the credentials; raises :class:`~port_bridge.port.errors.PortApiError`
        if Port refuses them, :class:`~port_bridge.port.errors.PortUnavailable` if it did not answer.
        """
        self._transport.authenticate()

    def with_sleep(self, sleep: Callable[[float], None]) -> PortClient:
        """This client (its connections and its token) waiting between retries with ``sleep``.

        The controller gives each leadership term such a client, whose waits end as soon as the
        Lease is lost; closing it leaves the original's connections open.
        """
        clone = copy.copy(self)
        clone._owns_session = False
        clone._transport = self._transport.with_sleep(sleep)
        return clone

    def in_background(self) -> PortClient:
        """This client sending background calls (the catalog sync): they never use the share of
        Port's rate limit kept for the others, and wait while one of those waits for budget."""
        clone = copy.copy(self)
        clone._owns_session = False
        clone._transport = self._transport.in_background()
        return clone

    @property
    def budget(self) -> RateBudget:
        """Port's rate limit as this client (and every view of it) has learnt it."""
        return self._transport.budget

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> PortClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PortClient({self.base_url!r})"


def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http(s) URL such as https://api.port.io, not {base_url!r}")
    if parts.path.rstrip("/").endswith("/v1") or parts.query:
        raise ValueError(
            f"base_url is the API root without /v1 or a query, e.g. https://api.port.io: {base_url!r}"
        )
