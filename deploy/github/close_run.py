#!/usr/bin/env python3
"""Close the Port run as FAILURE when the workflow failed before port-bridge could take it.

The GITHUB actions set ``reportWorkflowStatus: false`` because port-bridge reports each run's end
itself; so if installing or starting port-bridge fails, nothing else would close the run and it
would stay IN_PROGRESS in Port. The composite action (``action.yml``) runs this script in that case
only (its ``invoke`` step never ran). It uses the standard library alone, so it works with the
runner's own ``python3`` even when setting up Python failed.

Reads ``PORT_CONTEXT`` (``runId`` or ``run_id``) or ``PORT_PAYLOAD`` (``context.runId``),
``PORT_CLIENT_ID``, ``PORT_CLIENT_SECRET``, ``PORT_API_URL`` and the runner's
``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``/``GITHUB_RUN_ID``. A run Port shows finished already is
left alone. Exit status 0 when the run is closed (or was), 1 otherwise, with the reason on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 20


def run_id_of(environ: dict[str, str]) -> str | None:
    for variable in ("PORT_CONTEXT", "PORT_PAYLOAD"):
        try:
            document = json.loads(environ.get(variable) or "null")
            if isinstance(document, str):
                document = json.loads(document)
        except ValueError:
            continue
        if not isinstance(document, dict):
            continue
        context = document.get("context")
        legacy = context.get("runId") if isinstance(context, dict) else None
        for candidate in (document.get("runId"), document.get("run_id"), legacy):
            if isinstance(candidate, str) and candidate.strip():
                return candidate
    return None


def call(method: str, url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 -- PORT_API_URL is checked to be http(s) below
        url, data=json.dumps(body).encode(), headers=headers, method=method
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


def close(environ: dict[str, str]) -> str:
    """Close the run; returns what was done, raises ``RuntimeError`` saying why it could not be."""
    run_id = run_id_of(environ)
    if run_id is None:
        raise RuntimeError("PORT_CONTEXT / PORT_PAYLOAD: no run id (runId, run_id or context.runId) to close")
    api = (environ.get("PORT_API_URL") or "https://api.port.io").rstrip("/").removesuffix("/v1")
    if not api.startswith(("https://", "http://")):
        raise RuntimeError(f"PORT_API_URL: must be an http(s) URL, not {api!r}")
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    repository, workflow_run = environ.get("GITHUB_REPOSITORY", ""), environ.get("GITHUB_RUN_ID", "")
    workflow = f"{server}/{repository}/actions/runs/{workflow_run}"
    summary = f"the GitHub workflow failed before port-bridge could take the run; see {workflow}"
    credentials = {
        "clientId": environ.get("PORT_CLIENT_ID", ""),
        "clientSecret": environ.get("PORT_CLIENT_SECRET", ""),
    }
    run_url = f"{api}/v1/actions/runs/{urllib.parse.quote(run_id, safe='')}"
    try:
        token = call("POST", f"{api}/v1/auth/access_token", credentials)["accessToken"]
        call("POST", f"{run_url}/logs", {"message": summary}, token)
        call("PATCH", run_url, {"status": "FAILURE", "summary": summary, "link": workflow}, token)
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:300]
        if error.code == 422 and "run_exhausted" in detail:
            return f"Port run {run_id} was finished already"
        raise RuntimeError(f"Port answered {error.code} for run {run_id}: {detail}") from None
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        raise RuntimeError(f"could not reach Port at {api}: {error}") from None
    return f"Port run {run_id} closed as FAILURE: {summary}"


def main() -> int:
    try:
        print(close(dict(os.environ)))
    except RuntimeError as error:
        print(f"::error title=port-bridge::{error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
