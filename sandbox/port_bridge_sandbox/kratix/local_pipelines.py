"""The Promises' pipelines that run on this machine, and the interpreter that runs them.

The simulator learns each Promise's Pipeline objects as it sees the Promise. A pipeline all of
whose containers are the project's own images runs as a process (:mod:`.pipeline_process`) when
.venv-pipelines is there; any other pipeline, or every one without it, is simulated in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from port_bridge_sandbox.kratix.pipeline_process import (
    ExitSink,
    OutputSink,
    Pipeline,
    PipelineContext,
    PipelineResult,
    PipelineRunner,
    PromisePipelines,
)

log = logging.getLogger(__name__)


class LocalPipelines:
    def __init__(self, python: Path | None, *, pipelines_dir: Path, timeout: float) -> None:
        """``python`` runs the project's pipelines; None, or a path that is not there: simulate them."""
        self._runner = PipelineRunner(python, timeout=timeout) if python and python.exists() else None
        self._pipelines_dir = pipelines_dir
        self._declared: dict[str, PromisePipelines] = {}

    @property
    def runs(self) -> bool:
        return self._runner is not None

    @property
    def note(self) -> str:
        """One line on how pipelines run here, for the sandbox to say."""
        if self._runner is not None:
            return f"the Promises' own pipelines run as processes ({self._runner.python.parents[1].name})"
        return "pipelines simulated in-process: no .venv-pipelines (`make pipelines-venv` makes it)"

    def learn(self, promise: Mapping[str, Any]) -> None:
        name = promise["metadata"]["name"]
        self._declared[name] = PromisePipelines.from_promise(promise, pipelines_dir=self._pipelines_dir)

    def pipeline(self, promise: str, action: str, index: int) -> Pipeline | None:
        declared = self._declared.get(promise, PromisePipelines())
        pipelines = declared.configure if action == "configure" else declared.delete
        return pipelines[index] if index < len(pipelines) else None

    def containers(self, promise: str, action: str, index: int) -> list[str]:
        pipeline = self.pipeline(promise, action, index)
        return [container.name for container in pipeline.containers] if pipeline else []

    def launch(
        self,
        context: PipelineContext,
        index: int,
        *,
        output: OutputSink,
        exited: ExitSink,
        minimum: float,
        done: Callable[[PipelineResult], None],
        failed: Callable[[BaseException], None],
    ) -> bool:
        """Start the pipeline's process if it is one of the project's (False: simulate it)."""
        pipeline = self.pipeline(context.promise, context.action, index)
        if self._runner is None or pipeline is None or not pipeline.local:
            return False
        request = context.request["metadata"]

        def finished(result: PipelineResult) -> None:
            log.info(
                "pipeline %s of %s %s/%s ran in %.2fs",
                pipeline.name,
                context.promise,
                request.get("namespace"),
                request.get("name"),
                result.seconds,
            )
            done(result)

        self._runner.start(
            pipeline, context, output=output, exited=exited, minimum=minimum, done=finished, failed=failed
        )
        return True

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
