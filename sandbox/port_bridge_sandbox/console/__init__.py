"""A console in the browser for ``port-bridge sandbox``: Port's self-service pages, runs and catalog.

Served on 127.0.0.1 beside the emulators while the sandbox runs. Every action is a form drawn from
its ``userInputs`` as Port draws it; pressing its button starts a run as Port does (a signed
webhook, through the Port emulator); runs show their log lines and status as they come, and the
catalog shows each entity's properties and scorecard levels.

    console = WsgiThread(create_console(port, webhook_url=intake.url + "/webhook")).start()
"""

from __future__ import annotations

from port_bridge_sandbox.console.app import create_console

__all__ = ["create_console"]
