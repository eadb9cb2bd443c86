"""Typed seams over the official ``kubernetes`` client, for tests that drive the emulators through it.

The generated ``CustomObjectsApi`` says its methods return ``object`` and ``Watch`` carries no
annotations. Tests that check the emulators through that client (rather than through the product's
own ``port_bridge.kube.objects``) read what came back here, once, so the rest stays strictly typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kubernetes.client import ApiException
from kubernetes.watch import Watch


def json_object(value: object) -> dict[str, Any]:
    """What a custom-object call returned: a JSON object, or the test fails saying what it was."""
    assert isinstance(value, dict), f"expected a JSON object from the API, got {type(value).__name__}"
    return value


def watch_events(
    list_function: Callable[..., object], *args: object, **options: object
) -> Iterator[dict[str, Any]]:
    """The events of one watch request (``{"type", "object"}``), opened when iteration starts."""
    for event in Watch().stream(list_function, *args, **options):  # type: ignore[no-untyped-call]
        yield json_object(event)


def error_body(error: ApiException) -> str:
    """The body of a refusal: the API server's ``Status`` object, as text."""
    assert isinstance(error.body, str), f"the refusal ({error.status}) came without a body"
    return error.body
