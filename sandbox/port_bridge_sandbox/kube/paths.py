"""Parsing Kubernetes API paths into resource, namespace, name and subresource.

kmock's own parser reads ``/api/v1/namespaces/foo`` as the namespace ``foo`` with no resource,
so the Namespace objects themselves are unreachable; this parser knows the core group's
special case and rejects paths a real server would not route.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourcePath:
    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_resource_path(path: str) -> ResourcePath | None:
    """The resource a request path addresses, or ``None`` for discovery and other paths."""
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    if not rest:
        return None
    namespace = None
    core_namespace_object = (
        group == "" and rest[0] == "namespaces" and (len(rest) <= 2 or rest[2] in ("status", "finalize"))
    )
    if rest[0] == "namespaces" and len(rest) >= 3 and not core_namespace_object:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    plural, name, subresource = [*rest, None, None][:3]
    assert plural is not None
    return ResourcePath(group, version, plural, namespace, name, subresource)
