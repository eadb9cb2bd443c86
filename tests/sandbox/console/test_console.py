"""The sandbox console over plain HTTP: forms drawn as Port draws them, checks on submit, escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from markupsafe import escape

from port_bridge.serving import WsgiThread
from port_bridge_sandbox.console import create_console
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import Bridge
from tests.sandbox.console.page import Page

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def console(port: PortEmulator) -> Iterator[str]:
    """The console on a Port emulator with the project's actions; its webhooks go nowhere."""
    with WsgiThread(create_console(port, webhook_url="http://127.0.0.1:9/webhook")) as server:
        yield server.url


@pytest.fixture
def live_console(bridge: Bridge) -> Iterator[str]:
    """The console in front of the whole product: intake, controller, Kratix."""
    with WsgiThread(create_console(bridge.port, webhook_url=bridge.webhook)) as server:
        yield server.url


def form(url: str) -> Page:
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    return Page(answer.text)


def test_every_action_is_listed_and_its_form_opens(console: str, port: PortEmulator) -> None:
    index = requests.get(console + "/", timeout=5).text
    identifiers = sorted(action["identifier"] for action in port.state.catalog.actions())
    assert sorted(re.findall(r'data-action="([^"]+)"', index)) == identifiers and len(identifiers) >= 12
    for identifier in identifiers:
        assert requests.get(f"{console}/actions/{identifier}", timeout=5).status_code == 200


def test_a_create_form_is_drawn_from_its_user_inputs(console: str) -> None:
    page = form(console + "/actions/create-postgresql")
    controls = page.controls
    assert [name for name in controls if name != "__entity"] == [
        "name",
        "namespace",
        "env",
        "teamId",
        "dbName",
        "backupEnabled",
    ]  # userInputs.order
    assert controls["env"].tag == "select" and controls["env"].options == [("dev", True), ("prod", False)]
    # an optional drop-down can be emptied; its default is chosen when the form opens
    assert controls["namespace"].options == [
        ("", False),
        ("default", True),
        ("team-a", False),
        ("team-b", False),
    ]
    name = controls["name"]
    assert (name.tag, name.attrs["type"], name.attrs.get("value")) == ("input", "text", "")
    assert "required" in name.attrs and "required" not in controls["teamId"].attrs
    assert name.attrs["data-pattern"] == "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" and name.attrs["maxlength"] == "63"
    assert controls["teamId"].attrs["value"] == "acid" and controls["dbName"].attrs["value"] == "postgres"
    backups = controls["backupEnabled"]
    assert (backups.attrs["type"], backups.attrs["value"], "checked" in backups.attrs) == (
        "checkbox",
        "true",
        False,
    )


def test_a_day_2_form_opens_on_an_entity_with_its_jq_defaults(console: str, port: PortEmulator) -> None:
    assert "no service entity yet" in form(console + "/actions/update-service").text
    shop = {"language": "Python", "tier": "critical", "owner": "payments"}
    port.add_entity("service", {"identifier": "default.shop", "properties": shop})
    chooser = form(console + "/actions/update-service")
    assert chooser.controls["entity"].options == [("default.shop", False)]
    assert "tier" not in chooser.controls  # the form opens once an entity is chosen
    page = form(console + "/actions/update-service?entity=default.shop")
    assert page.controls["__entity"].attrs["value"] == "default.shop"
    assert ("critical", True) in page.controls["tier"].options  # default: {jqQuery: .entity.properties.tier}
    assert requests.get(console + "/actions/update-service?entity=nope", timeout=5).status_code == 404


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ({"name": "Orders DB!", "env": "dev"}, "name must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        ({"env": "dev"}, "name is required"),
        ({"name": "orders", "env": "staging"}, "env must be one of dev, prod"),
        ({"name": "x" * 64, "env": "dev"}, "name must be at most 63 characters long"),
    ],
)
def test_a_form_that_breaks_its_rules_is_refused_with_a_message_and_starts_nothing(
    console: str, port: PortEmulator, typed: dict[str, str], problem: str
) -> None:
    answer = requests.post(console + "/actions/create-postgresql", data=typed, timeout=5)
    assert answer.status_code == 422
    page = Page(answer.text)
    assert problem in page.text
    assert page.controls["name"].attrs.get("value") == typed.get("name", "")  # what was typed stays
    assert port.state.runs() == []


def test_a_submitted_form_starts_the_run_as_port_does_and_the_run_page_follows_it(
    live_console: str, bridge: Bridge
) -> None:
    typed = {"name": "cache", "namespace": "team-a", "size": "small"}
    answer = requests.post(
        live_console + "/actions/create-redis", data=typed, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 303
    run_id = answer.headers["Location"].rsplit("/", 1)[1]
    run = bridge.finished(run_id)
    assert run.status == "SUCCESS" and run.properties == typed and run.created_by == "developer@example.com"
    assert run.payload is not None and run.payload["url"] == bridge.webhook  # delivered as Port's webhook
    shown = requests.get(f"{live_console}/api/runs/{run_id}", timeout=5).json()
    assert shown["status"] == "SUCCESS" and [line["message"] for line in shown["logs"]] == [
        log.message for log in run.logs
    ]
    page = requests.get(f"{live_console}/runs/{run_id}", timeout=5).text
    assert all(str(escape(log.message)) in page for log in run.logs)
    catalog = Page(requests.get(live_console + "/catalog", timeout=5).text).text
    assert "team-a.cache" in catalog and "Resize Redis" in catalog


def test_a_day_2_run_goes_to_the_chosen_entity(live_console: str, bridge: Bridge) -> None:
    assert bridge.run_to_end("create-redis", {"name": "cache", "size": "small"}).status == "SUCCESS"
    data = {"__entity": "default.cache", "size": "large"}
    answer = requests.post(
        live_console + "/actions/update-redis", data=data, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 303
    run = bridge.finished(answer.headers["Location"].rsplit("/", 1)[1])
    assert (run.status, run.entity, run.properties) == ("SUCCESS", "default.cache", {"size": "large"})
    assert bridge.port.state.entity("redis", "default.cache")["properties"]["size"] == "large"


def test_a_github_action_is_shown_but_cannot_start_here(console: str, port: PortEmulator) -> None:
    page = requests.get(console + "/actions/create-service-github", timeout=5).text
    assert re.search(r"<button type=\"submit\"\s+disabled", page)
    answer = requests.post(console + "/actions/create-service-github", data={"name": "shop"}, timeout=5)
    assert answer.status_code == 422 and "GITHUB workflow" in answer.text
    assert port.state.runs() == []


def test_everything_shown_is_escaped(console: str, port: PortEmulator) -> None:
    action: dict[str, Any] = {
        "identifier": "hostile",
        "title": HOSTILE,
        "description": HOSTILE,
        "trigger": {
            "type": "self-service",
            "operation": "CREATE",
            "blueprintIdentifier": "redis",
            "userInputs": {
                "properties": {
                    "pick": {"type": "string", "title": HOSTILE, "enum": [HOSTILE, "b"]},
                    "text": {"type": "string", "default": '"><script>alert(1)</script>'},
                },
                "required": [],
            },
        },
        "invocationMethod": {"type": "WEBHOOK", "url": "http://127.0.0.1:9/webhook"},
    }
    port.add_action(action)
    run = port.state.create_run("hostile", properties={}, entity=None, user_email="dev@example.com")
    port.state.add_log(run.id, {"message": HOSTILE}, request="test")
    for path in ("/", "/actions/hostile", f"/runs/{run.id}", "/runs"):
        markup = requests.get(console + path, timeout=5).text
        assert "<script>alert" not in markup, path
    page = requests.get(console + "/actions/hostile", timeout=5).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert Page(page).controls["pick"].options[1] == (HOSTILE, False)
    shown = requests.get(f"{console}/runs/{run.id}", timeout=5)
    assert "&lt;script&gt;" in shown.text
    assert shown.headers["Content-Security-Policy"].startswith("default-src 'self';")
    port.state.update_run(run.id, {"link": "javascript:alert(1)"}, request="test")
    assert 'href="javascript:' not in requests.get(f"{console}/runs/{run.id}", timeout=5).text


def test_only_local_hosts_and_same_origin_posts_are_served(console: str, port: PortEmulator) -> None:
    rebound = requests.get(console + "/", headers={"Host": "evil.example:80"}, timeout=5)
    assert rebound.status_code == 421
    cross = requests.post(
        console + "/actions/create-redis",
        data={"name": "cache"},
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert cross.status_code == 403 and port.state.runs() == []
    assert requests.put(console + "/actions/create-redis", timeout=5).status_code == 405
    assert requests.get(console + "/api/runs/r_nothere", timeout=5).json()["error"] == "Not Found"
