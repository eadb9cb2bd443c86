"""Where a request's workflow stands in the simulator, and the names Kratix marks requests with.

Kratix keeps a workflow's progress in its Jobs and in the request's labels and finalizers; the
simulator keeps it in a :class:`Workflow` per request, advanced one step at a time by its worker.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from port_bridge_sandbox.kratix.eras import Era
from port_bridge_sandbox.kratix.pipeline_process import PipelineResult
from port_bridge_sandbox.kratix.workflow_objects import PipelineJob

PROMISE_NAME_LABEL = "kratix.io/promise-name"
PAUSED_LABEL = "kratix.io/paused"
SUSPENDED_LABEL = "kratix.io/workflow-suspended"
_FINALIZERS = ("kratix.io/work-cleanup", "kratix.io/workflows-cleanup", "kratix.io/delete-workflows")
FINALIZERS = {
    Era.LEGACY: _FINALIZERS,
    Era.Y2024: _FINALIZERS,
    Era.CURRENT: (*_FINALIZERS, "kratix.io/resource-binding-cleanup"),
}

RequestKey = tuple[str, str, str]  # promise, namespace, name


@dataclass
class Workflow:
    """Where one request's configure (or delete) workflow stands; Kratix keeps this in Jobs."""

    generation: int
    token: int  # a newer run (generation, re-run, deletion) gets a new one: older steps then do nothing
    # pickup, running, works, done, failed, hung, suspended, retrying, deleting, delete-failed
    stage: str = "pickup"
    index: int = 0
    job: PipelineJob | None = None
    result: PipelineResult | None = None  # what the pipeline process left, until it is acted on
    attempts: int = 0  # suspensions of the current pipeline (workflow control)
    works: list[str] = field(default_factory=list)  # the Works this run's pipelines wrote


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return iso(datetime.datetime.now(tz=datetime.UTC))
