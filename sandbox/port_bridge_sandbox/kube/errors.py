"""Kubernetes ``Status`` errors, with the reasons and messages a real API server sends.

Clients branch on the HTTP code and on ``reason`` (``AlreadyExists``, ``Conflict``, ``Invalid``,
``Expired``...). Stock kmock answers with reasons of its own and a server traceback in
``details``; these are the real ones, so error handling tested here holds in a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"


def not_found(qualified: str, name: str, *, group: str, plural: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{qualified} "{name}" not found', {"name": name, "group": group, "kind": plural}
    )


def unknown_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def already_exists(qualified: str, name: str, *, group: str, plural: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified} "{name}" already exists',
        {"name": name, "group": group, "kind": plural},
    )


def conflict(qualified: str, name: str, *, group: str, plural: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": name, "group": group, "kind": plural},
    )


def invalid(
    qualified_kind: str, name: str, causes: list[tuple[str, str]], *, group: str, kind: str
) -> ApiError:
    summary = "; ".join(f"{path}: {message}" for path, message in causes)
    text = f'{qualified_kind} "{name}" is invalid: ' + (f"[{summary}]" if len(causes) > 1 else summary)
    return ApiError(
        422,
        "Invalid",
        text,
        {
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [
                {"reason": "FieldValueInvalid", "message": message, "field": path} for path, message in causes
            ],
        },
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)}"
        f" (got {content_type or 'none'})",
    )


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)
