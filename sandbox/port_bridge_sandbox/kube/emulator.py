"""A Kubernetes API server for tests and the sandbox: kmock, made to behave like the real thing.

kmock (pinned) provides the HTTP server, request parsing, discovery and a versioned object store
that tests can inspect (``emulator.objects[...]``). Stock kmock answers much of the API unlike
a real server (research/k8s-testing.md §2.1): create answers 200 so ``kubernetes`` >= 36 returns
``None``; no uid, resourceVersion, generation or creationTimestamp; no selectors; no status
subresource isolation; no PUT; no optimistic concurrency; watch ignores ``resourceVersion`` and
``timeoutSeconds`` and never says 410 Gone; every request is slower than the last; its path
parser fails on ``/api/v1/namespaces``. This subclass serves every resource path itself, with the
API server's semantics, and keeps kmock's HTTP server, discovery and versioned object store (which
tests inspect as ``emulator.objects[...]``). It relies on kmock internals, so kmock is pinned.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import kmock

from port_bridge.kube import validation
from port_bridge_sandbox.kube import errors, patches
from port_bridge_sandbox.kube.crds import (
    CRD_RESOURCE,
    PROMISE_NAME_LABEL,
    PROMISE_RESOURCE,
    InvalidCrd,
    ServedVersion,
    crd_from_promise,
    parse_crd,
)
from port_bridge_sandbox.kube.events import Event, EventLog, ResourceVersionTooOld
from port_bridge_sandbox.kube.faults import KubeFaults, verb_of
from port_bridge_sandbox.kube.logroute import log_options, serve_log
from port_bridge_sandbox.kube.paths import ResourcePath, parse_resource_path
from port_bridge_sandbox.kube.podlogs import PodLogs
from port_bridge_sandbox.kube.selectors import InvalidSelector, Selector
from port_bridge_sandbox.kube.tables import as_table, wants_table

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_GENERATED_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SELECTABLE_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
_SERVER_OWNED_METADATA = (
    "uid",
    "creationTimestamp",
    "name",
    "namespace",
    "generation",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_VERBS = {"create", "delete", "get", "list", "patch", "update", "watch"}

BUILTIN_RESOURCES = (
    ServedVersion("batch", "v1", "jobs", "Job", "job", namespaced=True, status_subresource=True, schema=None),
    ServedVersion("", "v1", "pods", "Pod", "pod", namespaced=True, status_subresource=True, schema=None),
    ServedVersion(
        "",
        "v1",
        "namespaces",
        "Namespace",
        "namespace",
        namespaced=False,
        status_subresource=True,
        schema=None,
    ),
    ServedVersion(
        "",
        "v1",
        "configmaps",
        "ConfigMap",
        "configmap",
        namespaced=True,
        status_subresource=False,
        schema=None,
    ),
    ServedVersion(
        "", "v1", "secrets", "Secret", "secret", namespaced=True, status_subresource=False, schema=None
    ),
    ServedVersion(
        "", "v1", "events", "Event", "event", namespaced=True, status_subresource=False, schema=None
    ),
    ServedVersion(
        "coordination.k8s.io",
        "v1",
        "leases",
        "Lease",
        "lease",
        namespaced=True,
        status_subresource=False,
        schema=None,
    ),
    ServedVersion(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "customresourcedefinition",
        namespaced=False,
        status_subresource=True,
        schema=None,
    ),
)
_NAMESPACES = kmock.resource("", "v1", "namespaces")
_CRDS = kmock.resource(CRD_RESOURCE)
_PROMISES = kmock.resource(PROMISE_RESOURCE)
_PODS = kmock.resource("", "v1", "pods")


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(served: ServedVersion) -> Any:
    return kmock.resource(served.group, served.version, served.plural)


def _desired_state(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What ``metadata.generation`` tracks: everything but metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


class KubeEmulator(kmock.KubernetesEmulator):
    """kmock's Kubernetes emulator with a real API server's semantics on every resource path."""

    def __init__(
        self, *, event_history: int = 10_000, namespaces: Iterable[str] = DEFAULT_NAMESPACES
    ) -> None:
        super().__init__()
        self._served: dict[Any, ServedVersion] = {}
        self._checkers: dict[
            int, tuple[Any, validation.StructuralSchema]
        ] = {}  # compiled, by id() of a schema
        self._events = EventLog(capacity=event_history)
        self._last_resource_version = 0
        self.internal_errors: list[BaseException] = []
        self.requests_served: Counter[tuple[str, str]] = Counter()  # (method, plural) → count
        self.faults = KubeFaults()
        self.pod_logs = PodLogs()  # thread-safe: the simulator writes here from its own threads
        self._watches: dict[int, aiohttp.web.BaseRequest] = {}  # by id(): requests are not hashable
        # The official client asks for some discovery paths with a trailing slash.
        self.fallback["get /version/"] << self._serve_server_version
        self.fallback["get /apis/"] << self._serve_apis
        self.fallback["get /api/"] << self._serve_api
        for served in BUILTIN_RESOURCES:
            self._register(served)
        for namespace in namespaces:
            self.create_object(
                _NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )

    def serve(self, served: ServedVersion) -> None:
        """Serve one more built-in kind (stored as given, without a schema), for tests that
        install what a real cluster serves beyond :data:`BUILTIN_RESOURCES` (Deployments, RBAC...)."""
        self._register(served)

    # -- HTTP --------------------------------------------------------------------------------

    async def _serve_version(self, request: Any) -> Any:
        """kmock's list of a group version's resources, naming the core group's ``v1`` as the API
        server does (kmock says ``/v1``, and client-go's REST mapper, in kubectl and Helm, then
        finds no core kind at all)."""
        payload = await super()._serve_version(request)
        if request.resource.group == "" and isinstance(payload, dict):
            payload["groupVersion"] = request.resource.version
        return payload

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        target = parse_resource_path(raw_request.path)
        if target is None:
            if raw_request.method != "GET":
                return _status_response(errors.unknown_resource())
            return await super().__call__(raw_request)  # discovery, /version: kmock serves those
        request = ApiRequest(
            method=raw_request.method,
            params=dict(raw_request.query),
            headers=raw_request.headers,
            body=await raw_request.read(),
            raw=raw_request,
        )
        self.requests_served[raw_request.method, target.plural] += 1
        watch = request.params.get("watch") in ("true", "1")
        if (fault := self.faults.decide(verb_of(request.method, target, watch=watch), target)) is not None:
            return _status_response(fault)
        try:
            return await self._serve(request, target)
        except errors.ApiError as error:
            return _status_response(error)
        except Exception as error:  # an emulator bug: answer like a server would, keep it for the tests
            self.internal_errors.append(error)
            return _status_response(errors.ApiError(500, "InternalError", f"emulator error: {error!r}"))

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        """kmock's own handling, used for discovery only."""
        try:
            return await super()._handle(request)
        except kmock.KubernetesError as error:
            return _status_response(
                errors.ApiError(error.status, "NotFound", "the server could not find the requested resource")
            )
        finally:
            # kmock matches each request against its whole request log: drop served ones.
            self._requests.remove(request)

    async def _serve(self, request: ApiRequest, target: ResourcePath) -> aiohttp.web.StreamResponse:
        served = self._served.get(kmock.resource(target.group, target.version, target.plural))
        if served is None or (target.namespace is not None and not served.namespaced):
            raise errors.unknown_resource()
        if target.subresource == "log" and _key(served) == _PODS and target.name and target.namespace:
            return await self._serve_log(request, target.namespace, target.name)
        if target.subresource is not None and (
            target.subresource != "status" or not served.status_subresource
        ):
            raise errors.unknown_resource()
        method, params = request.method, request.params
        dry_run = params.get("dryRun") == "All"
        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._watch(request, served, target)
        if target.name is None:
            if method == "GET":
                listed = self.list_objects(served, target.namespace, params)
                if wants_table(request.headers.get("Accept", "")):
                    return self._table(served, listed["items"], params)
                return aiohttp.web.json_response(listed)
            if method == "POST" and (target.namespace is not None or not served.namespaced):
                created = self.create_object(
                    _key(served), target.namespace, _json_body(request), dry_run=dry_run
                )
                return aiohttp.web.json_response(created, status=201)
            raise errors.method_not_allowed()
        if served.namespaced and target.namespace is None:
            raise errors.unknown_resource()
        key, namespace, name = _key(served), target.namespace, target.name
        if method == "GET":
            found = self.get_object(key, namespace, name)
            if target.subresource is None and wants_table(request.headers.get("Accept", "")):
                return self._table(served, [found], params)
            return aiohttp.web.json_response(found)
        if method == "PUT":
            body = _json_body(request)
            updated = self.update_object(
                key,
                namespace,
                name,
                lambda _current: body,
                subresource=target.subresource,
                replace=True,
                dry_run=dry_run,
            )
            return aiohttp.web.json_response(updated)
        if method == "PATCH":
            body, content_type = _json_body(request), request.headers.get("Content-Type", "")
            custom = bool(served.crd_name)

            def patched(current: dict[str, Any]) -> Any:
                return patches.apply_patch(current, body, content_type=content_type, custom=custom)

            updated = self.update_object(
                key, namespace, name, patched, subresource=target.subresource, dry_run=dry_run
            )
            return aiohttp.web.json_response(updated)
        if method == "DELETE":
            options = _json_body(request) if request.body else {}
            preconditions = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
            deleted = self.delete_object(key, namespace, name, preconditions=preconditions, dry_run=dry_run)
            return aiohttp.web.json_response(deleted)
        raise errors.method_not_allowed()

    def _table(
        self, served: ServedVersion, objects: list[dict[str, Any]], params: Mapping[str, str]
    ) -> aiohttp.web.Response:
        table = as_table(
            objects,
            columns=served.printer_columns,
            resource_version=str(self._last_resource_version),
            include_object=params.get("includeObject", "Metadata"),
        )
        return aiohttp.web.json_response(table)

    async def _watch(
        self, request: ApiRequest, served: ServedVersion, target: ResourcePath
    ) -> aiohttp.web.StreamResponse:
        params = request.params
        selector = _selector(params)
        try:
            since = int(params.get("resourceVersion") or 0)
            timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
        except ValueError as error:
            raise errors.bad_request(f"invalid watch parameter: {error}") from error
        key = _key(served)

        def wanted(obj: Mapping[str, Any]) -> bool:
            metadata = obj.get("metadata") or {}
            return (
                (target.namespace is None or metadata.get("namespace") == target.namespace)
                and (target.name is None or metadata.get("name") == target.name)
                and selector.matches(obj)
            )

        initial: list[dict[str, Any]] = []
        cursor = since
        if since == 0:  # "any version": the current state as ADDED, then what changes after it
            initial = [obj for obj in self._live_objects(key, target.namespace) if wanted(obj)]
            cursor = self._last_resource_version
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request.raw)
        loop_time = asyncio.get_running_loop().time
        deadline = None if timeout is None else loop_time() + timeout
        self._watches[id(request.raw)] = request.raw
        try:
            for obj in initial:
                await _write_event(response, {"type": "ADDED", "object": obj})
            while deadline is None or loop_time() < deadline:
                remaining = None if deadline is None else max(0.0, deadline - loop_time())
                events = await self._events.wait_after(cursor, timeout=remaining)
                for event in events:
                    cursor = event.resource_version
                    if event.resource == key and wanted(event.object):
                        await _write_event(response, event.as_json())
            if params.get("allowWatchBookmarks") == "true":
                bookmark = {
                    "apiVersion": served.api_version,
                    "kind": served.kind,
                    "metadata": {"resourceVersion": str(cursor)},
                }
                await _write_event(response, {"type": "BOOKMARK", "object": bookmark})
        except ResourceVersionTooOld as error:
            await _write_event(response, {"type": "ERROR", "object": errors.expired(str(error)).status()})
        except ConnectionResetError:
            return response
        finally:
            del self._watches[id(request.raw)]
        await response.write_eof()
        return response

    async def _serve_log(self, request: ApiRequest, namespace: str, name: str) -> aiohttp.web.StreamResponse:
        if request.method != "GET":
            raise errors.method_not_allowed()
        pod = self.get_object(_PODS, namespace, name)
        options = log_options(request.params, pod, now=datetime.datetime.now(tz=datetime.UTC))
        return await serve_log(
            request.raw,
            self.pod_logs,
            namespace=namespace,
            pod=name,
            options=options,
            pod_exists=lambda: self._find(_PODS, namespace, name) is not None,
        )

    def open_watches(self) -> int:
        """Watch requests being served whose client has not hung up (a closed one is noticed at once)."""
        return sum(
            1
            for raw in self._watches.values()
            if raw.transport is not None and not raw.transport.is_closing()
        )

    # -- The API's semantics, callable directly on the emulator's loop ---------------------------

    def get_object(self, key: Any, namespace: str | None, name: str) -> dict[str, Any]:
        found = self._find(key, namespace, name)
        if found is None:
            raise self._not_found(key, name)
        return found

    def list_objects(
        self, served: ServedVersion, namespace: str | None, params: Mapping[str, str]
    ) -> dict[str, Any]:
        selector = _selector(params)
        items = [obj for obj in self._live_objects(_key(served), namespace) if selector.matches(obj)]
        items.sort(key=lambda obj: (obj["metadata"].get("namespace") or "", obj["metadata"]["name"]))
        return {
            "apiVersion": served.api_version,
            "kind": f"{served.kind}List",
            "metadata": {"resourceVersion": str(self._last_resource_version)},
            "items": items,
        }

    def create_object(
        self, key: Any, namespace: str | None, body: Any, *, dry_run: bool = False
    ) -> dict[str, Any]:
        served = self._served_for(key)
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise errors.bad_request(
                "the body of the request was in an unknown format: expected a JSON object"
            )
        obj = copy.deepcopy(body)
        metadata = obj.setdefault("metadata", {})
        self._check_type(served, obj)
        if served.namespaced:
            if metadata.get("namespace") not in (None, "", namespace):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            metadata["namespace"] = namespace
            if self._find(_NAMESPACES, None, namespace or "") is None:
                raise errors.not_found("namespaces", namespace or "", group="", plural="namespaces")
        else:
            metadata.pop("namespace", None)
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(secrets.choice(_GENERATED_SUFFIX_ALPHABET) for _ in range(5))
            metadata["name"] = metadata["generateName"] + suffix
        name = metadata.get("name") or ""
        if not name:
            raise self._invalid(
                served, name, [("metadata.name", "Required value: name or generateName is required")]
            )
        self._check_name(served, name)
        if self._find(key, namespace, name) is not None:
            raise errors.already_exists(
                self._qualified(served), name, group=served.group, plural=served.plural
            )
        if served.status_subresource:
            obj.pop("status", None)
        for field in _SERVER_OWNED_METADATA:
            if field not in ("name", "namespace"):
                metadata.pop(field, None)
        metadata.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        obj = self._admit(served, obj, name)
        self._check_side_effects(served, obj, name)
        if dry_run:
            return obj
        self._commit(served, obj, "ADDED")
        self._after_write(served, obj)
        return obj

    def update_object(
        self,
        key: Any,
        namespace: str | None,
        name: str,
        change: Callable[[dict[str, Any]], Any],
        *,
        subresource: str | None = None,
        replace: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        served = self._served_for(key)
        current = self.get_object(key, namespace, name)
        new = change(copy.deepcopy(current))
        if not isinstance(new, dict) or not isinstance(new.get("metadata", {}), dict):
            raise errors.bad_request(
                "the body of the request was in an unknown format: expected a JSON object"
            )
        new = copy.deepcopy(new)
        metadata, current_metadata = new.setdefault("metadata", {}), current["metadata"]
        if replace:
            self._check_type(served, new)
            if metadata.get("name") not in (None, name):
                raise errors.bad_request(
                    f"the name of the object ({metadata.get('name')}) "
                    f"does not match the name on the URL ({name})"
                )
            if served.crd_name and not metadata.get("resourceVersion"):
                raise self._invalid(
                    served,
                    name,
                    [("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")],
                )
        wanted_version = metadata.get("resourceVersion")
        if wanted_version and wanted_version != current_metadata["resourceVersion"]:
            raise errors.conflict(self._qualified(served), name, group=served.group, plural=served.plural)
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(current)
            new.pop("status", None)
            if status is not None:
                new["status"] = status
            metadata = new["metadata"]
        else:
            if served.status_subresource:
                new.pop("status", None)
                if "status" in current:
                    new["status"] = current["status"]
            for field in _SERVER_OWNED_METADATA:
                if field in current_metadata:
                    metadata[field] = current_metadata[field]
                else:
                    metadata.pop(field, None)
            new = self._admit(served, new, name, unchanged_status="status" in current)
            metadata = new["metadata"]
        added_finalizers = set(metadata.get("finalizers") or ()) - set(
            current_metadata.get("finalizers") or ()
        )
        if current_metadata.get("deletionTimestamp") and added_finalizers:
            message = "Forbidden: no new finalizers can be added if the object is being deleted"
            raise self._invalid(served, name, [("metadata.finalizers", message)])
        if _desired_state(new) != _desired_state(current):
            metadata["generation"] = current_metadata.get("generation", 0) + 1
        self._check_side_effects(served, new, name)
        if new == current or dry_run:
            return new
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            return self._remove(served, new)
        self._commit(served, new, "MODIFIED")
        self._after_write(served, new)
        return new

    def delete_object(
        self,
        key: Any,
        namespace: str | None,
        name: str,
        *,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        served = self._served_for(key)
        current = self.get_object(key, namespace, name)
        metadata = current["metadata"]
        for field in ("uid", "resourceVersion"):
            wanted = (preconditions or {}).get(field)
            if wanted and wanted != metadata.get(field):
                raise errors.ApiError(
                    409,
                    "Conflict",
                    f"Precondition failed: {field} in precondition: {wanted}, "
                    f"{field} in object meta: {metadata.get(field)}",
                )
        if dry_run:
            return current
        if not metadata.get("finalizers"):
            return self._remove(served, current)
        if metadata.get("deletionTimestamp"):
            return current
        marked = copy.deepcopy(current)
        marked["metadata"].update(
            deletionTimestamp=_now(),
            deletionGracePeriodSeconds=0,
            generation=metadata.get("generation", 0) + 1,
        )
        self._commit(served, marked, "MODIFIED")
        return marked

    def apply_manifest(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create the object a manifest describes, or replace it if it exists (``kubectl apply``-like)."""
        served = self._served_for_manifest(manifest)
        metadata = manifest.get("metadata") or {}
        namespace = (metadata.get("namespace") or "default") if served.namespaced else None
        existing = self._find(_key(served), namespace, metadata.get("name", ""))
        if existing is None:
            return self.create_object(_key(served), namespace, manifest)

        def replaced(current: dict[str, Any]) -> dict[str, Any]:
            body = copy.deepcopy(dict(manifest))
            body.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
            return body

        return self.update_object(_key(served), namespace, metadata["name"], replaced, replace=True)

    def resource_for(self, api_version: str, kind: str) -> ServedVersion | None:
        """The served resource for an ``apiVersion`` and ``kind``, if a CRD or built-in declares it."""
        for served in self._served.values():
            if served.api_version == api_version and served.kind == kind:
                return served
        return None

    def object_history(
        self, group: str, version: str, plural: str, namespace: str | None, name: str
    ) -> list[dict[str, Any] | None]:
        """Every stored version of one object, oldest first (``None`` marks a deletion)."""
        address = (kmock.resource(group, version, plural), namespace, name)
        if address not in self._objects:
            return []
        return [None if v is None else copy.deepcopy(dict(v.raw)) for v in self._objects[address].history]

    def compact_history(self) -> None:
        """Forget every change so far: a watch from an older resourceVersion now gets 410 Gone."""
        self._events.compact()

    @property
    def last_resource_version(self) -> int:
        return self._last_resource_version

    def retained_request_count(self) -> int:
        """Requests kmock still holds in its log; served requests are dropped, so this stays 0."""
        return len(self._requests)

    # -- Internals ------------------------------------------------------------------------------

    def _register(self, served: ServedVersion) -> None:
        key = _key(served)
        self._served[key] = served
        self.resources[key] = kmock.ResourceInfo(
            namespaced=served.namespaced,
            kind=served.kind,
            singular=served.singular,
            verbs=_VERBS,
            shortnames=set(served.short_names),
            categories=set(served.categories),
            subresources={"status"} if served.status_subresource else set(),
        )

    def _unregister(self, served: ServedVersion) -> None:
        key = _key(served)
        for obj in list(self._live_objects(key, None)):
            self._remove(served, obj)
        self._served.pop(key, None)
        if key in self.resources:
            del self.resources[key]

    def _served_for(self, key: Any) -> ServedVersion:
        served = self._served.get(key)
        if served is None:
            raise errors.unknown_resource()
        return served

    def _served_for_manifest(self, manifest: Mapping[str, Any]) -> ServedVersion:
        served = self.resource_for(manifest.get("apiVersion", ""), manifest.get("kind", ""))
        if served is None:
            raise errors.ApiError(
                404,
                "NotFound",
                f'no matches for kind "{manifest.get("kind")}" in version "{manifest.get("apiVersion")}"',
            )
        return served

    def _find(self, key: Any, namespace: str | None, name: str) -> dict[str, Any] | None:
        address = (key, namespace, name)
        if address not in self._objects:
            return None
        stored = self._objects[address]
        return None if stored.deleted else copy.deepcopy(stored.raw)

    def _live_objects(self, key: Any, namespace: str | None) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(stored.raw)
            for (resource, object_namespace, _), stored in self._objects.items()
            if resource == key and not stored.deleted and (namespace is None or object_namespace == namespace)
        ]

    def _commit(self, served: ServedVersion, obj: dict[str, Any], event_type: str) -> None:
        self._last_resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self._last_resource_version)
        key, metadata = _key(served), obj["metadata"]
        address = (key, metadata.get("namespace"), metadata["name"])
        if address in self._objects:
            self._objects[address].history.append(copy.deepcopy(obj))
        else:
            self._objects[address] = copy.deepcopy(obj)
        self._events.append(Event(self._last_resource_version, key, event_type, copy.deepcopy(obj)))

    def _remove(self, served: ServedVersion, obj: dict[str, Any]) -> dict[str, Any]:
        removed = copy.deepcopy(obj)
        self._last_resource_version += 1
        removed["metadata"]["resourceVersion"] = str(self._last_resource_version)
        key = _key(served)
        self._objects[key, removed["metadata"].get("namespace"), removed["metadata"]["name"]].delete()
        self._events.append(Event(self._last_resource_version, key, "DELETED", copy.deepcopy(removed)))
        self._after_delete(served, removed)
        return removed

    def _check_type(self, served: ServedVersion, obj: dict[str, Any]) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if served.crd_name and not kind:
            raise errors.bad_request("Object 'Kind' is missing in the request body")
        if served.crd_name and not api_version:
            raise errors.bad_request("Object 'apiVersion' is missing in the request body")
        if kind not in (None, served.kind) or api_version not in (None, served.api_version):
            raise errors.bad_request(
                f"the API version and kind in the body ({api_version}, {kind}) do not match the request URL "
                f"({served.api_version}, {served.kind})"
            )
        obj["apiVersion"], obj["kind"] = served.api_version, served.kind

    def _check_name(self, served: ServedVersion, name: str) -> None:
        problems = validation.name_errors(name, label=served.plural == "namespaces")
        if problems:
            raise self._invalid(
                served,
                name,
                [("metadata.name", f'Invalid value: "{name}": {problem}') for problem in problems],
            )

    def _admit(
        self, served: ServedVersion, obj: dict[str, Any], name: str, *, unchanged_status: bool = False
    ) -> dict[str, Any]:
        """Default, prune and validate a custom resource against its CRD schema.

        ``unchanged_status``: an update of the main resource keeps the stored status, which is not
        judged again (the API server's validation ratcheting: what an update does not change is
        not refused for being invalid; status is written through its own subresource).
        """
        if not served.schema:
            return obj
        envelope = {key: obj[key] for key in ("apiVersion", "kind", "metadata") if key in obj}
        body = {key: value for key, value in obj.items() if key not in envelope}
        body = validation.prune(
            validation.apply_defaults(body, served.schema),
            {
                **served.schema,
                "properties": {
                    key: value
                    for key, value in (served.schema.get("properties") or {}).items()
                    if key != "metadata"
                },
            },
        )
        admitted = {**envelope, **body}
        compiled = self._checkers.get(id(served.schema))
        if compiled is None or compiled[0] is not served.schema:  # ids are reused once a schema is dropped
            compiled = self._checkers[id(served.schema)] = (
                served.schema,
                validation.StructuralSchema(served.schema),
            )
        problems = compiled[1].errors(admitted)
        if unchanged_status:
            problems = [
                (path, text) for path, text in problems if path != "status" and not path.startswith("status.")
            ]
        if problems:
            raise self._invalid(served, name, problems)
        return admitted

    def _check_side_effects(self, served: ServedVersion, obj: Mapping[str, Any], name: str) -> None:
        """Reject a CRD or Promise whose API could not be served, before anything is stored."""
        if _key(served) == _PODS:
            if problems := _pod_spec_problems(obj):
                raise self._invalid(served, name, problems)
            return
        try:
            if _key(served) == _CRDS:
                parse_crd(obj)
            elif _key(served) == _PROMISES and (crd := crd_from_promise(obj)):
                parse_crd(crd)
        except InvalidCrd as problem:
            raise self._invalid(served, name, [("spec", str(problem))]) from problem

    def _after_write(self, served: ServedVersion, obj: Mapping[str, Any]) -> None:
        key = _key(served)
        if key == _CRDS:
            versions = parse_crd(obj).versions
            for stale in [
                s
                for s in self._served.values()
                if s.crd_name == obj["metadata"]["name"] and s not in versions
            ]:
                self._unregister(stale)
            for version in versions:
                self._register(version)
        elif key == _PROMISES and (crd := crd_from_promise(obj)):
            self.apply_manifest(crd)

    def _after_delete(self, served: ServedVersion, obj: Mapping[str, Any]) -> None:
        key, name = _key(served), obj["metadata"]["name"]
        if key == _CRDS:
            for version in [s for s in self._served.values() if s.crd_name == name]:
                self._unregister(version)
        elif key == _PROMISES:
            for crd in self._live_objects(_CRDS, None):
                if (crd["metadata"].get("labels") or {}).get(PROMISE_NAME_LABEL) == name:
                    self._remove(self._served[_CRDS], crd)

    def _qualified(self, served: ServedVersion) -> str:
        return f"{served.plural}.{served.group}" if served.group else served.plural

    def _invalid(self, served: ServedVersion, name: str, causes: list[tuple[str, str]]) -> errors.ApiError:
        qualified_kind = f"{served.kind}.{served.group}" if served.group else served.kind
        return errors.invalid(qualified_kind, name, causes, group=served.group, kind=served.kind)

    def _not_found(self, key: Any, name: str) -> errors.ApiError:
        served = self._served_for(key)
        return errors.not_found(self._qualified(served), name, group=served.group, plural=served.plural)


@dataclass(frozen=True)
class ApiRequest:
    """One request to a resource path, as the emulator's handlers need it."""

    method: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    raw: aiohttp.web.BaseRequest


def _status_response(error: errors.ApiError) -> aiohttp.web.Response:
    return aiohttp.web.json_response(error.status(), status=error.code)


def _pod_spec_problems(pod: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the API server's Pod validation says of the containers (the part pods/log relies on)."""
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    problems: list[tuple[str, str]] = []
    if not spec.get("containers"):
        problems.append(("spec.containers", "Required value"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(field) or ()):
            path = f"spec.{field}[{index}]"
            name = container.get("name") if isinstance(container, dict) else None
            if not name:
                problems.append((f"{path}.name", "Required value"))
            elif name in seen:
                problems.append((f"{path}.name", f'Duplicate value: "{name}"'))
            else:
                seen.add(name)
            if not (isinstance(container, dict) and container.get("image")):
                problems.append((f"{path}.image", "Required value"))
    return problems


def _json_body(request: ApiRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError as error:
        raise errors.bad_request(f"the body of the request was in an unknown format: {error}") from error


def _selector(params: Mapping[str, str]) -> Selector:
    try:
        return Selector.parse(
            label_selector=params.get("labelSelector"),
            field_selector=params.get("fieldSelector"),
            field_paths=_SELECTABLE_FIELDS,
        )
    except InvalidSelector as error:
        raise errors.bad_request(str(error)) from error


async def _write_event(response: aiohttp.web.StreamResponse, event: Mapping[str, Any]) -> None:
    await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
