"""The controller's side of live Promises: watch Promises, serve their actions, publish them to Port.

Every change to a Promise is looked at (on the controller's work queue, so Port being away is
retried with backoff like any run): a live Promise has its actions generated and served to the
controller's reconciler at once, its requests watched, and its blueprint and actions published to
Port; a Promise deleted or no longer labelled has its actions withdrawn from Port, only those
port-bridge published for it (see :mod:`.publish`). Kratix writes a Promise's status often; Port
is only written to when the generated model itself changed since it was last published.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection
from typing import Protocol

from port_bridge.controller.watching import ObjectCache
from port_bridge.live.promises import ActionRegistry, GenerateError, LivePromise, is_live, live_promise

log = logging.getLogger(__name__)
KEY_PREFIX = "promise:"  # work-queue keys of Promises (ActionRun names never hold a colon)


class Publisher(Protocol):
    """Puts a live Promise's blueprint and actions in Port, or takes back what it put there."""

    def publish(self, live: LivePromise, *, skip: Collection[str]) -> None: ...

    def withdraw(self, promise: str) -> None: ...

    def published(self) -> Collection[str]: ...


class PromiseSync:
    def __init__(
        self,
        *,
        registry: ActionRegistry,
        cache: ObjectCache,
        publisher: Publisher | None,
        on_new_actions: Callable[[], None],
    ) -> None:
        self._registry, self._cache, self._publisher = registry, cache, publisher
        self._on_new_actions = on_new_actions
        self._published: dict[str, str] = {}  # by Promise: the digest of what Port has ("": unknown)

    def start(self) -> None:
        """Learn which Promises Port holds objects for (published in an earlier term, or elsewhere)."""
        if self._publisher is not None:
            for name in self._publisher.published():
                self._published.setdefault(name, "")

    def serve(self, name: str) -> LivePromise | None:
        """Serve the Promise's actions as it is now (none if it is not live); what is served."""
        promise = self._cache.get(("", name))
        if promise is None or not is_live(promise):
            self._registry.drop(name)
            return None
        live = self._registry.live(name)
        version = str((promise.get("metadata") or {}).get("resourceVersion", ""))
        if live is not None and live.version == version:
            return live
        try:
            live = live_promise(promise)
        except GenerateError as error:
            log.warning("Promise %s is labelled for the portal but its API cannot be used: %s", name, error)
            self._registry.drop(name)
            return None
        kept = self._registry.put(live)
        if kept:
            log.warning(
                "Promise %s: the action files already define %s; the files win", name, ", ".join(kept)
            )
        self._on_new_actions()
        return live

    def reconcile(self, name: str) -> None:
        """Serve the Promise's actions, and make Port hold them (or no longer hold them)."""
        live = self.serve(name)
        if live is None:
            if name in self._published:
                log.info("Promise %s is not in the portal (any more); withdrawing what was published", name)
                if self._publisher is not None:
                    self._publisher.withdraw(name)
                del self._published[name]
            return
        digest = _digest(live)
        if self._publisher is not None and self._published.get(name) != digest:
            self._publisher.publish(live, skip=self._registry.files)
            self._published[name] = digest
            log.info("Promise %s is in the portal: its blueprint and %d actions", name, len(live.actions))


def _digest(live: LivePromise) -> str:
    documents = {
        "blueprint": live.model.blueprint,
        "actions": [action.document for action in live.model.actions],
    }
    return hashlib.sha256(json.dumps(documents, sort_keys=True, default=str).encode()).hexdigest()
