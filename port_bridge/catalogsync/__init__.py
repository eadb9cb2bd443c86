"""Catalog sync: every request of a mapped Promise in Port's catalog, with its true Kratix state.

Runs put the entity of what they made in Port; requests made with kubectl or through GitOps,
deleted requests and what Kratix does afterwards would never reach it. The controller therefore
mirrors every request of a Promise a CREATE action maps (from the action files or a live Promise)
while it leads, within Port's rate limits, without fighting the runs:

* :mod:`.state`: a request's Kratix state as catalog properties, and the marker of mirrored entities;
* :mod:`.mirror`: which entity mapping mirrors a Promise, the entity a request becomes, and when
  Port already holds it;
* :mod:`.memory` and :mod:`.reading`: what Port holds, read from Port and kept with each write;
* :mod:`.plan`: one pass decided (writes, deletes, what is left to runs);
* :mod:`.execute` and :mod:`.writer`: a pass carried out in bulk calls, the safety threshold on
  its deletes, the outcome remembered;
* :mod:`.sync`: the thread: watch-driven passes and full passes;
* :mod:`.metrics`: what operators see.
"""

from __future__ import annotations

from port_bridge.catalogsync.metrics import BudgetCollector, CatalogMetrics
from port_bridge.catalogsync.state import BLUEPRINT_PROPERTIES, CatalogState, RequestRef
from port_bridge.catalogsync.sync import CatalogOptions, CatalogSync

__all__ = [
    "BLUEPRINT_PROPERTIES",
    "BudgetCollector",
    "CatalogMetrics",
    "CatalogOptions",
    "CatalogState",
    "CatalogSync",
    "RequestRef",
]
