"""``POST /v1/auth/access_token``: client credentials in, the active bearer token out."""

from __future__ import annotations

import time

from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.routes.base import ApiRequest, Backend, Reply, Route


def access_token(backend: Backend, request: ApiRequest) -> Reply:
    body = request.body
    if not backend.tokens.credentials_match(body["clientId"], body["clientSecret"]):
        raise PortError(401, "unauthorized", "the client id or client secret is wrong")
    token = backend.tokens.issue()
    remaining = round(token.remaining(time.monotonic()), 3)
    expires_in = int(remaining) if remaining.is_integer() else remaining
    return 200, {"ok": True, "accessToken": token.value, "expiresIn": expires_in, "tokenType": "Bearer"}


ROUTES = (Route("POST", "/v1/auth/access_token", access_token),)
