"""Settings from the environment: every bad value is named by its variable, on one line."""

from __future__ import annotations

import os

import pytest

from port_bridge.settings import ConfigurationError, Settings, settings_from_environment

CREDENTIALS = {"PORT_CLIENT_ID": "id", "PORT_CLIENT_SECRET": "a-secret-value"}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with only the credentials set (nothing from the developer's shell)."""
    for name in list(os.environ):
        if name.startswith(("PORT_", "KUBECONFIG")):
            monkeypatch.delenv(name)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def refusal(environment: pytest.MonkeyPatch, **variables: str) -> str:
    for name, value in variables.items():
        environment.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        settings_from_environment()
    message = str(raised.value)
    assert "\n" not in message
    return message


def accepted(environment: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name, value in variables.items():
        environment.setenv(name, value)
    return settings_from_environment()


def test_defaults_are_valid(environment: pytest.MonkeyPatch) -> None:
    settings = accepted(environment)
    assert settings.port_api_url == "https://api.port.io"
    assert settings.link_template is None
    assert settings.kubeconfig is None


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT_BRIDGE_WORKERS", "many", "Input should be a valid integer"),
        ("PORT_BRIDGE_LEASE_SECONDS", "0", "Input should be greater than or equal"),
        ("PORT_BRIDGE_RETENTION", "a week", "must be a positive duration"),
        ("PORT_BRIDGE_RETENTION_SECONDS", "-1", "must be a positive duration"),
        ("PORT_BRIDGE_KUBE_TIMEOUT_SECONDS", "0", "Input should be greater"),
        ("PORT_BRIDGE_NAMESPACE", "Port_Bridge", "must be a Kubernetes namespace name"),
        ("PORT_BRIDGE_LEASE_NAME", "-lease", "must be a Kubernetes object name"),
        ("PORT_BRIDGE_IDENTITY", "", "String should have at least 1 character"),
        ("PORT_BRIDGE_PIPELINE_LOG_MAX_LINES", "-1", "must be 0 (no pipeline logs in Port runs) to 10000"),
        ("PORT_BRIDGE_PIPELINE_LOG_MAX_LINES", "20000", "must be 0 (no pipeline logs in Port runs) to 10000"),
        ("PORT_BRIDGE_PIPELINE_LOG_MAX_LINES", "lots", "Input should be a valid integer"),
        ("PORT_BRIDGE_PIPELINE_LOG_MAX_BYTES", "0", "must be 1 to 524288 bytes per run"),
        ("PORT_BRIDGE_PIPELINE_LOG_MAX_BYTES", "1048576", "must be 1 to 524288 bytes per run"),
        ("PORT_BRIDGE_PIPELINE_LOG_POLL_SECONDS", "0", "Input should be greater than 0"),
        ("PORT_BRIDGE_PIPELINE_LOG_POLL_SECONDS", "1e10", "Input should be less than or equal to 3600"),
        ("PORT_BRIDGE_RESYNC_SECONDS", "86401", "Input should be less than or equal to 86400"),
        ("PORT_BRIDGE_CATALOG_SYNC", "maybe", "Input should be a valid boolean"),
        ("PORT_BRIDGE_CATALOG_RESYNC_SECONDS", "soon", "must be a positive duration"),
        ("PORT_BRIDGE_CATALOG_DELETE_THRESHOLD", "0", "must be a share of the mirrored entities"),
        ("PORT_BRIDGE_CATALOG_DELETE_THRESHOLD", "150%", "must be a share of the mirrored entities"),
        ("PORT_BRIDGE_CATALOG_DELETE_THRESHOLD", "half", "must be a share of the mirrored entities"),
        ("PORT_BRIDGE_CATALOG_DELETE_FLOOR", "-1", "Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_value_is_named_by_its_variable(
    environment: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    assert refusal(environment, **{variable: value}).startswith(f"{variable}: {expected}")


def test_pipeline_log_bounds_have_defaults_and_zero_lines_turns_them_off(
    environment: pytest.MonkeyPatch,
) -> None:
    defaults = accepted(environment)
    assert (defaults.pipeline_log_max_lines, defaults.pipeline_log_max_bytes) == (200, 32768)
    assert accepted(environment, PORT_BRIDGE_PIPELINE_LOG_MAX_LINES="0").pipeline_log_max_lines == 0


def test_the_catalog_sync_settings(environment: pytest.MonkeyPatch) -> None:
    defaults = accepted(environment)
    assert (defaults.catalog_sync, defaults.catalog_resync_seconds) == (True, 600.0)
    assert (defaults.catalog_delete_threshold, defaults.catalog_delete_floor) == (0.5, 5)
    chosen = accepted(
        environment,
        PORT_BRIDGE_CATALOG_SYNC="off",
        PORT_BRIDGE_CATALOG_RESYNC_SECONDS="10m",
        PORT_BRIDGE_CATALOG_DELETE_THRESHOLD="25%",
        PORT_BRIDGE_CATALOG_DELETE_FLOOR="0",
    )
    assert (chosen.catalog_sync, chosen.catalog_resync_seconds) == (False, 600.0)
    assert (chosen.catalog_delete_threshold, chosen.catalog_delete_floor) == (0.25, 0)
    assert accepted(environment, PORT_BRIDGE_CATALOG_DELETE_THRESHOLD="1").catalog_delete_threshold == 1.0


def test_every_bad_value_is_listed_on_one_line(environment: pytest.MonkeyPatch) -> None:
    message = refusal(environment, PORT_BRIDGE_WORKERS="many", PORT_BRIDGE_LOG_LEVEL="loud")
    assert "PORT_BRIDGE_WORKERS: " in message
    assert "; PORT_BRIDGE_LOG_LEVEL: " in message
    assert "(got 'many')" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("api.port.io", "PORT_API_URL: must be a URL with scheme and host such as https://api.port.io "),
        ("ftp://api.port.io", "PORT_API_URL: must be a URL with scheme and host"),
        ("https://", "PORT_API_URL: must be a URL with scheme and host"),
        ("https://api.port.io/v1/blueprints", "PORT_API_URL: must be Port's API root"),
        ("https://api.port.io?region=eu", "PORT_API_URL: must be Port's API root"),
        ("https://api.port.io:eighty", "PORT_API_URL: has an invalid port"),
    ],
)
def test_port_api_url_needs_a_scheme_and_a_host(
    environment: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    assert refusal(environment, PORT_API_URL=value).startswith(expected)


@pytest.mark.parametrize(
    ("value", "root"),
    [
        ("https://api.port.io", "https://api.port.io"),
        ("https://api.us.port.io/", "https://api.us.port.io"),
        ("https://api.getport.io/v1", "https://api.getport.io"),
        ("https://api.us.getport.io/v1/", "https://api.us.getport.io"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_port_api_url_forms_the_readme_lists(environment: pytest.MonkeyPatch, value: str, root: str) -> None:
    assert accepted(environment, PORT_API_URL=value).port_api_url == root


def test_log_level_is_a_logging_level(environment: pytest.MonkeyPatch) -> None:
    assert refusal(environment, PORT_BRIDGE_LOG_LEVEL="verbose") == (
        "PORT_BRIDGE_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'verbose'"
    )
    assert accepted(environment, PORT_BRIDGE_LOG_LEVEL="debug").log_level == "DEBUG"
    assert accepted(environment, PORT_BRIDGE_LOG_LEVEL="warn").log_level == "WARNING"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "https://bridge.example.com/runs/{runId}",
            "unknown field {runId}; the fields are {run_id}, {namespace}, "
            "{name}, {kind}, {plural}, {action_run}",
        ),
        ("https://bridge.example.com/runs/{run_id", "is not a valid template"),
        ("https://bridge.example.com/runs/}", "is not a valid template"),
        ("https://bridge.example.com/runs/{run_id!z}", "is not a valid template"),
        (
            "https://bridge.example.com/runs/{run_id.nope}",
            "is not a valid template",
        ),
        ("https://bridge.example.com/runs/{}", "fields must be named"),
        ("bridge.example.com/runs/{run_id}", "must give an http(s) URL"),
    ],
)
def test_link_template_is_formatted_with_every_field_at_start(
    environment: pytest.MonkeyPatch, template: str, expected: str
) -> None:
    message = refusal(environment, PORT_BRIDGE_LINK_TEMPLATE=template)
    assert message.startswith(f"PORT_BRIDGE_LINK_TEMPLATE: {expected}")


@pytest.mark.parametrize(
    "template",
    [
        "https://bridge.example.com/runs/{run_id}",
        "https://k8s.example.com/{namespace}/{kind}/{plural}/{name}?run={action_run}&x={{literal}}",
    ],
)
def test_link_templates_with_documented_fields_pass(environment: pytest.MonkeyPatch, template: str) -> None:
    assert accepted(environment, PORT_BRIDGE_LINK_TEMPLATE=template).link_template == template


def test_an_empty_link_template_is_none(environment: pytest.MonkeyPatch) -> None:
    assert accepted(environment, PORT_BRIDGE_LINK_TEMPLATE="").link_template is None


def test_lease_timings_must_nest_and_the_variable_set_is_blamed(environment: pytest.MonkeyPatch) -> None:
    assert refusal(environment, PORT_BRIDGE_LEASE_SECONDS="5") == (
        "PORT_BRIDGE_LEASE_SECONDS: must be longer than PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS (10 s), "
        "not 5 s (retry < renew deadline < lease)"
    )
    environment.delenv("PORT_BRIDGE_LEASE_SECONDS")
    assert refusal(environment, PORT_BRIDGE_LEASE_RETRY_SECONDS="10") == (
        "PORT_BRIDGE_LEASE_RETRY_SECONDS: must be shorter than PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS "
        "(10 s), not 10 s (retry < renew deadline < lease)"
    )
    environment.delenv("PORT_BRIDGE_LEASE_RETRY_SECONDS")
    assert refusal(
        environment, PORT_BRIDGE_LEASE_SECONDS="4", PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS="4.5"
    ).startswith(
        "PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS: must be shorter than PORT_BRIDGE_LEASE_SECONDS (4 s)"
    )
    settings = accepted(
        environment,
        PORT_BRIDGE_LEASE_SECONDS="2",
        PORT_BRIDGE_LEASE_RENEW_DEADLINE_SECONDS="1.5",
        PORT_BRIDGE_LEASE_RETRY_SECONDS="0.2",
    )
    assert (settings.lease_retry_seconds, settings.lease_renew_deadline_seconds) == (0.2, 1.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT_BRIDGE_BIND", "8080"),
        ("PORT_BRIDGE_BIND", "0.0.0.0:http"),
        ("PORT_BRIDGE_BIND", "0.0.0.0:70000"),
        ("PORT_BRIDGE_CONTROLLER_BIND", "localhost"),
    ],
)
def test_bind_addresses_are_host_and_port(environment: pytest.MonkeyPatch, variable: str, value: str) -> None:
    assert refusal(environment, **{variable: value}) == (
        f"{variable}: must be HOST:PORT such as 0.0.0.0:8080, not {value!r}"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT_BRIDGE_BIND", "[::]:8080"),
        ("PORT_BRIDGE_BIND", "unix:/run/port-bridge.sock"),
        ("PORT_BRIDGE_CONTROLLER_BIND", ""),
        ("PORT_BRIDGE_CONTROLLER_BIND", "127.0.0.1:0"),
    ],
)
def test_bind_addresses_gunicorn_and_the_controller_take(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    accepted(environment, **{variable: value})


def test_an_empty_kubeconfig_variable_means_unset(environment: pytest.MonkeyPatch) -> None:
    assert accepted(environment, KUBECONFIG="").kubeconfig is None


def test_missing_credentials_name_both_variables(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("PORT_CLIENT_SECRET")
    with pytest.raises(ConfigurationError, match=r"^PORT_CLIENT_SECRET must be set \(Port app"):
        settings_from_environment().require_port_credentials()
