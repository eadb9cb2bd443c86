"""Where ``port-bridge invoke`` reads the run: a workflow's inputs, in one of three shapes.

* ``--port-context JSON`` (or ``PORT_CONTEXT``): the object a ``GITHUB`` action's
  ``workflowInputs`` puts in its ``port_context`` input, with the webhook body's fields
  (``runId``, ``action``, ``operation``, ``blueprint``, ``inputs``, ``entity``, ``trigger``).
  Port's guides spell the run id ``runId`` or ``run_id`` and pass Port's whole ``.action`` and
  ``.trigger`` objects; all of these are read (the action's ``identifier`` and ``blueprint``,
  the trigger's ``operation``).
* ``--port-payload JSON`` (or ``PORT_PAYLOAD``): the legacy envelope older GitHub actions sent.
* flags: ``--run-id``, ``--action``, ``--inputs JSON``, ``--entity JSON``; they also replace
  those fields of a ``--port-context``.

The result is the body intake would have received, read by the same reader
(:func:`~port_bridge.intake.body.read_body`), so the same checks and messages follow. JSON in a
flag that is not JSON is a problem of that field: the run (whose id is known) is refused and
closed in Port, as the webhook refuses values it cannot process. What cannot name a run at all
(no shape given, two given) is a usage error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from port_bridge.intake.body import Body, BodyProblem, MalformedBody, read_body
from port_bridge.settings import ConfigurationError

CONTEXT_ENV = "PORT_CONTEXT"
PAYLOAD_ENV = "PORT_PAYLOAD"
_WHOLE_BODY = "the body "


@dataclass(frozen=True)
class RunFlags:
    """What the command line says about the run (``None``: not given)."""

    port_context: str | None = None
    port_payload: str | None = None
    run_id: str | None = None
    action: str | None = None
    inputs: str | None = None
    entity: str | None = None

    @property
    def fields(self) -> dict[str, str]:
        """The flags that set one field of the run, by the field they set."""
        given = {"runId": self.run_id, "action": self.action, "inputs": self.inputs, "entity": self.entity}
        return {field: value for field, value in given.items() if value is not None}


@dataclass(frozen=True)
class RunInput:
    """The body as intake would have read it, and where it came from (for messages)."""

    document: Any
    problems: tuple[BodyProblem, ...]
    origin: str


class Unreadable(Exception):
    """The run's JSON is not JSON at all: nothing names the run, as with the webhook's 400."""

    def __init__(self, origin: str, error: MalformedBody) -> None:
        super().__init__(str(error))
        self.origin, self.error = origin, error


def read_run(flags: RunFlags, environ: Mapping[str, str]) -> RunInput:
    """The run the flags (or the environment) give; :class:`Unreadable` or a usage error otherwise."""
    origin, text, legacy = _source(flags, environ)
    if legacy:
        if flags.fields:
            raise ConfigurationError(
                f"--{'-'.join(_FLAG_NAMES[name] for name in flags.fields)}: cannot be combined with "
                f"the legacy {origin}; give --port-context instead"
            )
        assert text is not None
        read = _read(text, origin)
        return RunInput(read.document, read.problems, origin)
    if text is None:
        if "runId" not in flags.fields and "action" not in flags.fields:
            raise ConfigurationError(
                f"no run given: pass --port-context JSON (or set {CONTEXT_ENV}), --port-payload JSON "
                f"(or {PAYLOAD_ENV}), or --run-id and --action"
            )
        document: dict[str, Any] = {}
        problems: list[BodyProblem] = []
        origin = "the flags"
    else:
        read = _read(text, origin)
        document, problems = _context(read.document), list(read.problems)
        if not isinstance(read.document, Mapping):
            kind = type(read.document).__name__.replace("dict", "object").replace("NoneType", "null")
            problems.append(BodyProblem("port_context", f"must be a JSON object, not {kind}"))
    for field, value in flags.fields.items():
        document.pop(field, None)
        if field in ("runId", "action"):
            document[field] = value
            continue
        problems = [problem for problem in problems if not _within(problem.path, field)]
        try:
            flag = read_body(value.encode())
        except MalformedBody as error:
            problems.append(BodyProblem(field, str(error).removeprefix(_WHOLE_BODY)))
            continue
        document[field] = flag.document
        problems += [_under(field, problem) for problem in flag.problems]
    return RunInput(document, tuple(problems), origin)


_FLAG_NAMES = {"runId": "run-id", "action": "action", "inputs": "inputs", "entity": "entity"}


def _source(flags: RunFlags, environ: Mapping[str, str]) -> tuple[str, str | None, bool]:
    """Where the run comes from, its JSON text, and whether it is the legacy envelope."""
    if flags.port_context is not None and flags.port_payload is not None:
        raise ConfigurationError("--port-context and --port-payload: give one of them, not both")
    if flags.port_context is not None:
        return "--port-context", flags.port_context, False
    if flags.port_payload is not None:
        return "--port-payload", flags.port_payload, True
    context, payload = environ.get(CONTEXT_ENV) or None, environ.get(PAYLOAD_ENV) or None
    if context is not None and payload is not None:
        raise ConfigurationError(f"{CONTEXT_ENV} and {PAYLOAD_ENV}: set one of them, not both")
    if payload is not None:
        return PAYLOAD_ENV, payload, True
    return CONTEXT_ENV, context, False


def _read(text: str, origin: str) -> Body:
    """``text`` read as intake reads a body; a JSON string holding JSON (``toJSON`` once too often)
    is read once more."""
    try:
        read = read_body(text.encode("utf-8", "surrogatepass"))
        if isinstance(read.document, str) and read.document.lstrip().startswith("{"):
            read = read_body(read.document.encode("utf-8", "surrogatepass"))
    except MalformedBody as error:
        raise Unreadable(origin, error) from None
    return read


def _context(context: Any) -> dict[str, Any]:
    """A ``port_context`` as the webhook body's fields (see the module's docstring)."""
    if not isinstance(context, Mapping):
        return {}
    document = dict(context)
    run_id = document.pop("run_id", None)
    document.setdefault("runId", run_id)
    if document["runId"] is None:
        del document["runId"]
    action = document.get("action")
    if isinstance(action, Mapping):
        document["action"] = action.get("identifier")
        if not document.get("blueprint") and isinstance(action.get("blueprint"), str):
            document["blueprint"] = action["blueprint"]
    trigger = document.get("trigger")
    operation = trigger.get("operation") if isinstance(trigger, Mapping) else None
    if not document.get("operation") and isinstance(operation, str):
        document["operation"] = operation
    return document


def _within(path: str, field: str) -> bool:
    return path == field or path.startswith(field + ".")


def _under(field: str, problem: BodyProblem) -> BodyProblem:
    return BodyProblem(f"{field}.{problem.path}" if problem.path else field, problem.message)
