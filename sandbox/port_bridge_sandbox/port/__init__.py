"""An emulator of Port's REST API (getport.io) that speaks real HTTP on 127.0.0.1.

port-bridge reports to Port through its API; there is no Port to test against, so this package
stands in for it with Port's semantics (expiring tokens, runs that refuse changes once finished,
entity validation against blueprints, bulk 207, 413, scorecards) and judges every request
against Port's published OpenAPI spec. It can also act as Port towards port-bridge, sending an
action's signed webhook.

    with PortEmulator(spec_path=path, token_lifetime=60) as port:
        port.add_blueprint(blueprint)            # or POST /v1/blueprints over HTTP
        port.add_action(action)
        port.faults.rate_limit(method="PATCH")   # the next PATCH gets 429
        port.limit_rate(RateLimits())            # Port's published limits, with their headers
        invocation = port.invoke("create_db", inputs={"name": "orders"})  # signed webhook out
        ...                                      # the code under test reports over HTTP
        assert port.run(invocation.run_id).status == "SUCCESS"
        assert port.spec_violations == []
"""

from __future__ import annotations

from port_bridge_sandbox.port.errors import PortError
from port_bridge_sandbox.port.faults import FaultRule, Faults
from port_bridge_sandbox.port.invoker import ActionInvoker, Invocation
from port_bridge_sandbox.port.ratelimit import RateLimiter, RateLimits
from port_bridge_sandbox.port.recording import RecordedCall, SpecViolation
from port_bridge_sandbox.port.runs import Run, RunLog, StatusChange
from port_bridge_sandbox.port.scorecards import evaluate_scorecard
from port_bridge_sandbox.port.server import PortEmulator
from port_bridge_sandbox.port.spec import PortSpec, default_spec_path
from port_bridge_sandbox.port.templating import TemplateError, render
from port_bridge_sandbox.port.webhook import legacy_envelope, port_json, sign, trigger_context

__all__ = [
    "ActionInvoker",
    "FaultRule",
    "Faults",
    "Invocation",
    "PortEmulator",
    "PortError",
    "PortSpec",
    "RateLimiter",
    "RateLimits",
    "RecordedCall",
    "Run",
    "RunLog",
    "SpecViolation",
    "StatusChange",
    "TemplateError",
    "default_spec_path",
    "evaluate_scorecard",
    "legacy_envelope",
    "port_json",
    "render",
    "sign",
    "trigger_context",
]
