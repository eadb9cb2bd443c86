#!/usr/bin/env python3
"""Copy the repository's configuration into the Helm chart, which ships it as its default.

Helm reads only files inside a chart (``.Files``), so the chart cannot use the repository's
top-level ``actions/``, ``blueprints/`` and ``scorecards/`` directly. This script mirrors them
into ``port-bridge/files/``, from where the chart builds its ConfigMaps (``config.shipped``),
and the ActionRun CRD from ``deploy/crds/`` into ``port-bridge/crds/``.

    python3 deploy/helm/sync.py            # copy
    python3 deploy/helm/sync.py --check    # exit 1 if the chart's copy is out of date

Only the standard library is used, so it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHART = HERE / "port-bridge"
SECTIONS = ("actions", "blueprints", "scorecards")
SUFFIXES = (".yaml", ".yml", ".json")
CRD = "actionruns.port-bridge.io.yaml"


def expected(repo: Path = REPO) -> dict[str, bytes]:
    """Every file the chart should hold a copy of, by its path inside the chart."""
    files = {f"crds/{CRD}": (repo / "deploy" / "crds" / CRD).read_bytes()}
    for section in SECTIONS:
        root = repo / section
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(repo)
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and not any(p.startswith(".") for p in relative.parts)
            ):
                files[f"files/{relative.as_posix()}"] = path.read_bytes()
    return files


def present(chart: Path = CHART) -> dict[str, bytes]:
    """The copies the chart holds now."""
    found = {
        path.relative_to(chart).as_posix(): path.read_bytes()
        for section in SECTIONS
        for path in sorted((chart / "files" / section).rglob("*"))
        if path.is_file()
    }
    if (chart / "crds" / CRD).is_file():
        found[f"crds/{CRD}"] = (chart / "crds" / CRD).read_bytes()
    return found


def differences(repo: Path = REPO, chart: Path = CHART) -> list[str]:
    want, have = expected(repo), present(chart)
    problems = []
    for path in sorted(want.keys() | have.keys()):
        if path not in have:
            problems.append(f"{path}: missing")
        elif path not in want:
            problems.append(f"{path}: not in the repository")
        elif want[path] != have[path]:
            problems.append(f"{path}: differs")
    return problems


def write(repo: Path = REPO, chart: Path = CHART) -> None:
    for section in SECTIONS:
        shutil.rmtree(chart / "files" / section, ignore_errors=True)
    for path, content in expected(repo).items():
        destination = chart / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for problem in problems:
            print(f"deploy/helm/port-bridge/{problem}", file=sys.stderr)
        if problems:
            print("out of date: run python3 deploy/helm/sync.py", file=sys.stderr)
        return 1 if problems else 0
    write()
    print(f"wrote {CHART}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
