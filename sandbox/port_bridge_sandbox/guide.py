"""What ``port-bridge sandbox --keep-running`` prints so a person can go on by hand.

Every command is ready to paste into a POSIX shell: paths and JSON are quoted, and the access
token is read with ``python3`` (which the sandbox already needs) rather than ``jq``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from port_bridge_sandbox.port import PortEmulator

TRY_ACTION = "create-redis"
TRY_INPUTS = {"name": "mine", "size": "small"}
TOKEN_READER = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"accessToken\"])'"  # noqa: S105 - a command, not a secret


def keep_running_lines(*, port: PortEmulator, intake_url: str, kubeconfig: Path, namespace: str) -> list[str]:
    """The lines printed once the demo is over and the sandbox stays up."""
    kubectl = f"kubectl --kubeconfig {shlex.quote(str(kubeconfig))}"
    credentials = json.dumps({"clientId": port.client_id, "clientSecret": port.client_secret})
    inputs = json.dumps({"properties": TRY_INPUTS})
    return [
        "",
        "The sandbox keeps running until interrupted (Ctrl-C). To try it by hand:",
        f"  Port API           {port.url}",
        f"  Port credentials   client id {port.client_id}, client secret {port.client_secret}",
        f"  kubeconfig         {kubeconfig}",
        f"  run pages          {intake_url}/runs",
        "",
        "  The ActionRuns port-bridge keeps, with the CRD's columns (run, action, request, phase, age):",
        f"    {kubectl} get actionruns -n {shlex.quote(namespace)}",
        "  The Kratix requests behind them:",
        f"    {kubectl} get postgresqls.marketplace.kratix.io,redis.marketplace.kratix.io -A",
        f"  Start a run as Port does when a developer presses {TRY_ACTION} (a token, then the action):",
        f"    TOKEN=$(curl -s -X POST {port.url}/v1/auth/access_token -H 'Content-Type: application/json' "
        f"-d {shlex.quote(credentials)} | {TOKEN_READER})",
        f'    curl -s -X POST {port.url}/v1/actions/{TRY_ACTION}/runs -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d {shlex.quote(inputs)}",
        "  Then follow that run (its id is in the answer) in Port, or on its page at intake:",
        f'    curl -s {port.url}/v1/actions/runs/RUN_ID -H "Authorization: Bearer $TOKEN"',
        f"    {intake_url}/runs/RUN_ID",
    ]
