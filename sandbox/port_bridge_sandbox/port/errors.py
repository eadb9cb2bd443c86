"""Port's error answers as one exception type, so handlers can refuse with a single ``raise``.

Port answers every failure with ``{ok: false, error: <code>, message: <text>}``; the codes below
are the ones the emulator uses (``run_exhausted`` and ``not_found`` are seen from real Port, the
others are the emulator's choice where Port's code is not documented).
"""

from __future__ import annotations

from typing import Any


class PortError(Exception):
    """A request that Port refuses: the HTTP status, Port's error code and a readable message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, "message": self.message}


def not_found(what: str) -> PortError:
    return PortError(404, "not_found", f"{what} was not found")


def invalid(message: str) -> PortError:
    return PortError(422, "invalid_request", message)


def conflict(message: str) -> PortError:
    return PortError(409, "conflict", message)
