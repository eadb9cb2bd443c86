"""A leadership term's fence: once the Lease is lost, this replica writes nothing more.

Only the Lease holder may change ActionRuns, Kratix requests or Port runs. The elector sets the
term's ``lost`` event when it steps down (after ``renew_deadline`` without renewal, while another
replica must still wait out the rest of ``lease_seconds``); every write checks the fence first and
every wait between retries is cut short by it, so a deposed leader's workers stop within that
margin instead of finishing a long retry loop against Port.
"""

from __future__ import annotations

import threading

from port_bridge.controller.errors import Deposed


class Fence:
    def __init__(self, lost: threading.Event) -> None:
        self._lost = lost

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise :class:`Deposed` if the term is over; call before every write."""
        if self._lost.is_set():
            raise Deposed("this replica no longer holds the Lease")

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (between retries), or raise :class:`Deposed` as soon as the term ends."""
        if self._lost.wait(seconds):
            raise Deposed("this replica lost the Lease while waiting to retry")
