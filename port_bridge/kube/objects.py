"""Typed access to Kubernetes objects as plain dicts, through the official client.

The bridge works with custom resources (ActionRuns, Kratix requests, Promises) whose shape the
generated client does not know, so it reads and writes dicts. The client's own signatures say
``object``; this one seam says what comes back, so the rest of the code stays strictly typed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import kubernetes
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
    ) -> Iterator[Object]:
        """Raw watch events (``{"type", "object"}``) until the server ends the stream."""
        options = _drop_none(
            resource_version=resource_version,
            label_selector=label_selector,
            _request_timeout=request_timeout,
            allow_watch_bookmarks=True,
        )
        watch = Watch()  # type: ignore[no-untyped-call]
        if namespace is not None:
            stream = watch.stream(  # type: ignore[no-untyped-call]
                self._api.list_namespaced_custom_object,
                resource.group,
                resource.version,
                namespace,
                resource.plural,
                timeout_seconds=timeout_seconds,
                **options,
            )
        else:
            stream = watch.stream(  # type: ignore[no-untyped-call]
                self._api.list_cluster_custom_object,
                resource.group,
                resource.version,
                resource.plural,
                timeout_seconds=timeout_seconds,
                **options,
            )
        for event in stream:
            yield cast(Object, event)


def _ns(namespace: str | None) -> str:
    if namespace is None:
        raise ValueError("a namespaced resource needs a namespace")
    return namespace


def _drop_none(**options: Any) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}
