"""The contract between the request pipeline and the handlers of Port's routes.

A handler receives a request that has already been authenticated and checked against the
OpenAPI spec (so its query parameters are typed and its body has the documented shape) and
returns a status and a JSON body, or raises :class:`~port_bridge_sandbox.port.errors.PortError`.
Routes are named by the spec's own path templates, so each one is tied to a spec operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge_sandbox.port.runs import Run
from port_bridge_sandbox.port.state import PortState
from port_bridge_sandbox.port.tokens import TokenIssuer


@dataclass(frozen=True)
class Backend:
    state: PortState
    tokens: TokenIssuer
    # Sends the webhook of a run started through the API, as Port does (None: runs are only recorded).
    deliver: Callable[[Run], None] | None = None


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any

    @property
    def label(self) -> str:
        """``METHOD /path``, as refusals are recorded on runs."""
        return f"{self.method} {self.path}"


Reply = tuple[int, dict[str, Any]]
Handler = Callable[[Backend, ApiRequest], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
