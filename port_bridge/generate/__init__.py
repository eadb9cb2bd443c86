"""Port models generated from Kratix Promises: ``port-bridge generate`` and live Promises.

:func:`generate` turns a Promise's request API into a blueprint and CREATE, DAY-2 and DELETE
action files (pure: no I/O); :func:`render_files` lays them out as the files a repository keeps.
"""

from __future__ import annotations

from port_bridge.generate.actions import GeneratedAction
from port_bridge.generate.files import render_files
from port_bridge.generate.model import GeneratedModel, GenerateError, generate

__all__ = ["GenerateError", "GeneratedAction", "GeneratedModel", "generate", "render_files"]
