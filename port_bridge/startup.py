"""The checks ``serve``, ``controller`` and ``run`` make before they start.

A misconfiguration stops the process with exit status 2 and one line naming the environment
variable to change (:class:`~port_bridge.settings.ConfigurationError`), before gunicorn forks
or a Lease is taken: the settings, the action files, the listening addresses, the Kubernetes
configuration, and Port's answer to the credentials. What may heal by itself is only logged,
with the address that did not answer: an unreachable Kubernetes API server (the processes retry
it anyway), and a Port that does not answer the token request (:class:`PortLogin` keeps asking
in the background; intake's ``/readyz`` shows how that stands).
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping

import kubernetes
from kubernetes.client import ApiException

from port_bridge.kube.client import (
    IN_CLUSTER_ENV,
    KUBECONFIG_ENV,
    KubeConfigError,
    api_client,
    describe_unavailable,
    is_unavailable,
    server_url,
)
from port_bridge.mapping.actions import ActionConfig, ActionConfigError, load_actions
from port_bridge.port.client import PortClient
from port_bridge.port.errors import PortApiError, PortUnavailable
from port_bridge.scorecards.files import InputError, load_scorecard_dir
from port_bridge.scorecards.model import Scorecard
from port_bridge.settings import ConfigurationError, Settings, env_name, split_address

log = logging.getLogger(__name__)
CREDENTIALS = "PORT_CLIENT_ID / PORT_CLIENT_SECRET"
CREDENTIAL_REFUSALS = (400, 401, 403, 422)  # how Port's token endpoint says no to a client id and secret
API_URL = "PORT_API_URL"
KUBE_PROBE_TIMEOUT = (2.0, 5.0)  # connect, read
MAX_LOGIN_WAIT = 60.0


def check_actions(settings: Settings) -> dict[str, ActionConfig]:
    """The action files, all valid and at least one."""
    variable = env_name("config_dir")
    try:
        actions = load_actions(settings.actions_dir)
    except ActionConfigError as error:
        raise ConfigurationError(f"{variable}: invalid action files: {'; '.join(error.problems)}") from None
    except OSError as error:
        raise ConfigurationError(f"{variable}: cannot read {error.filename}: {error.strerror}") from None
    if not actions:
        raise ConfigurationError(
            f"{variable}: {settings.actions_dir} holds no action files (*.yaml, *.yml or *.json); "
            "every run would be refused"
        )
    return actions


def check_scorecards(settings: Settings, actions: Mapping[str, ActionConfig]) -> dict[str, list[Scorecard]]:
    """The scorecard files (by blueprint), valid, and every one an entity mapping computes readiness from."""
    variable = env_name("config_dir")
    directory = settings.config_dir / "scorecards"
    try:
        scorecards = load_scorecard_dir(directory) if directory.is_dir() else {}
    except InputError as error:
        raise ConfigurationError(f"{variable}: {error}") from None
    for config in actions.values():
        for mapping in config.request_mappings:
            entity = mapping.entity
            if entity is None:
                continue
            known = {card.identifier for card in scorecards.get(entity.blueprint, [])}
            for prop, identifier in entity.readiness.items():
                if identifier not in known:
                    raise ConfigurationError(
                        f"{variable}: {config.source}: entity.readiness.{prop} names scorecard "
                        f"{identifier!r}, which {directory / entity.blueprint} does not hold"
                    )
    return scorecards


def check_bind(field: str, address: str) -> None:
    """That the process can listen on ``address`` (the setting ``field``): resolvable, free, allowed."""
    if not address or address.startswith(("unix:", "fd://")):
        return
    variable = env_name(field)
    host, port = split_address(address)
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn and werkzeug do
            probe.bind(sockaddr)
    except socket.gaierror as error:
        raise ConfigurationError(f"{variable}: cannot resolve the host {host!r}: {error.strerror}") from None
    except OSError as error:
        raise ConfigurationError(f"{variable}: cannot listen on {address}: {error.strerror}") from None


def connect_kubernetes(settings: Settings) -> kubernetes.client.ApiClient:
    """A client from the configuration (which must load); says so in the log if the server does not answer."""
    try:
        client = api_client(kubeconfig=settings.kubeconfig)
    except KubeConfigError as error:
        raise ConfigurationError(str(error)) from None
    url = server_url(client)
    try:
        version = kubernetes.client.VersionApi(client).get_code(_request_timeout=KUBE_PROBE_TIMEOUT)
    except Exception as error:
        if is_unavailable(error):
            log.warning(
                "the Kubernetes API server at %s does not answer (%s); starting anyway, it is retried",
                url,
                describe_unavailable(error),
            )
        elif isinstance(error, ApiException) and error.status == 401:
            in_cluster = settings.kubeconfig is None and bool(os.environ.get(IN_CLUSTER_ENV))
            source = IN_CLUSTER_ENV if in_cluster else KUBECONFIG_ENV
            raise ConfigurationError(
                f"{source}: the Kubernetes API server at {url} refused the credentials (401 Unauthorized)"
            ) from None
        else:
            log.warning("the Kubernetes API server at %s %s", url, describe_unavailable(error))
        return client
    log.info("the Kubernetes API server at %s answers (%s)", url, version.git_version)
    return client


class LoginState(enum.Enum):
    UNCHECKED = "unchecked"
    ACCEPTED = "accepted"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


class PortLogin:
    """Whether Port accepts the credentials: one try at a time, and a background retry until it answers."""

    def __init__(
        self, client: PortClient, *, secret: str, state: LoginState = LoginState.UNCHECKED, detail: str = ""
    ) -> None:
        self._client, self._secret = client, secret
        self.state, self.detail = state, detail

    def describe(self) -> str:
        return f"{self.state.value}: {self.detail}" if self.detail else self.state.value

    def check(self) -> bool:
        """One try: ``True`` if Port accepted, ``False`` if it did not answer; a refusal raises.

        The refusal is a :class:`ConfigurationError` naming the variables and quoting Port's message.
        """
        url = self._client.base_url
        try:
            self._client.check_credentials()
        except PortApiError as error:
            self.state, self.detail = LoginState.REFUSED, f"{error.status} {error.code}"
            message = error.message.replace(self._secret, "***") if self._secret else error.message
            answer = f"{error.status} {error.code}: {message} (trace id {error.trace_id or 'none'})"
            if error.status in CREDENTIAL_REFUSALS:
                raise ConfigurationError(
                    f"{CREDENTIALS}: Port at {url} refused the credentials: {answer}"
                ) from None
            raise ConfigurationError(  # a 404, or a page that is not JSON: not Port's API
                f"{API_URL}: {url} does not answer a token request as Port's API does: {answer}"
            ) from None
        except PortUnavailable as error:
            first = self.state is not LoginState.UNREACHABLE
            cause = type(error.__cause__).__name__
            self.state = LoginState.UNREACHABLE
            self.detail = f"answered {error.status}" if error.status else f"no answer: {cause}"
            log.log(
                logging.WARNING if first else logging.INFO,
                "cannot get a token from Port at %s (%s); going on, asking again in the background",
                url,
                self.detail,
            )
            return False
        self.state, self.detail = LoginState.ACCEPTED, ""
        return True

    def keep_trying(
        self,
        stop: threading.Event,
        *,
        on_refused: Callable[[ConfigurationError], None] | None = None,
        first_wait: float = 1.0,
    ) -> threading.Thread:
        """Ask again, with growing waits, until Port answers or ``stop`` is set; a refusal is logged."""

        def retry() -> None:
            wait = first_wait
            while not stop.wait(wait):
                try:
                    if self.check():
                        log.info("Port at %s accepted the credentials", self._client.base_url)
                        return
                except ConfigurationError as refusal:
                    log.error("%s", refusal)
                    if on_refused is not None:
                        on_refused(refusal)
                    return
                wait = min(2 * wait, MAX_LOGIN_WAIT)

        thread = threading.Thread(target=retry, name="port-login", daemon=True)
        thread.start()
        return thread
