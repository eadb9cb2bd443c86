"""Fixtures for the generator's tests: the reference data is optional here (those tests skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from port_bridge_sandbox.shared import SharedDataMissing, locate_shared_dir, require_file


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Kratix's Promises and CRDs, Port's spec: a test that needs them skips when they are absent."""
    try:
        return locate_shared_dir()
    except SharedDataMissing as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def port_spec_path(shared_dir: Path) -> Path:
    try:
        return require_file(shared_dir / "port" / "apispec.yaml", what="Port's OpenAPI spec")
    except SharedDataMissing as error:
        pytest.skip(str(error))
