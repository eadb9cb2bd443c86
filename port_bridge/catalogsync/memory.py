"""What the sync knows Port holds: every entity of the mirrored blueprints, and what it last wrote.

Built from Port at each full pass (reading the entities, not by asking Kratix's objects to carry
anything), then kept current with every write the sync makes, so a request whose entity already
says what it would write is not written again. Only fingerprints are kept (:mod:`.mirror`), a few
dozen bytes an entity, plus, for the entities port-bridge manages, the request each mirrors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from port_bridge.catalogsync.state import RequestRef

EntityKey = tuple[str, str]  # blueprint, identifier
RequestName = tuple[str, str, str, str]  # group, plural, namespace, name: how kratixRequest names one


def request_name(ref: RequestRef) -> RequestName:
    return ref.group, ref.plural, ref.namespace, ref.name


@dataclass(frozen=True)
class Known:
    """One entity in Port: what it holds (``None`` when not compared yet) and, if port-bridge manages
    it, the request it mirrors."""

    fingerprint: str | None
    mirrors: RequestName | None


class Memory:
    """Safe to read from the controller's threads (for ``/readyz``) while the sync writes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[EntityKey, Known] = {}
        self._by_request: dict[RequestName, EntityKey] = {}

    def replace(self, known: dict[EntityKey, Known]) -> None:
        """Take what a full pass read from Port."""
        by_request = {entry.mirrors: key for key, entry in known.items() if entry.mirrors is not None}
        with self._lock:
            self._known, self._by_request = known, by_request

    def add(self, known: dict[EntityKey, Known]) -> None:
        """Take what was read from Port of blueprints new to the sync."""
        with self._lock:
            for key, entry in known.items():
                self._known.setdefault(key, entry)
                if entry.mirrors is not None:
                    self._by_request.setdefault(entry.mirrors, key)

    def get(self, key: EntityKey) -> Known | None:
        with self._lock:
            return self._known.get(key)

    def entity_of(self, request: RequestName) -> EntityKey | None:
        """The managed entity that mirrors ``request``, if any."""
        with self._lock:
            return self._by_request.get(request)

    def wrote(self, key: EntityKey, fingerprint: str, mirrors: RequestName | None) -> None:
        with self._lock:
            before = self._known.get(key)
            if mirrors is None and before is not None:
                mirrors = before.mirrors
            if before is not None and before.mirrors is not None and before.mirrors != mirrors:
                self._by_request.pop(before.mirrors, None)
            self._known[key] = Known(fingerprint, mirrors)
            if mirrors is not None:
                self._by_request[mirrors] = key

    def forget(self, key: EntityKey) -> None:
        """The entity is gone from Port."""
        with self._lock:
            before = self._known.pop(key, None)
            if (
                before is not None
                and before.mirrors is not None
                and self._by_request.get(before.mirrors) == key
            ):
                del self._by_request[before.mirrors]

    @property
    def managed(self) -> int:
        """How many entities port-bridge mirrors (and may delete)."""
        with self._lock:
            return len(self._by_request)

    def managed_entities(self) -> list[tuple[EntityKey, RequestName]]:
        with self._lock:
            return [(key, entry.mirrors) for key, entry in self._known.items() if entry.mirrors is not None]
