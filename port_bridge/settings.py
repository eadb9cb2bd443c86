"""Configuration from the environment, validated once when a command starts.

Port's credentials keep the names Port's own tools use (``PORT_CLIENT_ID``,
``PORT_CLIENT_SECRET``, ``PORT_API_URL``); Kubernetes access follows the usual rules (in-cluster,
else ``KUBECONFIG``); the bridge's own settings are prefixed ``PORT_BRIDGE_``. Settings are built
by the command that runs (``main``, the app factory's caller), never at import time.

Every problem is reported by the environment variable a person sets, not by the field name
(``PORT_BRIDGE_LEASE_SECONDS: ...``), on one line, so a misconfigured pod says what to change.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from port_bridge.mapping.actions import parse_duration

EU_API_URL = "https://api.port.io"
PORT_API_HOSTS = {  # every documented hostname, current and older, by region
    "api.port.io": "eu",
    "api.getport.io": "eu",
    "api.us.port.io": "us",
    "api.us.getport.io": "us",
}
MIB = 1024 * 1024
ENV_PREFIX = "PORT_BRIDGE_"
MAX_PIPELINE_LOG_LINES = 10_000
MAX_PIPELINE_LOG_BYTES = 512 * 1024
LINK_FIELDS = ("run_id", "namespace", "name", "kind", "plural", "action_run")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SECRET_FIELDS = {"port_client_secret", "runs_token"}


def _default_identity() -> str:
    """The pod's name where Kubernetes provides it (``POD_NAME`` from the downward API), else host and pid."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


class ConfigurationError(Exception):
    """The bridge cannot start as configured; the message (one line) says what to change."""


class Settings(BaseSettings):
    """Every setting, its environment variable and its default (the README lists the same)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    # Port
    port_client_id: str = Field(default="", validation_alias=AliasChoices("PORT_CLIENT_ID", "port_client_id"))
    port_client_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("PORT_CLIENT_SECRET", "port_client_secret")
    )
    port_api_url: str = Field(
        default=EU_API_URL, validation_alias=AliasChoices("PORT_API_URL", "port_api_url")
    )

    # Kubernetes
    kubeconfig: Path | None = Field(default=None, validation_alias=AliasChoices("KUBECONFIG", "kubeconfig"))
    namespace: str = "port-bridge"  # where ActionRuns live (PORT_BRIDGE_NAMESPACE)
    kube_timeout_seconds: float = Field(default=10.0, gt=0)  # per Kubernetes API call
    kube_retry_seconds: float = Field(default=3.0, ge=0)  # intake retries storing a run this long, then 503

    # Intake
    config_dir: Path = Path()  # holds actions/, blueprints/, scorecards/ (PORT_BRIDGE_CONFIG_DIR)
    bind: str = "0.0.0.0:8080"
    workers: int = Field(default=2, ge=1)
    threads: int = Field(default=4, ge=1)  # per worker
    replay_window_seconds: int = Field(default=300, ge=1)
    max_body_bytes: int = Field(default=MIB, ge=1024)
    log_level: str = "INFO"
    runs_token: SecretStr | None = None  # bearer token for GET /runs pages (PORT_BRIDGE_RUNS_TOKEN)

    # Controller
    identity: str = Field(default_factory=_default_identity, min_length=1)  # this replica's name in the Lease
    lease_name: str = "port-bridge-controller"
    lease_seconds: int = Field(default=15, ge=1)
    lease_renew_deadline_seconds: float = Field(default=10.0, gt=0)
    lease_retry_seconds: float = Field(default=2.0, gt=0)
    controller_workers: int = Field(default=4, ge=1)
    controller_bind: str = "0.0.0.0:8081"
    resync_seconds: float = Field(default=30.0, gt=0, le=86_400)
    retention_seconds: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        validation_alias=AliasChoices(
            "PORT_BRIDGE_RETENTION", "PORT_BRIDGE_RETENTION_SECONDS", "retention_seconds"
        ),
    )
    port_retry_seconds: float = Field(default=5.0, gt=0)  # per Port call, before the run is retried later
    link_template: str | None = None  # e.g. https://bridge.example.com/runs/{run_id}
    # Pipeline Pods' logs in the Port run, bounded per run (port_bridge/pipelinelogs); 0 lines: off
    pipeline_log_max_lines: int = 200
    pipeline_log_max_bytes: int = 32 * 1024
    pipeline_log_poll_seconds: float = Field(default=2.0, gt=0, le=3600)

    # Catalog sync (port_bridge/catalogsync)
    catalog_sync: bool = True
    catalog_resync_seconds: float = Field(default=600.0, gt=0)  # a full pass this often
    catalog_delete_threshold: float = 0.5  # the share of the mirrored entities one pass may delete
    catalog_delete_floor: int = Field(default=5, ge=0)  # a pass deleting this many or fewer is never held

    @field_validator("catalog_resync_seconds", mode="before")
    @classmethod
    def _catalog_resync(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("catalog_delete_threshold", mode="before")
    @classmethod
    def _catalog_share(cls, value: Any) -> float:
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise ValueError(
                f"must be a share of the mirrored entities above 0 and at most 100%, such as 50% or 0.5, "
                f"not {value!r}"
            )
        return share

    @field_validator("retention_seconds", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("pipeline_log_max_lines")
    @classmethod
    def _pipeline_log_lines(cls, value: int) -> int:
        if not 0 <= value <= MAX_PIPELINE_LOG_LINES:
            raise ValueError(
                f"must be 0 (no pipeline logs in Port runs) to {MAX_PIPELINE_LOG_LINES} lines per run "
                f"(each is a Port API call and a line kept in the ActionRun), not {value}"
            )
        return value

    @field_validator("pipeline_log_max_bytes")
    @classmethod
    def _pipeline_log_bytes(cls, value: int) -> int:
        if not 1 <= value <= MAX_PIPELINE_LOG_BYTES:
            raise ValueError(
                f"must be 1 to {MAX_PIPELINE_LOG_BYTES} bytes per run (the lines are kept in the "
                f"ActionRun, and Kubernetes stores objects of at most 1.5 MiB), not {value}"
            )
        return value

    @field_validator("runs_token", mode="before")
    @classmethod
    def _runs_token(cls, value: Any) -> Any:
        return None if value in ("", None) else value  # PORT_BRIDGE_RUNS_TOKEN= means no token

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _kubeconfig(cls, value: Any) -> Any:
        return None if value == "" else value  # KUBECONFIG= means not set, as kubectl reads it

    @field_validator("port_api_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        return api_root(value)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                f"must be a Kubernetes namespace name (lower-case letters, digits, '-'), not {value!r}"
            )
        return value

    @field_validator("lease_name")
    @classmethod
    def _lease_name(cls, value: str) -> str:
        if len(value) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in value.split(".")):
            raise ValueError(
                f"must be a Kubernetes object name (lower-case letters, digits, '-', '.'), not {value!r}"
            )
        return value

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        if not value.startswith(("unix:", "fd://")):
            split_address(value)
        return value

    @field_validator("controller_bind")
    @classmethod
    def _controller_bind(cls, value: str) -> str:
        if value:
            split_address(value)
        return value

    @field_validator("link_template")
    @classmethod
    def _link_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        check_link_template(value)
        return value

    @model_validator(mode="after")
    def _lease_timings_nest(self) -> Self:
        """client-go's rule: a leader retries within its renew deadline, which ends before the Lease does."""
        retry, deadline, lease = "lease_retry_seconds", "lease_renew_deadline_seconds", "lease_seconds"
        for shorter, longer in ((retry, deadline), (deadline, lease)):
            short_value, long_value = getattr(self, shorter), getattr(self, longer)
            if short_value < long_value:
                continue
            if longer in self.model_fields_set and shorter not in self.model_fields_set:
                raise ValueError(
                    f"{env_name(longer)}: must be longer than {env_name(shorter)} ({short_value:g} s), "
                    f"not {long_value:g} s (retry < renew deadline < lease)"
                )
            raise ValueError(
                f"{env_name(shorter)}: must be shorter than {env_name(longer)} ({long_value:g} s), "
                f"not {short_value:g} s (retry < renew deadline < lease)"
            )
        return self

    @property
    def actions_dir(self) -> Path:
        return self.config_dir / "actions"

    def require_port_credentials(self) -> None:
        missing = [
            name
            for name, value in (
                ("PORT_CLIENT_ID", self.port_client_id),
                ("PORT_CLIENT_SECRET", self.port_client_secret.get_secret_value()),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"{' and '.join(missing)} must be set (Port app → Credentials)")

    def redacted(self) -> dict[str, Any]:
        """The settings as they may be logged: secrets masked."""
        shown = self.model_dump()
        shown["port_client_secret"] = "***" if self.port_client_secret.get_secret_value() else ""
        shown["runs_token"] = "***" if self.runs_token else None
        return shown

    @property
    def secret_values(self) -> list[str]:
        """Every secret the settings hold, for the log filter to mask."""
        token = self.runs_token.get_secret_value() if self.runs_token else ""
        return [value for value in (self.port_client_secret.get_secret_value(), token) if value]


def settings_from_environment() -> Settings:
    """The settings the environment gives; :class:`ConfigurationError` names every bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError("; ".join(_describe(problem) for problem in error.errors())) from None


def env_name(field: str) -> str:
    """The environment variable that sets ``field``: the one set, if it has several names."""
    alias = Settings.model_fields[field].validation_alias
    if not isinstance(alias, AliasChoices):
        return ENV_PREFIX + field.upper()
    names = [choice for choice in alias.choices if isinstance(choice, str) and choice.isupper()]
    present = {name.upper() for name in os.environ}
    return next((name for name in names if name in present), names[0])


def _field_of(location: str) -> str | None:
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if location == field or (isinstance(alias, AliasChoices) and location in alias.choices):
            return field
    return None


def _describe(problem: Any) -> str:
    message = " ".join(str(problem["msg"]).removeprefix("Value error, ").split())
    location = problem["loc"]
    if not location:  # a check across settings names its variables itself
        return message
    field = _field_of(str(location[0]))
    name = env_name(field) if field is not None else str(location[0]).upper()
    if problem["type"] != "value_error" and field not in _SECRET_FIELDS:
        message += f" (got {problem['input']!r})"
    return f"{name}: {message}"


def api_root(value: str) -> str:
    """Port's API root from ``PORT_API_URL``: with or without ``/v1`` and a trailing slash."""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = f"https://{url}" if url and "://" not in url else EU_API_URL
        raise ValueError(
            f"must be a URL with scheme and host such as {hint} "
            f"(US region: https://api.us.port.io), not {value!r}"
        )
    if parts.path not in ("", "/v1") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            f"must be Port's API root such as {EU_API_URL} (optionally ending in /v1), not {value!r}"
        )
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        raise ValueError(f"has an invalid port: {value!r}") from None
    return url.removesuffix("/v1")


def check_link_template(template: str) -> None:
    """Format the template with a value for every documented field; raise ``ValueError`` if it fails."""
    fields = ", ".join("{" + field + "}" for field in LINK_FIELDS)
    try:
        link = template.format(**{field: f"x-{field}" for field in LINK_FIELDS})
    except KeyError as error:
        raise ValueError(f"unknown field {{{error.args[0]}}}; the fields are {fields}") from None
    except IndexError:
        raise ValueError(f"fields must be named ({fields}), not positional like {{}} or {{0}}") from None
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(
            f"is not a valid template ({error}); fields are written {{run_id}}, a literal brace {{{{ or }}}}"
        ) from None
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"must give an http(s) URL such as https://bridge.example.com/runs/{{run_id}}, not {template!r}"
        )


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (host may be empty or ``[IPv6]``) as host and port; ``ValueError`` if malformed."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"must be HOST:PORT such as 0.0.0.0:8080, not {address!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)
