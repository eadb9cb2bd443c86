"""``port-bridge sandbox`` tells the whole story and says whether every run ended as it should."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from port_bridge.sandbox.demo import run_sandbox


@pytest.mark.parametrize("era", ["current", "legacy"])
def test_the_sandbox_plays_every_run_to_its_expected_end(era: str, shared_dir: Path) -> None:
    out = io.StringIO()
    assert run_sandbox(era=era, speed=20, out=out, shared_dir=shared_dir) == 0
    story = out.getvalue()
    assert story.count("✓ SUCCESS") == 4 and story.count("✓ FAILURE") == 1
    assert "✗" not in story
    assert "Kratix: reconciled: 10Gi instance v16 deployed successfully with backups" in story
    assert "postgresql default.orders: environment=dev, backupEnabled=True" in story
    assert "outside Port's OpenAPI spec: 0" in story
