"""Typed access to Kubernetes objects as plain dicts, through the official client.

The bridge works with custom resources (ActionRuns, Kratix requests, Promises) whose shape the
generated client does not know, so it reads and writes dicts. The client's own signatures say
``object``; this one seam says what comes back, so the rest of the code stays strictly typed.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import kubernetes
import urllib3
from kubernetes.client import CustomObjectsApi
from kubernetes.watch import Watch

Object = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Resource:
    """Where a kind of object lives in the API (not the core group: use a typed API there)."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


class KubeObjects:
    """Create, read, change, delete and watch objects of any non-core resource."""

    def __init__(
        self, api_client: kubernetes.client.ApiClient, *, request_timeout: float | None = None
    ) -> None:
        self._api = CustomObjectsApi(api_client)
        self._timeout = _drop_none(_request_timeout=request_timeout)
        self.api_client = api_client

    def get(self, resource: Resource, name: str, *, namespace: str | None = None) -> Object:
        return self._call("get", resource, namespace, name)

    def list(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Object:
        """The whole list (every namespace unless ``namespace``), with the resourceVersion to watch from."""
        selectors = _drop_none(label_selector=label_selector, field_selector=field_selector)
        scope = (
            resource
            if namespace is not None
            else Resource(resource.group, resource.version, resource.plural, False)
        )
        return self._call("list", scope, namespace, **selectors)

    def create(
        self,
        resource: Resource,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        return self._call(
            "create", resource, namespace, dict(body), **_drop_none(dry_run="All" if dry_run else None)
        )

    def patch(
        self, resource: Resource, name: str, patch: Mapping[str, Any], *, namespace: str | None = None
    ) -> Object:
        """A JSON merge patch of the object (``status`` is left alone where it is a subresource)."""
        return self._call("patch", resource, namespace, name, dict(patch), _content_type=MERGE_PATCH)

    def patch_status(
        self, resource: Resource, name: str, patch: Mapping[str, Any], *, namespace: str | None = None
    ) -> Object:
        """A JSON merge patch through the ``status`` subresource."""
        return self._call(
            "patch", resource, namespace, name, dict(patch), _content_type=MERGE_PATCH, suffix="_status"
        )

    def delete(
        self, resource: Resource, name: str, *, namespace: str | None = None, uid: str | None = None
    ) -> Object:
        """Delete (or, with finalizers, mark for deletion); ``uid`` guards against a same-named successor."""
        preconditions = kubernetes.client.V1Preconditions(uid=uid) if uid else None
        body = kubernetes.client.V1DeleteOptions(preconditions=preconditions) if uid else None
        return self._call("delete", resource, namespace, name, body=body)

    def _call(
        self,
        verb: str,
        resource: Resource,
        namespace: str | None,
        *args: Any,
        suffix: str = "",
        **options: Any,
    ) -> Object:
        """``CustomObjectsApi.<verb>_namespaced_custom_object<suffix>`` or its ``cluster`` twin."""
        if resource.namespaced:
            method = getattr(self._api, f"{verb}_namespaced_custom_object{suffix}")
            scope: tuple[Any, ...] = (resource.group, resource.version, _ns(namespace), resource.plural)
        else:
            method = getattr(self._api, f"{verb}_cluster_custom_object{suffix}")
            scope = (resource.group, resource.version, resource.plural)
        return cast(Object, method(*scope, *args, **options, **self._timeout))

    def watch(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int,
        request_timeout: float | None = None,
        label_selector: str | None = None,
    ) -> WatchStream:
        """Raw watch events (``{"type", "object"}``) until the server ends the stream or it is closed.

        The request is sent when iteration starts; :meth:`WatchStream.close` ends it from any thread.
        """
        options = _drop_none(
            resource_version=resource_version,
            label_selector=label_selector,
            _request_timeout=request_timeout,
            allow_watch_bookmarks=True,
            timeout_seconds=timeout_seconds,
        )
        if namespace is not None:
            scope: tuple[Any, ...] = (resource.group, resource.version, namespace, resource.plural)
            return WatchStream(self._api.list_namespaced_custom_object, *scope, **options)
        scope = (resource.group, resource.version, resource.plural)
        return WatchStream(self._api.list_cluster_custom_object, *scope, **options)


class WatchStream:
    """One watch request's events, which :meth:`close` can end from another thread, even mid-read.

    The kubernetes client's ``Watch.stop`` only takes effect at the next event, and a quiet watch may
    not send one for minutes. Closing shuts down the socket of the streaming response (urllib3 2.3+
    allows that from another thread): the blocked read returns, ``Watch.stream`` closes the response
    and the connection, and the API server sees the watch end. A stream closed before its request
    went out is shut down as soon as the response arrives, so no watch outlives :meth:`close`.
    """

    def __init__(self, list_function: Callable[..., Any], *args: Any, **options: Any) -> None:
        self._list, self._args, self._options = list_function, args, options
        self._lock = threading.Lock()
        self._closed = False
        self._response: urllib3.BaseHTTPResponse | None = None

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def __iter__(self) -> Iterator[Object]:
        if self.closed:
            return
        watch = Watch()  # type: ignore[no-untyped-call]
        try:
            for event in watch.stream(self._opening(), *self._args, **self._options):  # type: ignore[no-untyped-call]
                yield cast(Object, event)
        except Exception:
            if not self.closed:
                raise
            # Closed mid-read: the shut-down socket ends the response early; that is the point.
        finally:
            with self._lock:
                self._response = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            response = self._response
        if response is not None:
            _shut_down(response)

    def _opening(self) -> Callable[..., Any]:
        """The list function, keeping the streaming response it returns where :meth:`close` finds it."""

        @functools.wraps(self._list)  # Watch.stream reads the function's signature and docstring
        def open_response(*args: Any, **options: Any) -> Any:
            response = self._list(*args, **options)
            with self._lock:
                self._response, closed = response, self._closed
            if closed:
                _shut_down(response)
            return response

        return open_response


def _shut_down(response: urllib3.BaseHTTPResponse) -> None:
    # ValueError, RuntimeError: the response has already ended and let go of its connection.
    with contextlib.suppress(ValueError, RuntimeError, OSError):
        response.shutdown()


def _ns(namespace: str | None) -> str:
    if namespace is None:
        raise ValueError("a namespaced resource needs a namespace")
    return namespace


def _drop_none(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}
