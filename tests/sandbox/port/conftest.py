"""The emulator's own tests judge it against Port's published spec, so they need the spec itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from port_bridge_sandbox.port.server import PortEmulator


@pytest.fixture
def port_emulator(port_spec_path: Path) -> Iterator[PortEmulator]:
    """The emulator checking every request against Port's spec (skipped when ../shared is absent)."""
    with PortEmulator(spec_path=port_spec_path) as emulator:
        yield emulator
    assert emulator.internal_errors == []
