"""Which Promises drive the portal, and the actions port-bridge serves for them.

A Promise is **live** when it carries the label ``port-bridge.io/portal: "true"``, or when the CRD
inside its ``spec.api`` carries ``kratix.io/get-port: "true"`` (the opt-in of Syntasso's SKE Port
Controller, so its users can switch). Its blueprint and CREATE, DAY-2 and DELETE actions are
generated from its request API (:func:`port_bridge.generate.model.generate`), deterministically:
every intake replica and the controller derive the same mappings from the same Promise, so no
replica needs to be told and none keeps state of its own. What the action files define wins: a
generated action whose identifier a file already uses is left out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge.generate.model import GeneratedModel, GenerateError, generate
from port_bridge.mapping.actions import ActionConfig

PORTAL_LABEL = "port-bridge.io/portal"
SKE_LABEL = "kratix.io/get-port"
VERBS = ("create", "update", "delete")  # the generated actions' identifiers: <verb>-<promise>


def is_live(promise: Mapping[str, Any]) -> bool:
    """Whether the Promise asks to be in the portal (port-bridge's label or SKE's)."""
    labels = (promise.get("metadata") or {}).get("labels") or {}
    if str(labels.get(PORTAL_LABEL, "")).lower() == "true":
        return True
    crd = ((promise.get("spec") or {}).get("api") or {}).get("metadata") or {}
    marks = {**(crd.get("annotations") or {}), **(crd.get("labels") or {})}
    return str(marks.get(SKE_LABEL, "")).lower() == "true"


def promise_of(action: str) -> str | None:
    """The Promise a generated action's identifier names (``create-redis`` → ``redis``), if any."""
    verb, _, promise = action.partition("-")
    return promise if verb in VERBS and promise else None


@dataclass(frozen=True)
class LivePromise:
    """One live Promise at one version: its generated model and the actions it adds."""

    name: str
    version: str  # the Promise's resourceVersion it was generated from
    model: GeneratedModel
    actions: Mapping[str, ActionConfig]


def live_promise(promise: Mapping[str, Any]) -> LivePromise:
    """Generate what a live Promise brings; raises :class:`GenerateError` if its API cannot be used."""
    metadata = promise.get("metadata") or {}
    model = generate(promise)
    return LivePromise(
        name=str(metadata.get("name", "")),
        version=str(metadata.get("resourceVersion", "")),
        model=model,
        actions=model.action_configs(),
    )


class ActionRegistry(Mapping[str, ActionConfig]):
    """The actions port-bridge serves: the action files', and those of live Promises.

    Safe to read from many threads while a watch (or a lookup) replaces a Promise's actions.
    """

    def __init__(self, files: Mapping[str, ActionConfig]) -> None:
        self._files = dict(files)
        self._lock = threading.Lock()
        self._live: dict[str, LivePromise] = {}
        self._served: dict[str, ActionConfig] = dict(files)

    def __getitem__(self, identifier: str) -> ActionConfig:
        return self._served[identifier]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._served))

    def __len__(self) -> int:
        return len(self._served)

    @property
    def files(self) -> Mapping[str, ActionConfig]:
        return self._files

    def live(self, promise: str) -> LivePromise | None:
        with self._lock:
            return self._live.get(promise)

    def put(self, promise: LivePromise) -> tuple[str, ...]:
        """Serve a live Promise's actions (replacing its earlier ones); the identifiers the files kept."""
        with self._lock:
            self._live[promise.name] = promise
            self._rebuild()
        return tuple(sorted(set(promise.actions) & set(self._files)))

    def drop(self, promise: str) -> LivePromise | None:
        """Stop serving a Promise's actions (deleted, or no longer labelled); what was served."""
        with self._lock:
            dropped = self._live.pop(promise, None)
            self._rebuild()
        return dropped

    def _rebuild(self) -> None:
        served: dict[str, ActionConfig] = {}
        for live in self._live.values():
            served.update(live.actions)
        served.update(self._files)  # the files win
        self._served = served


__all__ = ["ActionRegistry", "GenerateError", "LivePromise", "is_live", "live_promise", "promise_of"]
