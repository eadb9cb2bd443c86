"""Where the reference data lives: Kratix's CRDs and Promises and Port's OpenAPI spec.

That data belongs to Kratix and Port, not to this project, so it is read from a directory beside
the clone (``../shared``) rather than copied in. ``PORT_BRIDGE_SHARED_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DIR_ENV = "PORT_BRIDGE_SHARED_DIR"


class SharedDataMissing(FileNotFoundError):
    """The reference data the sandbox needs is not where it was looked for."""


def locate_shared_dir(explicit: Path | None = None) -> Path:
    """Return the reference-data directory: ``explicit``, then the environment, then ``../shared``."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    elif os.environ.get(SHARED_DIR_ENV):
        candidates.append(Path(os.environ[SHARED_DIR_ENV]))
    else:
        repo_root = Path(__file__).resolve().parents[2]
        candidates += [repo_root.parent / "shared", Path.cwd().parent / "shared"]
    for candidate in candidates:
        if (candidate / "kratix").is_dir() or (candidate / "port").is_dir():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise SharedDataMissing(
        f"reference data not found (looked in {looked}); it holds Kratix's CRDs and Promises "
        f"and Port's OpenAPI spec. Put it beside the clone as ../shared or set {SHARED_DIR_ENV}."
    )


def require_file(path: Path, *, what: str) -> Path:
    """Return ``path`` if it is a file, else fail with a message that says what is missing."""
    if not path.is_file():
        raise SharedDataMissing(
            f"{what} not found at {path}; set {SHARED_DIR_ENV} to the directory holding it"
        )
    return path
