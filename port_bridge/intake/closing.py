"""Closing a run in Port from intake, for the one case nothing could be stored.

Normally the controller reports every run, rejected ones included, from its ActionRun. When the
Kubernetes API is unreachable there is no ActionRun, and Port does not deliver a run twice, so
intake closes the run itself rather than leave it IN_PROGRESS forever.
"""

from __future__ import annotations

import logging

from port_bridge.port.client import PortClient
from port_bridge.port.errors import RunAlreadyFinished

log = logging.getLogger(__name__)


class PortRunCloser:
    def __init__(self, port: PortClient) -> None:
        self._port = port

    def close_failed(self, run_id: str, message: str) -> None:
        try:
            self._port.add_run_log(run_id, message)
            self._port.patch_run(run_id, status="FAILURE", summary=message, status_label="Not recorded")
        except RunAlreadyFinished:
            log.info("run was already finished in Port", extra={"run_id": run_id})
