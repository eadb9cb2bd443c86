"""``port-bridge scorecards``: the level each entity reaches on each scorecard, and why not higher.

Entities come from Port (every entity of ``--blueprint``, or of every blueprint that has a
scorecard) or from a file (``--file``); scorecards from a directory laid out as the project's
``scorecards/`` (``--scorecards DIR``, default ``$PORT_BRIDGE_CONFIG_DIR/scorecards``) or from Port
(``--scorecards port``). Port is only asked when one of the two comes from it, so a file and a
directory need no credentials. Input the command cannot use ends it with exit status 2 and one
line naming the option, file or field; a Port that does not answer, with status 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from port_bridge.port.client import PortClient
from port_bridge.port.errors import NotFound, PortApiError, PortError
from port_bridge.scorecards.entity import Entity
from port_bridge.scorecards.evaluate import evaluate
from port_bridge.scorecards.files import (
    InputError,
    load_entities,
    load_scorecard_dir,
    parse_entities,
    parse_scorecard,
)
from port_bridge.scorecards.model import Scorecard
from port_bridge.scorecards.report import Evaluation, as_json, as_table
from port_bridge.settings import ConfigurationError, Settings, env_name, settings_from_environment

FROM_PORT = "port"
PORT_RETRY_SECONDS = 30.0
Output = Literal["table", "json"]


@dataclass(frozen=True)
class Options:
    blueprint: str | None = None
    file: Path | None = None
    scorecards: str | None = None
    """A directory, or ``port``; ``None``: the ``scorecards`` directory of the configuration."""
    output: Output = "table"


def run_scorecards(options: Options, *, out: TextIO, err: TextIO, now: datetime | None = None) -> int:
    """Print the evaluation; the exit status: 0, 2 for unusable input, 1 when Port did not answer."""
    try:
        evaluations = _evaluate(options, now=now or datetime.now(UTC))
    except (InputError, ConfigurationError) as error:
        print(f"port-bridge scorecards: {' '.join(str(error).split())}", file=err)
        return 2
    except PortError as error:
        print(f"port-bridge scorecards: {' '.join(str(error).split())}", file=err)
        return 1
    try:
        print(as_json(evaluations) if options.output == "json" else as_table(evaluations), file=out)
        out.flush()
    except BrokenPipeError:  # the reader left early (``| head``): nothing more to say to it
        _silence(out)
    return 0


def _evaluate(options: Options, *, now: datetime) -> list[Evaluation]:
    settings = settings_from_environment()
    needs_port = options.file is None or options.scorecards == FROM_PORT
    with _Sources(options, settings, _port_client(settings) if needs_port else None) as sources:
        entities = sources.entities()
        scorecards = sources.scorecards({blueprint for blueprint, _ in entities})
    return [
        Evaluation(blueprint, entity, scorecard, evaluate(entity, scorecard, now=now))
        for blueprint, entity in entities
        for scorecard in scorecards[blueprint]
    ]


class _Sources:
    """Where entities and scorecards come from, as the options say."""

    def __init__(self, options: Options, settings: Settings, port: PortClient | None) -> None:
        self._options, self._settings, self._port = options, settings, port
        self._from_port: dict[str, list[Scorecard]] | None = None

    def __enter__(self) -> _Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._port is not None:
            self._port.close()

    def entities(self) -> list[tuple[str, Entity]]:
        """``(blueprint, entity)`` pairs, in the order the source gives them."""
        wanted = self._options.blueprint
        if self._options.file is not None:
            return _of_blueprint(load_entities(self._options.file), wanted, source=str(self._options.file))
        port = self._require_port()
        blueprints = [wanted] if wanted is not None else sorted(self._all_scorecards())
        found: list[tuple[str, Entity]] = []
        for blueprint in blueprints:
            try:
                documents = port.list_entities(blueprint)
            except NotFound:
                if wanted is not None:
                    raise InputError(f"--blueprint {blueprint}: Port has no such blueprint") from None
                raise InputError(
                    f"Port has no blueprint {blueprint!r}, which has scorecards in {self._where()}"
                ) from None
            found += [(blueprint, entity) for entity in parse_entities(documents, source=f"Port {blueprint}")]
        return found

    def scorecards(self, blueprints: Iterable[str]) -> dict[str, list[Scorecard]]:
        """The scorecards of every blueprint given; a blueprint without any is refused."""
        wanted = set(blueprints)
        if self._options.blueprint is not None:
            wanted.add(self._options.blueprint)
        if self._options.scorecards == FROM_PORT:
            found, where = self._port_scorecards(wanted), "Port"
        else:
            directory, option = self._directory()
            try:
                found = load_scorecard_dir(directory, blueprints=wanted)
            except InputError as error:
                raise InputError(f"{option}: {error}") from None
            where = self._where()
        for blueprint in sorted(wanted):
            if not found.get(blueprint):
                raise InputError(f"blueprint {blueprint!r} has no scorecards in {where}")
        return found

    def _where(self) -> str:
        if self._options.scorecards == FROM_PORT:
            return "Port"
        directory, option = self._directory()
        return f"{directory} ({option})"

    def _directory(self) -> tuple[Path, str]:
        if self._options.scorecards is not None:
            return Path(self._options.scorecards), "--scorecards"
        return self._settings.config_dir / "scorecards", env_name("config_dir")

    def _port_scorecards(self, blueprints: Iterable[str]) -> dict[str, list[Scorecard]]:
        if self._from_port is not None:
            return self._from_port
        port, found = self._require_port(), {}
        for blueprint in sorted(blueprints):
            try:
                documents = port.list_scorecards(blueprint)
            except NotFound:
                raise InputError(f"blueprint {blueprint!r}: Port has no such blueprint") from None
            found[blueprint] = [
                parse_scorecard(document, source=f"Port scorecard {blueprint}/{document.get('identifier')}")
                for document in documents
            ]
        return found

    def _all_scorecards(self) -> dict[str, list[Scorecard]]:
        """Every scorecard by blueprint, from the directory or from Port: the blueprints to read."""
        if self._options.scorecards != FROM_PORT:
            directory, where = self._directory()
            try:
                return load_scorecard_dir(directory)
            except InputError as error:
                raise InputError(f"{where}: {error}") from None
        found: dict[str, list[Scorecard]] = {}
        for document in self._require_port().list_scorecards():
            blueprint = str(document.get("blueprint") or "")
            source = f"Port scorecard {blueprint}/{document.get('identifier')}"
            found.setdefault(blueprint, []).append(parse_scorecard(document, source=source))
        self._from_port = found
        return found

    def _require_port(self) -> PortClient:
        assert self._port is not None, "Port is read only when the options ask for it"
        return self._port


def _silence(out: TextIO) -> None:
    """Point ``out`` at /dev/null so the interpreter's last flush does not fail again."""
    try:
        descriptor = out.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def _of_blueprint(entities: list[Entity], wanted: str | None, *, source: str) -> list[tuple[str, Entity]]:
    """The file's entities of ``wanted`` (one naming no blueprint is taken as of it), or of each one's own."""
    found: list[tuple[str, Entity]] = []
    for index, entity in enumerate(entities):
        blueprint = entity.blueprint or wanted
        if blueprint is None:
            raise InputError(
                f"{source}: entities[{index}] ({entity.identifier}) names no blueprint; "
                'add "blueprint" to it or pass --blueprint'
            )
        if wanted is None or blueprint == wanted:
            found.append((blueprint, entity))
    return found


def _port_client(settings: Settings) -> PortClient:
    """A client Port has accepted the credentials of (one try: a command should not hang)."""
    from port_bridge.startup import API_URL, CREDENTIAL_REFUSALS, CREDENTIALS

    settings.require_port_credentials()
    url = settings.port_api_url
    client = PortClient(
        url,
        client_id=settings.port_client_id,
        client_secret=settings.port_client_secret.get_secret_value(),
        max_retry_seconds=PORT_RETRY_SECONDS,
    )
    try:
        client.check_credentials()
    except PortApiError as error:
        client.close()
        answer = f"{error.status} {error.code}"
        if error.status in CREDENTIAL_REFUSALS:
            raise ConfigurationError(
                f"{CREDENTIALS}: Port at {url} refused the credentials ({answer})"
            ) from None
        raise ConfigurationError(
            f"{API_URL}: {url} does not answer a token request as Port does ({answer})"
        ) from None
    except PortError:
        client.close()
        raise
    return client
