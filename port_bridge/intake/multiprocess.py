"""prometheus-client's multiprocess directory, where every gunicorn worker keeps its metric files.

prometheus-client decides when it is first imported whether values live in files (the variable
``PROMETHEUS_MULTIPROC_DIR`` names a directory) or in memory, so ``serve`` prepares the
directory before anything imports it; this module must never import it either. The directory is
always a fresh one the process creates: inside the directory the user named (never emptying or
deleting that one, which may hold anything), else in the temporary directory. It is removed when
the process that created it ends, not when a forked worker does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class MetricsDir:
    path: Path
    owner_pid: int = field(default_factory=os.getpid)

    def remove(self) -> None:
        """Delete the directory, if this is the process that made it (gunicorn workers are forks)."""
        if os.getpid() == self.owner_pid:
            shutil.rmtree(self.path, ignore_errors=True)


def prepare_metrics_dir() -> MetricsDir:
    """A fresh directory for per-worker metric files, named in the environment for prometheus-client."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        parent = Path(configured)
        parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix="port-bridge-", dir=parent))
    else:
        path = Path(tempfile.mkdtemp(prefix="port-bridge-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return MetricsDir(path)
