"""``port-bridge scorecards`` end to end: entities from a file or from the Port emulator over HTTP.

The expected levels are worked out by hand from the project's postgresql scorecard (Bronze: a
team and a host; Silver: backups on; Gold: the prod environment), never read from the
emulator's own evaluation of its entities.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from port_bridge.cli import main
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import REPO

ORDERS = {
    "identifier": "orders",
    "title": "Orders",
    "properties": {
        "namespace": "team-a",
        "requestName": "orders",
        "team": "team-a",
        "host": "orders.team-a.svc",
        "backupEnabled": False,
        "environment": "dev",
    },
}
CARTS = {
    "identifier": "carts",
    "properties": {
        "namespace": "team-b",
        "requestName": "carts",
        "backupEnabled": True,
        "environment": "prod",
    },
}
LEDGER = {
    "identifier": "ledger",
    "properties": {
        "namespace": "team-a",
        "requestName": "ledger",
        "team": "team-a",
        "host": "ledger.team-a.svc",
        "backupEnabled": True,
        "environment": "prod",
    },
}
EXPECTED = {"orders": ("Bronze", 34, 2), "carts": ("Basic", 0, 2), "ledger": ("Gold", 100, 4)}


class Cli:
    """``port-bridge`` run in this process with an environment of the test's own."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self._monkeypatch, self._capsys = monkeypatch, capsys
        for name in ("PORT_CLIENT_ID", "PORT_CLIENT_SECRET", "PORT_API_URL", "PORT_BRIDGE_CONFIG_DIR"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PORT_BRIDGE_CONFIG_DIR", str(REPO))

    def use_port(self, port: PortEmulator, *, secret: str | None = None, url: str | None = None) -> None:
        self._monkeypatch.setenv("PORT_CLIENT_ID", port.client_id)
        self._monkeypatch.setenv("PORT_CLIENT_SECRET", secret or port.client_secret)
        self._monkeypatch.setenv("PORT_API_URL", url or port.url)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        status = main(["scorecards", *args])
        out, err = self._capsys.readouterr()
        return status, out, err

    def json(self, *args: str) -> dict[str, Any]:
        status, out, err = self(*args, "--output", "json")
        assert status == 0, err
        document: dict[str, Any] = json.loads(out)
        return document

    def refusal(self, *args: str, status: int = 2) -> str:
        """The one line a refused command printed."""
        got, out, err = self(*args)
        assert got == status, err
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("port-bridge scorecards: "), err
        return err.strip().removeprefix("port-bridge scorecards: ")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(monkeypatch, capsys)


@pytest.fixture
def entities_file(tmp_path: Path) -> Path:
    path = tmp_path / "entities.json"
    path.write_text(
        json.dumps({"entities": [{**e, "blueprint": "postgresql"} for e in (ORDERS, CARTS, LEDGER)]})
    )
    return path


@pytest.fixture
def port_with_entities(port: PortEmulator) -> PortEmulator:
    for entity in (ORDERS, CARTS, LEDGER):
        port.add_entity("postgresql", entity)
    port.clear_calls()
    return port


def levels_of(document: dict[str, Any]) -> dict[str, tuple[str, int, int]]:
    found = {}
    for entity in document["entities"]:
        [scorecard] = [s for s in entity["scorecards"] if s["identifier"] == "production-readiness"]
        found[entity["identifier"]] = (scorecard["level"], scorecard["readiness"], scorecard["passed"])
    return found


def test_a_file_needs_no_port_and_the_table_shows_every_failing_rule_with_its_value(
    cli: Cli, entities_file: Path
) -> None:
    status, out, err = cli("--file", str(entities_file))
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ENTITY", "SCORECARD", "LEVEL", "READINESS", "RULES", "PASSED"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if not line.startswith(" ")}
    assert rows == {
        "postgresql/orders": ["production-readiness", "Bronze", "34", "2/4"],
        "postgresql/carts": ["production-readiness", "Basic", "0", "2/4"],
        "postgresql/ledger": ["production-readiness", "Gold", "100", "4/4"],
    }
    failing = [line.removeprefix("    failing ") for line in lines if line.startswith("    failing ")]
    assert failing == [
        "backups [Silver] Backups enabled: backupEnabled is false (wanted = true)",
        "production-environment [Gold] Runs with production resources: "
        'environment is "dev" (wanted = "prod")',
        "has-owner-team [Bronze] Owned by a team: team is missing (wanted isNotEmpty)",
        "reachable [Bronze] Has a host to connect to: host is missing (wanted isNotEmpty)",
    ]


def test_json_output_holds_every_rule_and_the_values_read(cli: Cli, entities_file: Path) -> None:
    document = cli.json("--file", str(entities_file))
    assert levels_of(document) == EXPECTED
    orders = next(e for e in document["entities"] if e["identifier"] == "orders")
    assert (orders["blueprint"], orders["title"]) == ("postgresql", "Orders")
    [scorecard] = orders["scorecards"]
    assert (scorecard["title"], scorecard["applies"], scorecard["total"]) == ("Production readiness", True, 4)
    rules = {rule["identifier"]: rule for rule in scorecard["rules"]}
    assert {name: rule["passed"] for name, rule in rules.items()} == {
        "has-owner-team": True,
        "reachable": True,
        "backups": False,
        "production-environment": False,
    }
    assert rules["backups"]["level"] == "Silver"
    assert rules["backups"]["conditions"] == [
        {"property": "backupEnabled", "operator": "=", "value": True, "actual": False, "passed": False}
    ]
    assert rules["reachable"]["conditions"] == [
        {"property": "host", "operator": "isNotEmpty", "actual": "orders.team-a.svc", "passed": True}
    ]


def test_blueprint_restricts_a_file_and_names_entities_that_have_none(
    cli: Cli, tmp_path: Path, entities_file: Path
) -> None:
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([ORDERS, {"identifier": "cache", "blueprint": "redis"}]))
    assert levels_of(cli.json("--file", str(mixed), "--blueprint", "postgresql")) == {
        "orders": EXPECTED["orders"]
    }
    assert cli.refusal("--file", str(mixed)) == (
        f'{mixed}: entities[0] (orders) names no blueprint; add "blueprint" to it or pass --blueprint'
    )


def test_entities_from_port_by_blueprint(cli: Cli, port_with_entities: PortEmulator) -> None:
    cli.use_port(port_with_entities)
    assert levels_of(cli.json("--blueprint", "postgresql")) == EXPECTED
    calls = [
        (call.method, call.path) for call in port_with_entities.calls if call.path != "/v1/auth/access_token"
    ]
    assert calls == [("GET", "/v1/blueprints/postgresql/entities")]  # the scorecards came from the directory
    assert port_with_entities.spec_violations == []


def test_without_blueprint_every_blueprint_with_a_scorecard_is_read(
    cli: Cli, port_with_entities: PortEmulator
) -> None:
    cli.use_port(port_with_entities)
    status, out, err = cli()
    assert status == 0, err
    assert "postgresql/ledger  production-readiness  Gold" in out
    with_scorecards = sorted(path.name for path in (REPO / "scorecards").iterdir() if path.is_dir())
    read = [
        call.path for call in port_with_entities.calls if call.method == "GET" and "/entities" in call.path
    ]
    assert read == [f"/v1/blueprints/{blueprint}/entities" for blueprint in with_scorecards]


PORT_ONLY = {
    "identifier": "ownership",
    "title": "Ownership",
    "levels": [{"title": "None", "color": "red"}, {"title": "Owned", "color": "green"}],
    "rules": [
        {
            "identifier": "team-set",
            "title": "A team owns it",
            "level": "Owned",
            "query": {
                "combinator": "and",
                "conditions": [{"property": "team", "operator": "beginsWith", "value": "team-"}],
            },
        }
    ],
    "filter": {
        "combinator": "and",
        "conditions": [{"property": "environment", "operator": "=", "value": "prod"}],
    },
}


def test_scorecards_from_port(cli: Cli, port_with_entities: PortEmulator, entities_file: Path) -> None:
    port_with_entities.add_scorecard("postgresql", PORT_ONLY)
    cli.use_port(port_with_entities)
    for args in (["--blueprint", "postgresql"], [], ["--file", str(entities_file)]):
        port_with_entities.clear_calls()
        document = cli.json("--scorecards", "port", *args)
        assert levels_of(document) == EXPECTED
        ownership = {
            e["identifier"]: next(s for s in e["scorecards"] if s["identifier"] == "ownership")
            for e in document["entities"]
        }
        assert {name: (s["applies"], s["level"]) for name, s in ownership.items()} == {
            "orders": (False, None),  # the filter wants prod
            "carts": (True, "None"),
            "ledger": (True, "Owned"),
        }
        scorecard_reads = [call.path for call in port_with_entities.calls if "scorecards" in call.path]
        assert scorecard_reads == (
            ["/v1/scorecards"] if not args else ["/v1/blueprints/postgresql/scorecards"]
        )


def test_a_scorecard_that_does_not_apply_says_so_in_the_table(
    cli: Cli, port_with_entities: PortEmulator
) -> None:
    port_with_entities.add_scorecard("postgresql", PORT_ONLY)
    cli.use_port(port_with_entities)
    status, out, err = cli("--scorecards", "port", "--blueprint", "postgresql")
    assert status == 0, err
    assert "postgresql/orders  ownership             -       -          not applicable (filter)" in out
    assert 'failing team-set [Owned] A team owns it: team is missing (wanted beginsWith "team-")' in out


def test_refusals_name_what_to_change(cli: Cli, tmp_path: Path, entities_file: Path) -> None:
    missing = tmp_path / "missing.json"
    assert cli.refusal("--file", str(missing)) == f"{missing}: cannot be read: No such file or directory"
    assert cli.refusal("--file", str(entities_file), "--scorecards", str(tmp_path / "none")) == (
        f"--scorecards: {tmp_path / 'none'}: no such scorecards directory"
    )
    assert cli.refusal("--file", str(entities_file), "--scorecards", str(tmp_path)) == (
        f"blueprint 'postgresql' has no scorecards in {tmp_path} (--scorecards)"
    )
    assert cli.refusal("--file", str(entities_file), "--blueprint", "redis") == (
        f"blueprint 'redis' has no scorecards in {REPO / 'scorecards'} (PORT_BRIDGE_CONFIG_DIR)"
    )
    broken = tmp_path / "cards" / "postgresql"
    broken.mkdir(parents=True)
    (broken / "readiness.json").write_text(
        json.dumps(
            {"identifier": "r", "title": "R", "rules": [{"identifier": "x", "title": "X", "level": "Gold"}]}
        )
    )
    assert cli.refusal("--file", str(entities_file), "--scorecards", str(tmp_path / "cards")) == (
        f"--scorecards: {broken / 'readiness.json'}: rules.0.query: Field required"
    )
    assert cli.refusal("--blueprint", "postgresql") == (
        "PORT_CLIENT_ID and PORT_CLIENT_SECRET must be set (Port app → Credentials)"
    )


def test_port_refusals_and_silence(cli: Cli, port: PortEmulator, tmp_path: Path) -> None:
    cli.use_port(port)
    assert cli.refusal("--blueprint", "nope") == "--blueprint nope: Port has no such blueprint"
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps([{"identifier": "x", "blueprint": "nope"}]))
    assert (
        cli.refusal("--file", str(unknown), "--scorecards", "port")
        == "blueprint 'nope': Port has no such blueprint"
    )
    with_unknown = tmp_path / "cards"
    (with_unknown / "gone").mkdir(parents=True)
    (with_unknown / "gone" / "s.json").write_text(json.dumps(PORT_ONLY))
    assert cli.refusal("--scorecards", str(with_unknown)) == (
        f"Port has no blueprint 'gone', which has scorecards in {with_unknown} (--scorecards)"
    )
    cli.use_port(port, secret="not-the-secret")
    refusal = cli.refusal("--blueprint", "postgresql")
    assert refusal.startswith(
        f"PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at {port.url} refused the credentials ("
    )
    assert "not-the-secret" not in refusal
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        silent = f"http://127.0.0.1:{probe.getsockname()[1]}"
    cli.use_port(port, url=silent)
    assert cli.refusal("--blueprint", "postgresql", status=1).startswith(
        "Port API POST /v1/auth/access_token gave up after 1 attempt(s)"
    )


def test_the_installed_command_in_its_own_process(tmp_path: Path, entities_file: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PORT_BRIDGE_CONFIG_DIR": str(REPO)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "port_bridge", "scorecards", *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=60,
        )

    done = run("--file", str(entities_file), "--output", "json")
    assert done.returncode == 0, done.stderr
    assert levels_of(json.loads(done.stdout)) == EXPECTED
    refused = run("--file", str(tmp_path / "nowhere.json"))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"port-bridge scorecards: {tmp_path / 'nowhere.json'}: cannot be read: No such file or directory"
    ]
    bad_option = run("--output", "yaml")
    assert bad_option.returncode == 2 and "invalid choice: 'yaml'" in bad_option.stderr
