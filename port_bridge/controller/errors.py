"""What went wrong in a reconciliation, sorted the way kopf sorts it: wait, stop, or look closer.

Every exception that leaves a step of a run falls in one class, and the class alone decides what
happens next (research/peers.md §4.1, kopf's ``TemporaryError``/``PermanentError``):

* **temporary**: the world will change (Port or the Kubernetes API unreachable, overloaded, 429,
  5xx, timeouts): the run is looked at again after a growing delay, however long that takes;
* **conflict**: the ActionRun changed under us (409): looked at again at once, from its new state;
* **permanent**: retrying cannot help (any other refusal from Port or Kubernetes, a mapping or
  template that fails, a malformed object): the run ends FAILURE now, with a message naming it;
* **deposed**: this replica lost the Lease: it stops touching anything, the new leader carries on;
* **unexpected**: anything else, i.e. a bug: retried a bounded number of times, then the run ends
  FAILURE saying port-bridge failed, so even a bug cannot leave a run open.
"""

from __future__ import annotations

import enum

from kubernetes.client import ApiException

from port_bridge.kube.client import is_unavailable
from port_bridge.port.errors import PortApiError, PortUnavailable


class ErrorKind(enum.StrEnum):
    TEMPORARY = "temporary"
    CONFLICT = "conflict"
    PERMANENT = "permanent"
    DEPOSED = "deposed"
    UNEXPECTED = "unexpected"


class PermanentError(Exception):
    """Retrying cannot help; ``label`` is the Port statusLabel the run ends with."""

    def __init__(self, message: str, *, label: str = "Failed") -> None:
        super().__init__(message)
        self.message, self.label = message, label


class Conflict(Exception):
    """The ActionRun changed under us (another writer); look again at its latest state."""


class Deposed(Exception):
    """This replica no longer holds the Lease; its work must stop without another write."""


def kind_of(error: BaseException) -> ErrorKind:
    """The class of an exception that left a reconciliation."""
    if isinstance(error, Deposed):
        return ErrorKind.DEPOSED
    if isinstance(error, Conflict):
        return ErrorKind.CONFLICT
    if isinstance(error, PortUnavailable) or is_unavailable(error):
        return ErrorKind.TEMPORARY
    if isinstance(error, PermanentError | PortApiError):
        return ErrorKind.PERMANENT
    if isinstance(error, ApiException) and 400 <= (error.status or 0) < 500:
        return ErrorKind.PERMANENT
    return ErrorKind.UNEXPECTED


def cause_of(error: BaseException) -> str:
    """A short label of where the error came from, for metrics and log lines."""
    if isinstance(error, PortUnavailable | PortApiError):
        return "port"
    if isinstance(error, ApiException) or is_unavailable(error):
        return "kubernetes"
    return kind_of(error).value
