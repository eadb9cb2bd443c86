"""Start-up checks against real servers: the Kubernetes emulator, the Port emulator, real sockets."""

from __future__ import annotations

import logging
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from port_bridge.port.client import PortClient
from port_bridge.settings import ConfigurationError, Settings
from port_bridge.startup import (
    LoginState,
    PortLogin,
    check_actions,
    check_bind,
    check_scorecards,
    connect_kubernetes,
)
from port_bridge_sandbox.kube import KubeApiServer
from port_bridge_sandbox.port import PortEmulator
from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def settings(**values: Any) -> Settings:
    return Settings(port_client_id="id", port_client_secret=SecretStr("secret"), **values)


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: u, user: {token: a-token-value}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    return path


# --- action files ---


def test_an_empty_actions_directory_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    with pytest.raises(ConfigurationError) as raised:
        check_actions(settings(config_dir=tmp_path))
    assert str(raised.value) == (
        f"PORT_BRIDGE_CONFIG_DIR: {tmp_path}/actions holds no action files (*.yaml, *.yml or *.json); "
        "every run would be refused"
    )


def test_every_broken_action_file_is_listed_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    for name in ("a", "b"):
        (tmp_path / "actions" / f"create-{name}.yaml").write_text(f"action: {{identifier: create-{name}}}\n")
    with pytest.raises(ConfigurationError) as raised:
        check_actions(settings(config_dir=tmp_path))
    message = str(raised.value)
    assert message.startswith("PORT_BRIDGE_CONFIG_DIR: invalid action files: ")
    assert "create-a.yaml" in message and "create-b.yaml" in message
    assert "\n" not in message


def test_the_project_actions_pass() -> None:
    assert check_actions(settings(config_dir=REPO))


def test_the_project_scorecards_pass_and_every_readiness_names_one() -> None:
    project = settings(config_dir=REPO)
    scorecards = check_scorecards(project, check_actions(project))
    assert {card.identifier for card in scorecards["service"]} == {"production_readiness"}


def test_a_readiness_naming_a_scorecard_the_files_lack_stops_the_start(tmp_path: Path) -> None:
    shutil.copytree(REPO / "actions", tmp_path / "actions")
    (tmp_path / "scorecards").mkdir()  # no scorecard at all
    broken = settings(config_dir=tmp_path)
    with pytest.raises(ConfigurationError) as raised:
        check_scorecards(broken, check_actions(broken))
    message = str(raised.value)
    assert message.startswith("PORT_BRIDGE_CONFIG_DIR: ")
    assert "entity.readiness.productionReadiness names scorecard 'production_readiness'" in message


# --- listening addresses ---


def test_an_address_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ConfigurationError) as raised:
            check_bind("bind", address)
    assert str(raised.value) == f"PORT_BRIDGE_BIND: cannot listen on {address}: Address already in use"


def test_an_unknown_host_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"^PORT_BRIDGE_CONTROLLER_BIND: cannot resolve the host"):
        check_bind("controller_bind", "no-such-host.invalid:8081")


def test_a_free_address_and_no_address_pass() -> None:
    check_bind("bind", f"127.0.0.1:{free_port()}")
    check_bind("controller_bind", "")


# --- Kubernetes ---


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{{{", " is not valid YAML (expected the node content, but found '<stream end>' at line 1)"),
        ("clusters: 5\n", " is not a valid kubeconfig (TypeError: "),
        ("apiVersion: v1\nkind: Config\n", ": Invalid kube-config file. Expected key current-context"),
    ],
)
def test_an_invalid_kubeconfig_is_named(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as raised:
        connect_kubernetes(settings(kubeconfig=path))
    assert str(raised.value).startswith(f"KUBECONFIG: {path}{expected}")


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        connect_kubernetes(settings(kubeconfig=tmp_path / "nowhere"))
    assert str(raised.value) == f"KUBECONFIG: {tmp_path / 'nowhere'} does not exist"


def test_an_unreachable_api_server_is_logged_with_its_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="port_bridge.startup"):
        connect_kubernetes(settings(kubeconfig=write_kubeconfig(tmp_path / "kubeconfig", url)))
    [warning] = [record.getMessage() for record in caplog.records if record.name == "port_bridge.startup"]
    assert warning.startswith(f"the Kubernetes API server at {url} does not answer (NewConnectionError: ")
    assert "Connection refused" in warning


def test_a_reachable_api_server_passes(
    kube: KubeApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="port_bridge.startup"):
        client = connect_kubernetes(settings(kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")))
    assert client.configuration.host == kube.url
    assert f"the Kubernetes API server at {kube.url} answers" in caplog.text


class _Unauthorized(BaseHTTPRequestHandler):
    """An API server that refuses every credential, as one does for a revoked token."""

    def do_GET(self) -> None:
        body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_api_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_refused_kubernetes_credentials_stop_the_start(tmp_path: Path, refusing_api_server: str) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", refusing_api_server)
    with pytest.raises(ConfigurationError) as raised:
        connect_kubernetes(settings(kubeconfig=path))
    assert str(raised.value) == (
        f"KUBECONFIG: the Kubernetes API server at {refusing_api_server} refused the credentials "
        "(401 Unauthorized)"
    )


# --- Port ---


def login(port: PortEmulator, *, secret: str | None = None) -> PortLogin:
    client = PortClient(
        port.url, client_id=port.client_id, client_secret=secret or port.client_secret, timeout=5
    )
    return PortLogin(client, secret=secret or port.client_secret)


def test_accepted_credentials_leave_a_token_for_the_client(port_emulator: PortEmulator) -> None:
    checked = login(port_emulator)
    assert checked.check() is True
    assert checked.state is LoginState.ACCEPTED
    assert checked.check() is True
    assert port_emulator.token_requests == 1  # the token is the client's, not fetched again


def test_refused_credentials_quote_port_and_never_the_secret(port_emulator: PortEmulator) -> None:
    checked = login(port_emulator, secret="a-wrong-secret")
    with pytest.raises(ConfigurationError) as raised:
        checked.check()
    message = str(raised.value)
    assert message.startswith(
        f"PORT_CLIENT_ID / PORT_CLIENT_SECRET: Port at {port_emulator.url} refused the credentials: "
        "401 unauthorized: the client id or client secret is wrong (trace id "
    )
    assert "a-wrong-secret" not in message
    assert checked.state is LoginState.REFUSED


def test_port_not_answering_is_retried_in_the_background(
    port_emulator: PortEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    port_emulator.faults.port_down()
    checked = login(port_emulator)
    with caplog.at_level(logging.INFO, logger="port_bridge.startup"):
        assert checked.check() is False
        assert checked.describe() == "unreachable: answered 503"
        assert f"cannot get a token from Port at {port_emulator.url} (answered 503)" in caplog.text
        retrying = checked.keep_trying(threading.Event(), first_wait=0.01)
        port_emulator.faults.port_up()
        retrying.join(10)
    assert not retrying.is_alive()
    assert checked.state is LoginState.ACCEPTED
    assert f"Port at {port_emulator.url} accepted the credentials" in caplog.text


def test_a_refusal_found_in_the_background_is_handed_over(port_emulator: PortEmulator) -> None:
    port_emulator.faults.port_down()
    checked = login(port_emulator, secret="a-wrong-secret")
    assert checked.check() is False
    refusals: list[ConfigurationError] = []
    retrying = checked.keep_trying(threading.Event(), on_refused=refusals.append, first_wait=0.01)
    port_emulator.faults.port_up()
    retrying.join(10)
    assert not retrying.is_alive()
    assert [str(refusal).split(": ")[0] for refusal in refusals] == ["PORT_CLIENT_ID / PORT_CLIENT_SECRET"]
    assert checked.describe() == "refused: 401 unauthorized"


def test_the_background_retry_stops_when_asked(port_emulator: PortEmulator) -> None:
    port_emulator.faults.port_down()
    checked = login(port_emulator)
    stop = threading.Event()
    retrying = checked.keep_trying(stop, first_wait=0.01)
    stop.set()
    retrying.join(10)
    assert not retrying.is_alive()
    assert checked.state is not LoginState.ACCEPTED


def test_a_url_that_is_not_ports_api_is_named_as_such(kube: KubeApiServer) -> None:
    client = PortClient(kube.url, client_id="id", client_secret="secret", timeout=5)
    with pytest.raises(ConfigurationError) as raised:
        PortLogin(client, secret="secret").check()
    assert str(raised.value).startswith(
        f"PORT_API_URL: {kube.url} does not answer a token request as Port's API does: 404 "
    )
