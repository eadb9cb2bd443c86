"""Speaking GitHub Actions: the workflow run's address, its log's commands, its step files.

Inside a workflow (``GITHUB_ACTIONS=true``) progress is written with workflow commands: a
collapsible ``::group::`` for the run's lines, ``::notice::`` or ``::error::`` for its end (shown
as annotations on the workflow run). Elsewhere the same lines are plain text.

What a run's lines quote comes from outside (a developer's inputs, Kratix's messages), and the
runner treats any line that starts with ``::`` (after spaces) as a command, and ``##[`` anywhere
as a legacy one; so every such line is written behind a fixed prefix with ``##[`` broken up, and
text inside a command is escaped as GitHub's toolkit escapes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class GithubEnv:
    """What the runner tells a step about itself (the variables every step gets)."""

    in_actions: bool = False
    run_url: str | None = None
    step_summary: Path | None = None
    output: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GithubEnv:
        summary, output = environ.get("GITHUB_STEP_SUMMARY"), environ.get("GITHUB_OUTPUT")
        return cls(
            in_actions=environ.get("GITHUB_ACTIONS") == "true",
            run_url=workflow_run_url(environ),
            step_summary=Path(summary) if summary else None,
            output=Path(output) if output else None,
        )

    def write_outputs(self, outputs: Mapping[str, str]) -> None:
        """Set the step's outputs (``steps.<id>.outputs.<name>``), one line each."""
        if self.output is None:
            return
        with self.output.open("a", encoding="utf-8") as file:
            for name, value in outputs.items():
                file.write(f"{name}={one_line(value)}\n")

    def write_summary(self, markdown: str) -> None:
        """Add to the job's summary page (several steps may write to it)."""
        if self.step_summary is None:
            return
        with self.step_summary.open("a", encoding="utf-8") as file:
            file.write(markdown)


def workflow_run_url(environ: Mapping[str, str]) -> str | None:
    """The workflow run's page, ``https://github.com/OWNER/REPO/actions/runs/ID`` (its attempt if
    not the first), or ``None`` outside a workflow or with values that cannot make one."""
    server = (environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    if not (
        server.startswith(("https://", "http://")) and _REPOSITORY.fullmatch(repository) and run_id.isdigit()
    ):
        return None
    url = f"{server}/{repository}/actions/runs/{run_id}"
    attempt = environ.get("GITHUB_RUN_ATTEMPT", "")
    return f"{url}/attempts/{attempt}" if attempt.isdigit() and int(attempt) > 1 else url


class WorkflowLog:
    """Lines for the step's log: workflow commands inside GitHub Actions, plain text elsewhere."""

    def __init__(self, out: TextIO, *, commands: bool) -> None:
        self._out, self._commands = out, commands
        self._grouped = False

    def group(self, title: str) -> None:
        self.end_group()
        self._write(f"::group::{escape_data(title)}" if self._commands else f"== {one_line(title)}")
        self._grouped = True

    def end_group(self) -> None:
        if self._grouped and self._commands:
            self._write("::endgroup::")
        self._grouped = False

    def line(self, text: str, *, label: str | None = None) -> None:
        """A line that may quote anything: never read as a command."""
        shown = f"[{label}] {text}" if label else text
        self._write("| " + one_line(shown).replace("##[", "## ["))

    def notice(self, text: str, *, title: str = "port-bridge") -> None:
        self._annotation("notice", text, title)

    def warning(self, text: str, *, title: str = "port-bridge") -> None:
        self._annotation("warning", text, title)

    def error(self, text: str, *, title: str = "port-bridge") -> None:
        self._annotation("error", text, title)

    def _annotation(self, kind: str, text: str, title: str) -> None:
        if self._commands:
            self._write(f"::{kind} title={escape_property(title)}::{escape_data(text)}")
        else:
            self._write(f"{title}: {'' if kind == 'notice' else kind + ': '}{one_line(text)}")

    def _write(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()


def error_line(text: str, *, commands: bool, title: str = "port-bridge invoke") -> str:
    """The one line that says why the step failed: an ``::error::`` annotation in a workflow."""
    if commands:
        return f"::error title={escape_property(title)}::{escape_data(one_line(text))}"
    return f"{title}: {one_line(text)}"


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def escape_data(text: str) -> str:
    """A command's message, as @actions/core escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value (``title=``), as @actions/core escapes it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
