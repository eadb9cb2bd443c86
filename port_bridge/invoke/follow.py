"""Following a run to its end from a workflow: reading its ActionRun until the controller is done.

``port-bridge invoke --wait`` does not reconcile the run itself: the controller in the cluster
does, under its Lease, so the run gets exactly one terminal status in Port whether or not a
workflow waits, and a workflow cancelled halfway leaves nothing open. What the controller
records in the ActionRun is what it reports to Port, so reading the ActionRun shows the
workflow's log the same lines, in the same order, as the Port run's log: its journal, then its
end once Port has the terminal status (``status.reported.terminal``).

The ActionRun is read every ``interval`` seconds (one small GET; a run lasts minutes). A
Kubernetes API that does not answer (or answers 429 or 5xx) is waited for until the deadline; any
other refusal (403: the workflow's credentials may not read ActionRuns) stops following. An
ActionRun that is gone was collected after its retention (or deleted by hand): Port's run says
how it ended.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes.client import ApiException

from port_bridge.actionrun.model import ActionRun, JournalLine, MalformedActionRun
from port_bridge.intake.answers import kube_message
from port_bridge.kube.actionruns import ACTIONRUNS
from port_bridge.kube.client import is_unavailable
from port_bridge.kube.objects import KubeObjects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Followed:
    """Where following stopped: the ActionRun as last read, and why it stopped."""

    run: ActionRun | None
    ended: bool = False  # the controller reported the run's end to Port
    gone: bool = False  # the ActionRun does not exist (any more)
    malformed: str | None = None  # the ActionRun cannot be read; the controller closes its run
    unreachable: str | None = None  # the Kubernetes API did not answer the last read
    refused: str | None = None  # the Kubernetes API refused to show the ActionRun (RBAC...)


class RunFollower:
    def __init__(
        self,
        objects: KubeObjects,
        *,
        namespace: str,
        name: str,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._objects, self._namespace, self._name = objects, namespace, name
        self._interval, self._clock, self._sleep = interval, clock, sleep

    def follow(
        self,
        *,
        deadline: float,
        on_line: Callable[[JournalLine], None],
        on_unreachable: Callable[[str], None] = lambda _why: None,
    ) -> Followed:
        """Read the ActionRun until its end is reported or ``deadline`` (on ``clock``) passes;
        each journal line is passed to ``on_line`` once, in order."""
        shown, last, unreachable = 0, None, None
        while True:
            try:
                obj = self._objects.get(ACTIONRUNS, self._name, namespace=self._namespace)
            except Exception as error:
                if isinstance(error, ApiException) and error.status == 404:
                    return Followed(last, gone=True)
                if isinstance(error, ApiException) and not _temporary(error):
                    return Followed(last, refused=kube_message(error))
                if not is_unavailable(error) and not isinstance(error, ApiException):
                    raise
                if unreachable is None:
                    on_unreachable(kube_message(error))
                unreachable = kube_message(error)
            else:
                unreachable = None
                try:
                    last = ActionRun.from_object(obj)
                except MalformedActionRun as malformed:
                    return Followed(last, malformed=str(malformed))
                for line in last.status.journal[shown:]:
                    on_line(line)
                shown = len(last.status.journal)
                if last.status.reported.terminal:
                    return Followed(last, ended=True)
            left = deadline - self._clock()
            if left <= 0:
                return Followed(last, unreachable=unreachable)
            self._sleep(min(self._interval, left))


def _temporary(error: ApiException) -> bool:
    """An answer that may change by itself: too many requests, or the API server in trouble."""
    return error.status == 429 or (error.status or 0) >= 500
