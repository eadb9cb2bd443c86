"""``GET /runs`` and ``GET /runs/<id>``: JSON for programs, HTML for a browser, optionally behind a token."""

from __future__ import annotations

import re
from typing import Any

import kubernetes
import pytest
import requests
from flask import Flask
from markupsafe import escape
from pydantic import SecretStr

from port_bridge.actionrun.model import ActionRunSpec
from port_bridge.intake.app import create_app
from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_manifest
from port_bridge.kube.objects import KubeObjects
from port_bridge.mapping.actions import ActionConfig
from port_bridge.settings import Settings
from port_bridge_sandbox.kube import KubeApiServer
from tests.conftest import BRIDGE_NAMESPACE, Bridge

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TOKEN = "runs-token-for-the-tests"
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def store(
    client: kubernetes.client.ApiClient, run_id: str, *, at: str, journal: tuple[str, ...] = ()
) -> None:
    """An ActionRun as intake stores it, with a journal as the controller writes it."""
    spec = ActionRunSpec(run_id=run_id, action="create-redis", received_at=at, operation="CREATE")
    objects = KubeObjects(client)
    manifest = actionrun_manifest(spec, namespace=BRIDGE_NAMESPACE)
    created = objects.create(ACTIONRUNS, manifest, namespace=BRIDGE_NAMESPACE)
    status = {"phase": "InProgress", "journal": [{"message": line} for line in journal]}
    objects.patch_status(
        ACTIONRUNS, created["metadata"]["name"], {"status": status}, namespace=BRIDGE_NAMESPACE
    )


@pytest.fixture
def app_with_token(
    cluster: KubeApiServer,
    kube_client: kubernetes.client.ApiClient,
    bridge_settings: Settings,
    project_actions: dict[str, ActionConfig],
) -> Flask:
    settings = bridge_settings.model_copy(update={"runs_token": SecretStr(TOKEN)})
    return create_app(settings, api_client=kube_client, actions=project_actions)


def test_a_finished_runs_page_has_its_journal_as_json_and_as_html(bridge: Bridge) -> None:
    run = bridge.run_to_end("create-redis", {"name": "cache", "size": "small"})
    assert run.status == "SUCCESS"
    url = f"{bridge.intake.url}/runs/{run.id}"

    page = requests.get(url, timeout=5)
    assert page.headers["Content-Type"] == "application/json"
    body = page.json()
    journal = [line["message"] for line in body["journal"]]
    assert journal == [log.message for log in run.logs][: len(journal)] and len(journal) >= 3
    assert body["outcome"]["result"] == "SUCCESS" and body["phase"] == "Succeeded"

    shown = requests.get(url, headers=BROWSER, timeout=5)
    assert shown.status_code == 200 and shown.headers["Content-Type"].startswith("text/html")
    assert "Accept" in shown.headers["Vary"]
    for message in journal:
        assert str(escape(message)) in shown.text
    assert ">SUCCESS<" in shown.text


def test_the_list_shows_the_newest_runs_first_with_links(
    intake_app: Flask, kube_client: kubernetes.client.ApiClient
) -> None:
    store(kube_client, "r_older0000000001", at="2026-01-01T10:00:00.000Z")
    store(kube_client, "r_newer0000000002", at="2026-01-02T10:00:00.000Z")
    client = intake_app.test_client()

    listed = client.get("/runs").get_json()
    assert [run["runId"] for run in listed["runs"]] == ["r_newer0000000002", "r_older0000000001"]
    assert listed["total"] == 2 and listed["runs"][0]["phase"] == "InProgress"

    page = client.get("/runs", headers=BROWSER).get_data(as_text=True)
    links = re.findall(r'href="(/runs/[^"]+)"', page)
    assert links == ["/runs/r_newer0000000002", "/runs/r_older0000000001"]


def test_html_escapes_whatever_the_journal_holds(
    intake_app: Flask, kube_client: kubernetes.client.ApiClient
) -> None:
    store(kube_client, "r_hostile00000001", at="2026-01-01T10:00:00.000Z", journal=(HOSTILE,))
    client = intake_app.test_client()
    page = client.get("/runs/r_hostile00000001", headers=BROWSER).get_data(as_text=True)
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    policy = client.get("/runs/r_hostile00000001", headers=BROWSER).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert client.get("/runs/r_hostile00000001").get_json()["journal"] == [{"message": HOSTILE}]


@pytest.mark.parametrize("path", ["/runs", "/runs/r_QOz6WoOB1Q2lmhZZ"])
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", TOKEN],
)
def test_with_a_token_set_the_pages_are_401_without_it(
    app_with_token: Flask, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = app_with_token.test_client().get(path, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.get_json()["error"] == "unauthorized"
    assert TOKEN not in answer.get_data(as_text=True)


def test_with_the_token_the_pages_answer_and_a_browser_gets_a_401_page(
    app_with_token: Flask, kube_client: kubernetes.client.ApiClient
) -> None:
    store(kube_client, "r_tokened00000001", at="2026-01-01T10:00:00.000Z", journal=("a line",))
    client = app_with_token.test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/runs", headers=bearer).get_json()["total"] == 1
    assert client.get("/runs/r_tokened00000001", headers={**bearer, **BROWSER}).status_code == 200
    refused = client.get("/runs/r_tokened00000001", headers=BROWSER)
    assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("text/html")
    assert "a line" not in refused.get_data(as_text=True)
    assert "Authorization: Bearer" in refused.get_data(as_text=True)


def test_an_unknown_run_is_404_in_either_form(intake_app: Flask) -> None:
    client = intake_app.test_client()
    assert client.get("/runs/r_nothere000000001").status_code == 404
    page = client.get("/runs/r_nothere000000001", headers=BROWSER)
    assert page.status_code == 404 and "port-bridge has no run" in page.get_data(as_text=True)


@pytest.mark.parametrize(("value", "expected"), [("", None), ("s3cret-token", "s3cret-token")])
def test_the_token_setting_is_optional_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    monkeypatch.setenv("PORT_BRIDGE_RUNS_TOKEN", value)
    settings = Settings()
    shown: Any = settings.runs_token.get_secret_value() if settings.runs_token else None
    assert shown == expected
    assert value == "" or value not in repr(settings.redacted())
    assert (value in settings.secret_values) == bool(value)
