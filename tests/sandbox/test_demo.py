"""``port-bridge sandbox`` tells the whole story and says whether every run ended as it should."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from port_bridge_sandbox.demo import run_sandbox
from port_bridge_sandbox.shared import SHARED_DIR_ENV


def _story(*, era: str, spec_path: Path | None = None) -> str:
    out = io.StringIO()
    assert run_sandbox(era=era, speed=20, out=out, spec_path=spec_path) == 0, out.getvalue()
    story = out.getvalue()
    assert story.count("✓ SUCCESS, as expected") == 4 and story.count("✓ FAILURE, as expected") == 3
    assert story.count("✗") == 1  # in the legend only
    failed = story[story.index('database "template1"') :].split("▶")[0]
    assert "✓ FAILURE" in failed and "failed" in failed.lower() and "did not finish" not in failed
    if "pipelines run as processes" in story:  # the pipeline's own words reach the Port run
        assert "[instance-configure] cannot create database template1" in failed
    assert "Timed out: Kratix did not finish within" in story
    assert "Kratix: reconciled: 10Gi instance v16 deployed successfully with backups" in story
    # kratixState comes from the catalog sync, a moment after the run: it may not be there yet
    orders = r"postgresql default\.orders: (kratixState=\w+, )?environment=dev, backupEnabled=True"
    assert re.search(orders, story)
    return story


@pytest.mark.parametrize("era", ["current", "legacy"])
def test_a_bare_clone_plays_every_run_to_its_expected_end(
    era: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_DIR_ENV, str(tmp_path / "no-shared-here"))
    story = _story(era=era)
    assert "requests are answered, not checked" in story
    assert "(not checked)" in story


def test_every_call_the_sandbox_makes_is_inside_ports_spec(port_spec_path: Path) -> None:
    story = _story(era="current", spec_path=port_spec_path)
    assert "outside Port's OpenAPI spec: 0" in story
