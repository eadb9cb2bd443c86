"""The console in real headless Chromium: a developer creates a database and watches it arrive.

Debian's ``chromium`` is driven by Playwright with its executable path set (no browser download;
``make test`` installs chromium with apt-get). Without chromium the test skips with one line, and
fails under ``CI=true``. The whole sandbox runs in-process as ``port-bridge sandbox`` builds it.
Screenshots go to ``test-artifacts/`` (gitignored), a failure's too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from port_bridge_sandbox.demo import sandbox
from port_bridge_sandbox.kratix import Era
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import ARTIFACTS

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra: make test")
expect = playwright.expect
NO_CHROMIUM = (
    "chromium is not installed (make test installs Debian's with apt-get): the browser test is skipped"
)
SCREENSHOT = ARTIFACTS / "console.png"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = os.environ.get("PORT_BRIDGE_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {NO_CHROMIUM.split(' (')[0]}")
        pytest.skip(NO_CHROMIUM)
    return path


@pytest.fixture
def browser_page(chromium: str) -> Iterator[Any]:
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()


def shot(page: Any, path: Path) -> Path:
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_a_developer_creates_a_database_and_watches_it_arrive(browser_page: Any) -> None:
    page = browser_page
    SCREENSHOT.unlink(missing_ok=True)
    with sandbox(era=Era.CURRENT, speed=4) as pieces:
        port: PortEmulator = pieces["port"]
        # Port holds the run's terminal status (the PATCH after the announcement) for 3 s, so the run
        # page is surely open while the run is IN_PROGRESS and must update itself to SUCCESS.
        held = port.faults.latency(3, method="PATCH", path=r"^/v1/actions/runs/r_\w+$", times=1)
        held.after = 1
        console = pieces["console"].url
        assert console.startswith("http://127.0.0.1:")  # bound to the loopback address only
        try:
            play(page, console=console, port=port)
        except BaseException:
            shot(page, ARTIFACTS / "console-failure.png")
            raise
        assert held.hits == 1


def play(page: Any, *, console: str, port: PortEmulator) -> None:
    page.goto(console + "/")
    page.click("a[data-action=create-postgresql]")
    expect(page.locator("h1")).to_contain_text("Create PostgreSQL")
    expect(page.locator("select[name=env] option:checked")).to_have_text("dev")  # the default

    # A name the action's pattern refuses: the browser says so and nothing is sent.
    page.fill("input[name=name]", "Orders DB!")
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=name]")).to_contain_text("must match the pattern")
    assert page.evaluate("document.querySelector('input[name=name]').validity.valid") is False
    assert port.state.runs() == [] and "/actions/create-postgresql" in page.url

    page.fill("input[name=name]", "orders")
    page.select_option("select[name=env]", "prod")
    page.check("input[name=backupEnabled]")
    page.click("button[type=submit]")
    page.wait_for_url("**/runs/r_*")
    run_id = page.url.rsplit("/", 1)[1]
    page.evaluate("window.openedOnce = true")  # gone if the page reloaded instead of updating itself

    status = page.locator("[data-run-status]")
    expect(status).to_have_text("IN_PROGRESS")
    expect(status).to_have_text("SUCCESS", timeout=60_000)
    assert page.evaluate("window.openedOnce") is True
    run = port.run(run_id)
    assert run.status == "SUCCESS" and run.properties["env"] == "prod" and run.properties["backupEnabled"]
    expect(page.locator("[data-run-log] li span")).to_have_text([log.message for log in run.logs])
    expect(page.locator("[data-run-summary]")).to_have_text(run.summary or "")
    assert any("reconciled" in log.message for log in run.logs)
    expect(page.locator("[data-run-entities]")).to_contain_text("postgresql default.orders (upsert)")
    shot(page, SCREENSHOT)

    page.click("nav >> text=Catalog")
    entity = page.locator('[data-entity="default.orders"]')
    # Gold: a team (acid, the default), a host from Kratix, backups on and production (the rules of
    # scorecards/postgresql/production-readiness.json), as the emulator's evaluation says too.
    expect(entity.locator("[data-level]")).to_have_text("Gold")
    levels = port.state.entity("postgresql", "default.orders")["scorecards"]
    assert levels["production-readiness"]["level"] == "Gold"
    expect(entity).to_contain_text("prod")
    assert SCREENSHOT.stat().st_size > 10_000
    shot(page, ARTIFACTS / "console-catalog.png")
