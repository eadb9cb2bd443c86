"""The step summary: what became of the run, as Markdown on the workflow run's page.

Everything a run's summary quotes may come from a developer's inputs or from Kratix, so text is
escaped for Markdown and HTML (GitHub renders both) and identifiers are shown as ``<code>``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

from port_bridge.invoke.workflow import one_line

State = Literal["handed over", "refused", "succeeded", "failed", "closed elsewhere", "still running"]
_ICONS = {
    "handed over": "📨",
    "refused": "❌",
    "succeeded": "✅",
    "failed": "❌",
    "closed elsewhere": "⚠️",
    "still running": "⏳",
}
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")  # what could start markup inside a line
MAX_LINES = 200  # a summary page holds at most 1 MiB per step; a run's log is far shorter


@dataclass(frozen=True)
class Report:
    """What one invocation came to, for the summary."""

    state: State
    message: str
    run_id: str | None = None
    action: str | None = None
    action_run: str | None = None  # namespace/name
    result: str | None = None  # Port's terminal status, once reported
    requests: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()  # (field, message)
    lines: tuple[str, ...] = field(default=())


def markdown(report: Report) -> str:
    """The summary section for one run."""
    action = f" {_code(report.action)}" if report.action else ""
    parts = [f"### {_ICONS[report.state]} port-bridge:{action} {report.state}", ""]
    rows = [
        ("Port run", _code(report.run_id)),
        ("Result in Port", _code(report.result)),
        ("Kratix requests", ", ".join(_text(request) for request in report.requests)),
        ("ActionRun", _code(report.action_run)),
        ("Catalog entities", ", ".join(_code(entity) for entity in report.entities)),
    ]
    shown = [(name, value) for name, value in rows if value]
    if shown:
        parts += ["| | |", "| --- | --- |", *(f"| {name} | {value} |" for name, value in shown), ""]
    parts += [_text(report.message), ""]
    if report.problems:
        parts += ["| field | problem |", "| --- | --- |"]
        parts += [f"| {_code(name)} | {_text(problem)} |" for name, problem in report.problems]
        parts.append("")
    if report.lines:
        lines = report.lines[-MAX_LINES:]
        parts += [f"<details><summary>port-bridge's log of the run ({len(report.lines)} lines)</summary>", ""]
        parts += [f"- {_text(line)}" for line in lines]
        parts += ["", "</details>", ""]
    return "\n".join(parts) + "\n"


def _text(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", html.escape(one_line(text), quote=False))


def _code(text: str | None) -> str:
    return f"<code>{html.escape(one_line(text))}</code>" if text else ""
