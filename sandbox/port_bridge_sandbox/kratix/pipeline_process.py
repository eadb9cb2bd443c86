"""Runs a Promise's pipeline as a local process under Kratix's pipeline contract.

Kratix runs each container of a pipeline with the request at /kratix/input/object.yaml, an empty
/kratix/output and /kratix/metadata, and the ``KRATIX_*`` environment; afterwards it keeps the
outputs as the request's Work, merges /kratix/metadata/status.yaml into the request's status and
obeys /kratix/metadata/workflow-control.yaml (research/kratix.md §2.5, §3.3). The sandbox has no
containers: for the project's own images (``ghcr.io/port-bridge/<name>-pipeline``) it runs the
image's entrypoint, deploy/kratix/pipelines/<name>/pipeline.py, with the interpreter of
.venv-pipelines, in a temporary directory laid out the same way; ``KRATIX_SDK_INPUT_DIR``,
``KRATIX_SDK_OUTPUT_DIR`` and ``KRATIX_SDK_METADATA_DIR`` point kratix-sdk at it (the pipelines
pass them to the SDK's ``set_*_dir``). What the process left there is read back as Kratix reads it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_IMAGE = re.compile(r"^ghcr\.io/port-bridge/(?P<name>[a-z0-9][a-z0-9-]*)-pipeline(?::[\w.-]+)?$")
_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

OutputSink = Callable[[str, str], None]  # (container, text) as the process writes it
ExitSink = Callable[[str, int], None]  # (container, exit code) once it ends


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    program: Path | None  # the image's entrypoint on this machine, for the project's own images


@dataclass(frozen=True)
class Pipeline:
    name: str
    containers: tuple[Container, ...]

    @property
    def local(self) -> bool:
        """Every container is one of the project's images, so the whole pipeline can run here."""
        return bool(self.containers) and all(container.program for container in self.containers)


@dataclass(frozen=True)
class PromisePipelines:
    """A Promise's resource workflows, as Pipeline objects with their containers."""

    configure: tuple[Pipeline, ...] = ()
    delete: tuple[Pipeline, ...] = ()

    @classmethod
    def from_promise(cls, promise: Mapping[str, Any], *, pipelines_dir: Path) -> PromisePipelines:
        workflows = ((promise.get("spec") or {}).get("workflows") or {}).get("resource") or {}
        return cls(
            configure=_pipelines(workflows.get("configure"), pipelines_dir),
            delete=_pipelines(workflows.get("delete"), pipelines_dir),
        )


def _pipelines(declared: Any, pipelines_dir: Path) -> tuple[Pipeline, ...]:
    pipelines = []
    for index, pipeline in enumerate(declared or ()):
        containers = tuple(
            Container(
                name=container.get("name", f"container-{number}"),
                image=container.get("image", ""),
                program=local_program(container.get("image", ""), pipelines_dir),
            )
            for number, container in enumerate((pipeline.get("spec") or {}).get("containers") or ())
        )
        pipelines.append(
            Pipeline((pipeline.get("metadata") or {}).get("name", f"pipeline-{index}"), containers)
        )
    return tuple(pipelines)


def local_program(image: str, pipelines_dir: Path) -> Path | None:
    """The program an image of the project's runs (its Dockerfile's entrypoint), when it is here."""
    match = PROJECT_IMAGE.match(image)
    if match is None:
        return None
    program = pipelines_dir / match["name"] / "pipeline.py"
    return program if program.is_file() else None


def go_duration(text: str) -> float:
    """Seconds in a Go duration (``30s``, ``1m30s``, ``250ms``), as ``retryAfter`` is written."""
    text = text.strip()
    if not text or _DURATION.sub("", text) != "":
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 5m, 1h30m)")
    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION.findall(text))


@dataclass(frozen=True)
class WorkflowControl:
    """/kratix/metadata/workflow-control.yaml: pause the workflow, or run this pipeline again later."""

    suspend: bool = False
    retry_after: float | None = None  # seconds
    message: str = ""


@dataclass(frozen=True)
class Output:
    path: str  # relative to /kratix/output, '/'-separated
    content: bytes


@dataclass(frozen=True)
class PipelineResult:
    exit_code: int  # the first non-zero exit code of a container, else 0
    failed_container: str | None
    problem: str | None  # the run failed without a container failing: a timeout, an unreadable file
    status: dict[str, Any] | None
    control: WorkflowControl | None
    outputs: tuple[Output, ...]
    destination_selectors: tuple[dict[str, Any], ...]
    seconds: float

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.problem is None


@dataclass(frozen=True)
class PipelineContext:
    """What Kratix tells a pipeline about the run: the request and where it comes from."""

    promise: str
    pipeline: str
    action: str  # configure or delete
    request: Mapping[str, Any]
    plural: str
    workflow_type: str = "resource"

    def environment(self) -> dict[str, str]:
        """The KRATIX_* variables of every pipeline container (Kratix docs, 12-workflows.md)."""
        api_version, metadata = str(self.request.get("apiVersion", "")), self.request.get("metadata") or {}
        group, _, version = api_version.rpartition("/")
        return {
            "KRATIX_WORKFLOW_ACTION": self.action,
            "KRATIX_WORKFLOW_TYPE": self.workflow_type,
            "KRATIX_PROMISE_NAME": self.promise,
            "KRATIX_PIPELINE_NAME": self.pipeline,
            "KRATIX_OBJECT_KIND": str(self.request.get("kind", "")),
            "KRATIX_OBJECT_GROUP": group,
            "KRATIX_OBJECT_VERSION": version,
            "KRATIX_OBJECT_NAME": str(metadata.get("name", "")),
            "KRATIX_OBJECT_NAMESPACE": str(metadata.get("namespace", "")),
            "KRATIX_CRD_PLURAL": self.plural,
            "KRATIX_CLUSTER_SCOPED": "false",
        }


class PipelineRunner:
    """Runs pipelines with one interpreter; :meth:`stop` ends the processes still running."""

    def __init__(self, python: Path, *, timeout: float = 120.0) -> None:
        self.python, self.timeout = python, timeout
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            running = list(self._running)
        for process in running:
            process.kill()

    def start(
        self,
        pipeline: Pipeline,
        context: PipelineContext,
        *,
        output: OutputSink,
        exited: ExitSink,
        minimum: float,
        done: Callable[[PipelineResult], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        """Run the pipeline on a thread of its own; ``done`` gets the result once the run ended and
        at least ``minimum`` seconds went by (the simulator's timings), unless stopped meanwhile."""
        due = time.monotonic() + minimum

        def run() -> None:
            try:
                result = self.run(pipeline, context, output=output, exited=exited)
            except Exception as error:
                failed(error)
                return
            if not self._stopped.wait(max(0.0, due - time.monotonic())):
                done(result)

        threading.Thread(target=run, name=f"kratix-pipeline-{pipeline.name}", daemon=True).start()

    def run(
        self,
        pipeline: Pipeline,
        context: PipelineContext,
        *,
        output: OutputSink | None = None,
        exited: ExitSink | None = None,
    ) -> PipelineResult:
        """Run each container's program in turn, as Kratix runs them as init containers; the first
        that fails ends the run. Blocks until then: call it from a thread of its own."""
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"kratix-{context.pipeline}-") as root:
            kratix = Path(root)
            for directory in ("input", "output", "metadata"):
                (kratix / directory).mkdir()
            (kratix / "input" / "object.yaml").write_text(
                yaml.safe_dump(dict(context.request)), encoding="utf-8"
            )
            environment = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LANG": "C.UTF-8",
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                **context.environment(),
                "KRATIX_SDK_INPUT_DIR": str(kratix / "input"),
                "KRATIX_SDK_OUTPUT_DIR": str(kratix / "output"),
                "KRATIX_SDK_METADATA_DIR": str(kratix / "metadata"),
            }
            for container in pipeline.containers:
                if container.program is None:
                    raise ValueError(f"{container.image} is not one of the project's pipeline images")
                code, problem = self._run_container(container, environment, kratix, output)
                if exited is not None:
                    exited(container.name, code)
                if code != 0 or problem:
                    return _result(started, exit_code=code, failed=container.name, problem=problem)
            try:
                return _read_back(kratix, started)
            except (OSError, ValueError, yaml.YAMLError) as error:
                return _result(started, problem=f"Kratix could not read what the pipeline wrote: {error}")

    def _run_container(
        self, container: Container, environment: Mapping[str, str], cwd: Path, output: OutputSink | None
    ) -> tuple[int, str | None]:
        with self._lock:
            if self._stopped.is_set():
                return -1, "the simulator stopped"
            process = subprocess.Popen(  # noqa: S603 - the project's own pipeline, by path
                [str(self.python), str(container.program)],
                cwd=cwd,
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # a container's log interleaves both, as kubelet keeps it
            )
            self._running.add(process)
        timer = threading.Timer(self.timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for line in iter(process.stdout.readline, b""):
                if output is not None:
                    output(container.name, line.decode("utf-8", "replace"))
            code = process.wait()
        finally:
            timer.cancel()
            with self._lock:
                self._running.discard(process)
        if code < 0 and not self._stopped.is_set():
            return code, f"{container.name} did not finish within {self.timeout:g}s and was killed"
        return code, None


def _result(
    started: float,
    *,
    exit_code: int = 0,
    failed: str | None = None,
    problem: str | None = None,
    status: dict[str, Any] | None = None,
    control: WorkflowControl | None = None,
    outputs: Sequence[Output] = (),
    selectors: Sequence[dict[str, Any]] = (),
) -> PipelineResult:
    return PipelineResult(
        exit_code=exit_code,
        failed_container=failed,
        problem=problem,
        status=status,
        control=control,
        outputs=tuple(outputs),
        destination_selectors=tuple(selectors),
        seconds=time.monotonic() - started,
    )


def _read_back(kratix: Path, started: float) -> PipelineResult:
    metadata, output = kratix / "metadata", kratix / "output"
    status = _yaml(metadata / "status.yaml")
    if status is not None and not isinstance(status, dict):
        raise ValueError("status.yaml is not a mapping")
    control_file = _yaml(metadata / "workflow-control.yaml")
    control = None
    if isinstance(control_file, dict):
        retry = control_file.get("retryAfter")
        control = WorkflowControl(
            suspend=bool(control_file.get("suspend")),
            retry_after=go_duration(str(retry)) if retry else None,
            message=str(control_file.get("message") or ""),
        )
    selectors = _yaml(metadata / "destination-selectors.yaml") or []
    if not isinstance(selectors, list) or not all(isinstance(selector, dict) for selector in selectors):
        raise ValueError("destination-selectors.yaml is not a list of selectors")
    outputs = [
        Output(path.relative_to(output).as_posix(), path.read_bytes())
        for path in sorted(output.rglob("*"))
        if path.is_file()
    ]
    return _result(started, status=status, control=control, outputs=outputs, selectors=list(selectors))


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
