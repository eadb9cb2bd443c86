"""Reporting on action runs: read a run, PATCH its status and fields, add log lines.

Port refuses every change to a finished run with 422 ``run_exhausted``; that surfaces as
:class:`~port_bridge.port.errors.RunAlreadyFinished` and is never retried. Runs are read and
patched with ``version=v2``, the run shape of Port's current actions (research/port.md §2.2).
"""

from __future__ import annotations

from typing import Any, Literal

from port_bridge.port.transport import ApiArea, Json, segment, unwrap

RunStatus = Literal["SUCCESS", "FAILURE"]
_RUN_VERSION = {"version": "v2"}


class RunsApi(ApiArea):
    def get_run(self, run_id: str) -> Json:
        """The run object (``status``, ``statusLabel``, ``link``, ``action``, ``properties``...)."""
        answer = self._transport.request("GET", _run_path(run_id), params=_RUN_VERSION)
        return unwrap(answer.body, "run")

    def patch_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        status_label: str | None = None,
        link: str | list[str] | None = None,
        summary: str | None = None,
        external_run_id: str | None = None,
    ) -> Json:
        """Overwrite the fields given (and only those); returns the updated run."""
        fields: dict[str, Any] = {
            "status": status,
            "statusLabel": status_label,
            "link": link,
            "summary": summary,
            "externalRunId": external_run_id,
        }
        body = {key: value for key, value in fields.items() if value is not None}
        if not body:
            raise ValueError("patch_run needs at least one field to change")
        answer = self._transport.request("PATCH", _run_path(run_id), params=_RUN_VERSION, json=body)
        return unwrap(answer.body, "run")

    def add_run_log(
        self,
        run_id: str,
        message: str,
        *,
        termination_status: RunStatus | None = None,
        status_label: str | None = None,
    ) -> Json:
        """Add a line to the run's log; with ``termination_status`` it also finishes the run."""
        body: dict[str, Any] = {"message": message}
        if termination_status is not None:
            body["terminationStatus"] = termination_status
        if status_label is not None:
            body["statusLabel"] = status_label
        answer = self._transport.request("POST", _run_path(run_id) + "/logs", json=body)
        return unwrap(answer.body, "runLog")


def _run_path(run_id: str) -> str:
    return f"/v1/actions/runs/{segment(run_id)}"
