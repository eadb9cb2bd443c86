"""The bridge's client for Port's REST API (getport.io): reporting runs, writing entities, config.

    with PortClient("https://api.port.io", client_id=cid, client_secret=secret) as port:
        port.patch_run(run_id, status_label="Provisioning", link=url, external_run_id=name)
        port.upsert_entity("database", {"identifier": "orders", "properties": {...}}, run_id=run_id)
        try:
            port.patch_run(run_id, status="SUCCESS", summary="orders is ready")
        except RunAlreadyFinished:
            ...  # someone finished the run first; record it

Modules: :mod:`.client` (the class), :mod:`.runs`, :mod:`.entities`, :mod:`.catalog` (the
operations), :mod:`.transport` (one call: token, retries, logging), :mod:`.auth` (the token
cache), :mod:`.retry` and :mod:`.waits` (the retry policy and Port's wait hints), :mod:`.errors`.
"""

from __future__ import annotations

from port_bridge.port.client import PortClient
from port_bridge.port.entities import BULK_LIMIT, BulkUpsertResult, EntityError
from port_bridge.port.errors import (
    NotFound,
    PortApiError,
    PortError,
    PortUnavailable,
    RunAlreadyFinished,
)
from port_bridge.port.runs import RunStatus

__all__ = [
    "BULK_LIMIT",
    "BulkUpsertResult",
    "EntityError",
    "NotFound",
    "PortApiError",
    "PortClient",
    "PortError",
    "PortUnavailable",
    "RunAlreadyFinished",
    "RunStatus",
]
