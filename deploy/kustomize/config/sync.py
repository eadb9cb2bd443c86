#!/usr/bin/env python3
"""Copy port-bridge's configuration into a kustomize component that mounts it in the pods.

Kustomize reads files only from inside a kustomization's own directory (it refuses ``..`` and
symlinks that lead out of it), and a component at the repository's root would contain the
overlays that use it (a cycle kustomize refuses too), so ConfigMaps cannot be generated straight
from the repository's ``actions/``, ``blueprints/`` and ``scorecards/``. This script mirrors those
directories here and writes ``kustomization.yaml``: one ConfigMap per directory (a ConfigMap holds
flat keys, so each ``scorecards/<blueprint>/`` gets its own) and the read-only volumes that mount
each one at ``PORT_BRIDGE_CONFIG_DIR/<directory>`` in every port-bridge Deployment.

    python3 deploy/kustomize/config/sync.py            # from the repository's own directories
    python3 deploy/kustomize/config/sync.py --check    # exit 1 if this copy is out of date
    python3 deploy/kustomize/config/sync.py --from ~/platform/port --to ~/platform/deploy/port-bridge-config

Only the standard library is used, so it runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
CONFIG_DIR = "/etc/port-bridge"  # PORT_BRIDGE_CONFIG_DIR in the Deployments
NAMESPACE = "port-bridge"
SECTIONS = ("actions", "blueprints", "scorecards")
SUFFIXES = (".yaml", ".yml", ".json")
KEY = re.compile(r"[-._a-zA-Z0-9]+")  # what Kubernetes accepts as a ConfigMap key
MAX_CONFIGMAP_BYTES = 1_000_000  # the API server refuses larger ConfigMaps (1 MiB with metadata)
MAX_VOLUME_NAME = 63


class ConfigProblem(Exception):
    """The source directory cannot be turned into ConfigMaps; the message says why."""


def _config_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and path.suffix in SUFFIXES and not path.name.startswith(".")
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class Group:
    """One ConfigMap: the files of one directory, mounted at one path."""

    def __init__(self, configmap: str, volume: str, mount: str, files: dict[str, bytes]) -> None:
        self.configmap, self.volume, self.mount, self.files = configmap, volume, mount, files


def collect(source: Path) -> list[Group]:
    """The ConfigMaps ``source`` makes, keyed by paths relative to it."""
    groups: list[Group] = []
    for section in ("actions", "blueprints"):
        files = {f"{section}/{path.name}": path.read_bytes() for path in _config_files(source / section)}
        if files:
            groups.append(
                Group(f"port-bridge-{section}", f"config-{section}", f"{CONFIG_DIR}/{section}", files)
            )
    scorecards = source / "scorecards"
    blueprints = (
        sorted(p for p in scorecards.iterdir() if p.is_dir() and not p.name.startswith("."))
        if (scorecards.is_dir())
        else []
    )
    for blueprint in blueprints:
        files = {
            f"scorecards/{blueprint.name}/{path.name}": path.read_bytes() for path in _config_files(blueprint)
        }
        if not files:
            continue
        if not KEY.fullmatch(blueprint.name) or not _slug(blueprint.name):
            raise ConfigProblem(
                f"scorecards/{blueprint.name}: use letters, digits, '-', '_' and '.' in the name"
            )
        slug = _slug(blueprint.name)
        groups.append(
            Group(
                f"port-bridge-scorecards-{slug}",
                f"config-scorecards-{slug}",
                f"{CONFIG_DIR}/scorecards/{blueprint.name}",
                files,
            )
        )
    _validate(groups)
    return groups


def _validate(groups: list[Group]) -> None:
    if not any(group.configmap == "port-bridge-actions" for group in groups):
        raise ConfigProblem("no action files (actions/*.yaml): port-bridge will not start without one")
    seen: dict[str, str] = {}
    for group in groups:
        if group.volume in seen:
            raise ConfigProblem(
                f"{group.mount} and {seen[group.volume]} would share the volume {group.volume}"
            )
        seen[group.volume] = group.mount
        if len(group.volume) > MAX_VOLUME_NAME:
            raise ConfigProblem(f"{group.mount}: the name is too long for a volume ({group.volume})")
        for path in group.files:
            if not KEY.fullmatch(path.rsplit("/", 1)[1]):
                raise ConfigProblem(f"{path}: a ConfigMap key allows only letters, digits, '-', '_' and '.'")
        size = sum(len(content) for content in group.files.values())
        if size > MAX_CONFIGMAP_BYTES:
            raise ConfigProblem(
                f"{group.mount}: {size} bytes is more than one ConfigMap holds; split the files"
            )


def kustomization(groups: list[Group]) -> str:
    """The component's kustomization.yaml for ``groups``."""
    lines = [
        "# GENERATED by sync.py: edit the files in actions/, blueprints/ and scorecards/ (in the",
        "# repository's top-level directories for the shipped configuration), then run",
        "#   python3 deploy/kustomize/config/sync.py",
        "#",
        "# One ConfigMap per directory (ConfigMap keys are flat), each mounted read-only at",
        f"# {CONFIG_DIR}/<directory> (PORT_BRIDGE_CONFIG_DIR) in every port-bridge Deployment.",
        "# kustomize adds a hash of the content to each ConfigMap's name, so a change rolls the pods.",
        "apiVersion: kustomize.config.k8s.io/v1alpha1",
        "kind: Component",
        "configMapGenerator:",
    ]
    for group in groups:
        lines += [
            f"  - name: {group.configmap}",
            f"    namespace: {NAMESPACE}",
            "    options:",
            "      labels:",
            "        app.kubernetes.io/name: port-bridge",
            "        app.kubernetes.io/part-of: port-bridge",
            "    files:",
            *(f"      - {path}" for path in group.files),
        ]
    lines += [
        "patches:",
        "  - target:",
        "      kind: Deployment",
        "      labelSelector: app.kubernetes.io/name=port-bridge",
        "    patch: |-",
    ]
    for group in groups:
        lines += [
            "      - op: add",
            "        path: /spec/template/spec/volumes/-",
            "        value:",
            f"          name: {group.volume}",
            "          configMap:",
            f"            name: {group.configmap}",
            "      - op: add",
            "        path: /spec/template/spec/containers/0/volumeMounts/-",
            "        value:",
            f"          name: {group.volume}",
            f"          mountPath: {group.mount}",
            "          readOnly: true",
        ]
    return "\n".join(lines) + "\n"


def expected(source: Path) -> dict[str, bytes]:
    """Every file the component directory should hold, relative to it."""
    groups = collect(source)
    files = {path: content for group in groups for path, content in group.files.items()}
    files["kustomization.yaml"] = kustomization(groups).encode()
    return files


def present(target: Path) -> dict[str, bytes]:
    """The files the component directory holds now (those this script manages)."""
    found = {
        str(path.relative_to(target)): path.read_bytes()
        for section in SECTIONS
        if (target / section).is_dir()
        for path in sorted((target / section).rglob("*"))
        if path.is_file()
    }
    if (target / "kustomization.yaml").is_file():
        found["kustomization.yaml"] = (target / "kustomization.yaml").read_bytes()
    return found


def differences(source: Path, target: Path) -> list[str]:
    want, have = expected(source), present(target)
    return [
        f"{path}: {'missing' if path not in have else 'not in the source' if path not in want else 'differs'}"
        for path in sorted(want.keys() | have.keys())
        if want.get(path) != have.get(path)
    ]


def write(source: Path, target: Path) -> None:
    files = expected(source)
    for section in SECTIONS:
        shutil.rmtree(target / section, ignore_errors=True)
    for path, content in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=REPO,
        help="the directory holding actions/, blueprints/, scorecards/ (default: the repository)",
    )
    parser.add_argument(
        "--to",
        dest="target",
        type=Path,
        default=HERE,
        help="the component directory to write (default: this script's directory)",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if the copy is out of date"
    )
    args = parser.parse_args(argv)
    source, target = args.source.resolve(), args.target.resolve()
    if source == target:
        parser.error(
            "--from and --to must be different directories (kustomize cannot build a component "
            "whose directory contains the overlay that uses it)"
        )
    try:
        if args.check:
            problems = differences(source, target)
            for problem in problems:
                print(f"{target.name}/{problem}", file=sys.stderr)
            if problems:
                print(f"out of date: run {Path(__file__).name} without --check", file=sys.stderr)
            return 1 if problems else 0
        write(source, target)
    except ConfigProblem as problem:
        print(f"sync.py: {problem}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
