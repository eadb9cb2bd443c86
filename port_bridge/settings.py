"""Configuration from the environment, validated once when a command starts.

Port's credentials keep the names Port's own tools use (``PORT_CLIENT_ID``,
``PORT_CLIENT_SECRET``, ``PORT_API_URL``); Kubernetes access follows the usual rules (in-cluster,
else ``KUBECONFIG``); the bridge's own settings are prefixed ``PORT_BRIDGE_``. Settings are built
by the command that runs (``main``, the app factory's caller), never at import time.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
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


def _default_identity() -> str:
    """The pod's name where Kubernetes provides it (``POD_NAME`` from the downward API), else host and pid."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"


class ConfigurationError(Exception):
    """The bridge cannot start as configured; the message says what to change."""


class Settings(BaseSettings):
    """Every setting, its environment variable and its default (the README lists the same)."""

    model_config = SettingsConfigDict(env_prefix="PORT_BRIDGE_", extra="ignore", populate_by_name=True)

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
    kube_timeout_seconds: float = 10.0  # per Kubernetes API call
    kube_retry_seconds: float = 3.0  # intake retries storing a run this long before answering 503

    # Intake
    config_dir: Path = Path()  # holds actions/, blueprints/, scorecards/ (PORT_BRIDGE_CONFIG_DIR)
    bind: str = "0.0.0.0:8080"
    workers: int = Field(default=2, ge=1)
    threads: int = Field(default=4, ge=1)  # per worker
    replay_window_seconds: int = Field(default=300, ge=1)
    max_body_bytes: int = Field(default=MIB, ge=1024)
    log_level: str = "INFO"

    # Controller
    identity: str = Field(default_factory=_default_identity)  # this replica's name in the Lease
    lease_name: str = "port-bridge-controller"
    lease_seconds: int = Field(default=15, ge=1)
    lease_renew_deadline_seconds: float = Field(default=10.0, gt=0)
    lease_retry_seconds: float = Field(default=2.0, gt=0)
    controller_workers: int = Field(default=4, ge=1)
    controller_bind: str = "0.0.0.0:8081"
    resync_seconds: float = Field(default=30.0, gt=0)
    retention_seconds: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        validation_alias=AliasChoices(
            "PORT_BRIDGE_RETENTION", "PORT_BRIDGE_RETENTION_SECONDS", "retention_seconds"
        ),
    )
    port_retry_seconds: float = Field(default=5.0, gt=0)  # per Port call, before the run is retried later
    link_template: str | None = None  # e.g. https://bridge.example.com/runs/{run_id}

    @field_validator("retention_seconds", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("port_api_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        """Accept the URL with or without ``/v1`` and a trailing slash."""
        value = value.strip().rstrip("/")
        return value.removesuffix("/v1")

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
            raise ValueError(f"{' and '.join(missing)} must be set (Port app → Credentials)")

    def redacted(self) -> dict[str, Any]:
        """The settings as they may be logged: secrets masked."""
        shown = self.model_dump()
        shown["port_client_secret"] = "***" if self.port_client_secret.get_secret_value() else ""
        return shown
