"""The ActionRun as typed data: what intake stores, what the controller records, what the run page shows.

An ActionRun is a custom object in the cluster (``deploy/crds/``), read and written as JSON by the
API server. Everything port-bridge reads from it goes through these models, so a misspelt key is a
type error rather than a run that silently never ends. The models follow the object's camelCase
JSON (``runId``, ``submittedGeneration``) through aliases; Python code uses snake_case names.

Parsing is lenient where older controllers wrote other shapes (a journal line as a bare string) and
ignores keys it does not know, so two controller versions can share objects during an upgrade. A
spec that cannot be parsed at all raises :class:`MalformedActionRun`: the run cannot be followed and
is closed as FAILURE with that message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from port_bridge.kube.objects import Object, Resource
from port_bridge.mapping.document import run_document

Operation = Literal["CREATE", "DAY-2", "DELETE"]
Result = Literal["SUCCESS", "FAILURE"]
SUCCESS: Result = "SUCCESS"
FAILURE: Result = "FAILURE"
DEFAULT_TIMEOUT_SECONDS = 30 * 60.0
MAIN = "main"  # the id of a run's only (or first) request


class MalformedActionRun(ValueError):
    """The object is not an ActionRun port-bridge can follow; the message says which field is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    def to_json(self) -> dict[str, Any]:
        """The object's JSON, as stored in the cluster (camelCase, no empty values)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- spec: what intake stored ------------------------------------------------------------------


class RecordedProblem(_Model):
    field: str
    message: str


class RecordedRejection(_Model):
    """Why intake refused the run: its HTTP answer, and the message the Port run is closed with."""

    code: int
    reason: str
    message: str
    errors: tuple[RecordedProblem, ...] = ()


class TriggeredBy(_Model):
    email: str | None = None
    user_id: str | None = None
    org_id: str | None = None


class Trigger(_Model):
    by: TriggeredBy = TriggeredBy()
    origin: str | None = None
    at: str | None = None


class RequestRef(_Model):
    """A Kratix resource request a run creates, changes or deletes; ``id`` names it in its action."""

    id: str = MAIN
    promise: str
    api_version: str
    kind: str
    plural: str
    namespace: str
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    spec: dict[str, Any] | None = None

    @property
    def resource(self) -> Resource:
        group, _, version = self.api_version.partition("/")
        return Resource(group, version, self.plural)

    @property
    def where(self) -> str:
        """How messages name the request: ``postgresql default/orders``."""
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def external_id(self) -> str:
        """The Port run's ``externalRunId``: ``default/postgresql/orders``."""
        return f"{self.namespace}/{self.kind}/{self.name}"


class ActionRunSpec(_Model):
    run_id: str = Field(min_length=1)
    action: str
    received_at: str | None = None
    operation: Operation | None = None
    blueprint: str | None = None
    format: str | None = None
    trigger: Trigger = Trigger()
    inputs: dict[str, Any] = Field(default_factory=dict)
    entity: dict[str, Any] | None = None
    requests: tuple[RequestRef, ...] = ()  # the main one first
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    rejection: RecordedRejection | None = None
    links: tuple[str, ...] = ()  # further links for the Port run, e.g. the GitHub workflow run it came from

    @model_validator(mode="before")
    @classmethod
    def _one_request(cls, data: Any) -> Any:
        """ActionRuns written before runs had several requests hold one ``request``."""
        if isinstance(data, Mapping) and "request" in data and not data.get("requests"):
            single = data["request"]
            data = {key: value for key, value in data.items() if key != "request"}
            data["requests"] = [single] if single else []
        return data

    @property
    def main(self) -> RequestRef | None:
        """The run's main request: it names the run in Port (``externalRunId``, the link)."""
        return self.requests[0] if self.requests else None

    def document(self) -> dict[str, Any]:
        """What mappings see (README, "What the expressions see"), rebuilt from the stored run."""
        return run_document(
            run_id=self.run_id,
            action=self.action,
            blueprint=self.blueprint,
            operation=self.operation,
            inputs=self.inputs,
            entity=self.entity,
            trigger=self.trigger.to_json(),
        )


# -- status: what the controller did and reported ----------------------------------------------


class KratixSeen(_Model):
    """The last Kratix state the run recorded (one journal line per change of ``key``)."""

    key: str
    phase: str
    label: str
    detail: str
    message: str | None = None
    at: str | None = None


class JournalLine(_Model):
    """A line for the Port run's log, and the statusLabel it brings (if any)."""

    message: str
    label: str | None = None


class Outcome(_Model):
    """How the run ended, decided once and written before anything of it is reported."""

    result: Result
    summary: str
    label: str
    decided_at: str | None = None
    bare: bool = False  # report only the terminal status: the rest kept failing


class Reported(_Model):
    """What Port has had: the announcement, how many journal lines, the label, the entity, the end."""

    started: bool = False
    logged: int = 0
    label: str | None = None
    entities: tuple[str, ...] | None = None  # the identifiers written or deleted, once done
    terminal: bool = False
    note: str | None = None


class RequestProgress(_Model):
    """What was done to one request of the run, and where Kratix stood with it when last looked at."""

    submitted_generation: int | None = None
    request_uid: str | None = None
    applied_at: str | None = None
    kratix: KratixSeen | None = None


class ContainerLogCursor(_Model):
    """How far one pipeline container's log went into the journal (``port_bridge/pipelinelogs``)."""

    lines: int = 0  # lines taken
    at: str | None = None  # the kubelet's timestamp of the last line taken, as it wrote it
    at_lines: int = 0  # lines taken that carry exactly that timestamp (the next read skips them)
    in_private_key: bool = False  # inside a PEM private key: masked until its END line


class PipelineLogProgress(_Model):
    """The pipeline Pods' log lines the run's journal holds, within the run's bounds."""

    lines: int = 0
    bytes: int = 0
    cut: bool = False  # a bound was reached: the journal says so and how to see the rest
    containers: dict[str, ContainerLogCursor] = Field(default_factory=dict)  # by namespace/pod/container


class ActionRunStatus(_Model):
    phase: str | None = None
    request: str | None = None  # the requests, for `kubectl get actionruns`
    requests: dict[str, RequestProgress] = Field(default_factory=dict)  # by request id
    journal: tuple[JournalLine, ...] = ()
    outcome: Outcome | None = None
    reported: Reported = Reported()
    message: str | None = None
    finished_at: str | None = None
    pipeline_logs: PipelineLogProgress | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_request(cls, data: Any) -> Any:
        """ActionRuns written before runs had several requests kept one request's progress on top."""
        old = ("submittedGeneration", "requestUid", "appliedAt", "kratix")
        if isinstance(data, Mapping) and not data.get("requests") and any(key in data for key in old):
            data = dict(data)
            data["requests"] = {MAIN: {key: data.pop(key) for key in old if key in data}}
        return data

    def progress(self, request_id: str) -> RequestProgress:
        return self.requests.get(request_id) or RequestProgress()

    @property
    def applied_at(self) -> str | None:
        """When the run first changed Kratix (its timeout counts from there)."""
        times = [progress.applied_at for progress in self.requests.values() if progress.applied_at]
        return min(times) if times else None

    @field_validator("journal", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"message": str(line)} if not isinstance(line, Mapping) else line for line in value]
        return value

    def changed_fields(self, before: ActionRunStatus) -> dict[str, Any]:
        """The JSON of every top-level field that differs from ``before``: a merge patch of status."""
        now, then = self.to_json(), before.to_json()
        return {key: value for key, value in now.items() if then.get(key) != value}


class ActionRun(_Model):
    """One ActionRun object: its identity in the cluster, its spec and its status."""

    name: str
    namespace: str
    resource_version: str | None = None
    uid: str | None = None
    spec: ActionRunSpec
    status: ActionRunStatus = ActionRunStatus()

    @classmethod
    def from_object(cls, obj: Object) -> Self:
        metadata = obj.get("metadata") or {}
        try:
            return cls.model_validate(
                {
                    "name": metadata.get("name", ""),
                    "namespace": metadata.get("namespace", ""),
                    "resourceVersion": metadata.get("resourceVersion"),
                    "uid": metadata.get("uid"),
                    "spec": obj.get("spec") or {},
                    "status": obj.get("status") or {},
                }
            )
        except ValidationError as error:
            raise MalformedActionRun(describe(error)) from None

    def with_status(self, status: ActionRunStatus) -> Self:
        return self.model_copy(update={"status": status})


def describe(error: ValidationError) -> str:
    """A pydantic error as one line a person can act on: ``spec.request.name: Field required``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in error.errors()
    )


def run_id_of(obj: Object) -> str | None:
    """The run id of a stored object, even one that is otherwise malformed."""
    spec = obj.get("spec")
    run_id = spec.get("runId") if isinstance(spec, Mapping) else None
    return run_id if isinstance(run_id, str) and run_id else None
