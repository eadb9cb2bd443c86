"""Speaking GitHub Actions: the run's address, commands that text from outside cannot forge, step files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from port_bridge.invoke.summary import Report, markdown
from port_bridge.invoke.workflow import (
    GithubEnv,
    WorkflowLog,
    error_line,
    escape_data,
    escape_property,
    workflow_run_url,
)

RUNNER = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/platform",
    "GITHUB_RUN_ID": "42",
}
# What the runner reads as a command (actions/runner ActionCommand: v2 after trimming, legacy anywhere).
COMMAND = re.compile(r"^\s*::|##\[")


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        (RUNNER, "https://github.com/acme/platform/actions/runs/42"),
        ({**RUNNER, "GITHUB_RUN_ATTEMPT": "1"}, "https://github.com/acme/platform/actions/runs/42"),
        (
            {**RUNNER, "GITHUB_RUN_ATTEMPT": "3"},
            "https://github.com/acme/platform/actions/runs/42/attempts/3",
        ),
        (
            {**RUNNER, "GITHUB_SERVER_URL": "https://ghe.acme.io/"},
            "https://ghe.acme.io/acme/platform/actions/runs/42",
        ),
        (
            {"GITHUB_REPOSITORY": "acme/platform", "GITHUB_RUN_ID": "42"},
            "https://github.com/acme/platform/actions/runs/42",
        ),
        ({}, None),
        ({**RUNNER, "GITHUB_RUN_ID": "42; rm -rf"}, None),
        ({**RUNNER, "GITHUB_REPOSITORY": "acme"}, None),
        ({**RUNNER, "GITHUB_SERVER_URL": "javascript:alert(1)"}, None),
    ],
)
def test_the_workflow_runs_page(environ: dict[str, str], url: str | None) -> None:
    assert workflow_run_url(environ) == url


def test_commands_only_inside_github_actions() -> None:
    inside, outside = io.StringIO(), io.StringIO()
    for out, commands in ((inside, True), (outside, False)):
        log = WorkflowLog(out, commands=commands)
        log.group("port-bridge: create-redis")
        log.line("Kratix: running", label="Pipeline 1 of 1 running")
        log.end_group()
        log.notice("SUCCESS: ready")
        log.error("it failed, 100%")
    assert inside.getvalue().splitlines() == [
        "::group::port-bridge: create-redis",
        "| [Pipeline 1 of 1 running] Kratix: running",
        "::endgroup::",
        "::notice title=port-bridge::SUCCESS: ready",
        "::error title=port-bridge::it failed, 100%25",
    ]
    assert outside.getvalue().splitlines() == [
        "== port-bridge: create-redis",
        "| [Pipeline 1 of 1 running] Kratix: running",
        "port-bridge: SUCCESS: ready",
        "port-bridge: error: it failed, 100%",
    ]


@given(st.text(), st.one_of(st.none(), st.text()))
def test_no_quoted_text_becomes_a_command(text: str, label: str | None) -> None:
    out = io.StringIO()
    log = WorkflowLog(out, commands=True)
    log.line(text, label=label)
    log.notice(text, title=label or "port-bridge")
    log.error(text)
    lines = out.getvalue().split("\n")[:-1]
    assert len(lines) == 3  # one line each, whatever the text holds
    assert not COMMAND.search(lines[0])
    for line in lines[1:]:  # one command each: its name and properties end at the first "::"
        head, separator, _ = line.removeprefix("::").partition("::")
        assert separator and re.fullmatch(r"(notice|error) title=[^:\r]*", head), line
        assert "\r" not in line


def test_escaping_is_the_toolkits() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a: b, c") == "a%3A b%2C c"
    assert error_line("no\nway", commands=True) == "::error title=port-bridge invoke::no way"
    assert error_line("no\nway", commands=False) == "port-bridge invoke: no way"


def test_step_files_are_appended(tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("### an earlier step\n")
    github = GithubEnv.from_environ(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output),
            **RUNNER,
        }
    )
    assert github.in_actions and github.run_url == "https://github.com/acme/platform/actions/runs/42"
    github.write_summary("### port-bridge\n")
    github.write_outputs({"run-id": "r_1", "state": "refused\nresult=SUCCESS"})
    assert summary.read_text() == "### an earlier step\n### port-bridge\n"
    assert output.read_text() == "run-id=r_1\nstate=refused result=SUCCESS\n"  # a value cannot add an output
    GithubEnv.from_environ({}).write_summary("nowhere")  # outside a workflow: nothing to write


def test_the_summary_escapes_what_it_quotes() -> None:
    report = Report(
        "refused",
        "invalid inputs: inputs.name <script>alert(1)</script> | *bold*",
        run_id="r_<1>",
        action="create-redis",
        problems=(("inputs.name", "does not match '^[a-z]+$'"),),
        lines=("[link](javascript:x)",),
    )
    text = markdown(report)
    assert text.startswith("### ❌ port-bridge: <code>create-redis</code> refused\n")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\| \\*bold\\*" in text and "<code>r_&lt;1&gt;</code>" in text
    assert "| <code>inputs.name</code> | does not match '^\\[a-z\\]+$' |" in text
    assert "- \\[link\\](javascript:x)" in text
