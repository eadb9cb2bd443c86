"""The image is reproducible: hash-pinned locks, a base image pinned by digest, dependencies first.

There is no Docker engine where the suite runs, so deploy/Dockerfile is read (with the parser
test_manifests.py uses) rather than built, and the locks are checked against pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.test_manifests import DEPLOY, REPO, Instruction, dockerfile_stages

RUNTIME_LOCK = REPO / "requirements.lock"
BUILD_LOCK = DEPLOY / "requirements-build.lock"
SHA256 = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]  # who requires it, as the lock's comments say


def read_lock(path: Path) -> dict[str, Pin]:
    """Each entry of a pip-compile/uv lock: ``name==version \\ --hash=... # via ...``."""
    entries: dict[str, Pin] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[a-z0-9])", text, flags=re.IGNORECASE):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        requirement = Requirement(head)
        [specifier] = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {head} is not pinned"
        via = re.findall(r"# via (.*)|#\s{3,}(\S.*)", block)
        entries[canonicalize_name(requirement.name)] = Pin(
            canonicalize_name(requirement.name),
            specifier.version,
            tuple(SHA256.findall(block)),
            tuple(name.strip() for pair in via for part in pair for name in part.split(",") if name.strip()),
        )
    return entries


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(line) for line in project["project"]["dependencies"]]


@pytest.fixture(scope="module")
def runtime_lock() -> dict[str, Pin]:
    return read_lock(RUNTIME_LOCK)


def test_every_runtime_dependency_is_locked_within_its_range(runtime_lock: dict[str, Pin]) -> None:
    for requirement in runtime_requirements():
        pin = runtime_lock.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement.name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pin.version), f"{requirement} but the lock has {pin.version}"


def test_the_lock_holds_only_what_the_runtime_needs(runtime_lock: dict[str, Pin]) -> None:
    direct = {canonicalize_name(r.name) for r in runtime_requirements()}
    for pin in runtime_lock.values():
        assert pin.via, f"{pin.name}: the lock says nothing requires it"
        parents = {canonicalize_name(name.split(" ")[0]) for name in pin.via}
        assert pin.name in direct or parents & runtime_lock.keys(), f"{pin.name} via {pin.via}"
    # The sandbox's and the tests' packages stay out of the image.
    assert not {"kmock", "jsonpatch", "pytest", "hypothesis", "mypy", "ruff"} & runtime_lock.keys()


def test_every_locked_file_is_checked_by_hash() -> None:
    for lock in (RUNTIME_LOCK, BUILD_LOCK):
        pins = read_lock(lock)
        assert pins
        for pin in pins.values():
            assert pin.hashes, f"{lock.name}: {pin.name} has no --hash"


def test_the_build_lock_satisfies_the_build_system() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    build = read_lock(BUILD_LOCK)
    for line in project["build-system"]["requires"]:
        requirement = Requirement(line)
        pin = build.get(canonicalize_name(requirement.name))
        assert pin is not None and requirement.specifier.contains(pin.version), line


@pytest.fixture(scope="module")
def stages() -> tuple[dict[str, str], list[list[Instruction]]]:
    return dockerfile_stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))


def test_the_base_image_is_pinned_by_digest_through_a_build_argument(
    stages: tuple[dict[str, str], list[list[Instruction]]],
) -> None:
    args, found = stages
    for stage in found:
        [reference] = re.findall(r"\$\{(\w+)\}", stage[0].arguments)
        assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", args[reference]), args[reference]


def test_dependencies_are_installed_from_the_locks_before_the_code_is_copied(
    stages: tuple[dict[str, str], list[list[Instruction]]],
) -> None:
    build = stages[1][0]
    copies = [i.arguments.split()[:-1] for i in build if i.keyword == "COPY"]
    code = next(n for n, i in enumerate(build) if i.keyword == "COPY" and "port_bridge" in i.arguments)
    for lock in ("requirements.lock", "deploy/requirements-build.lock"):
        [position] = [n for n, i in enumerate(build) if i.keyword == "COPY" and lock in i.arguments.split()]
        name = Path(lock).name
        [install] = [
            n
            for n, i in enumerate(build)
            if i.keyword == "RUN" and f"-r {name}" in i.arguments.replace("\\", "")
        ]
        assert position < install < code, f"{lock} is installed in a layer of its own, before the code"
        assert (
            "--require-hashes" in build[install].arguments
            and "--only-binary=:all:" in build[install].arguments
        )
    assert [c for c in copies if "pyproject.toml" in c], "the project is copied after its dependencies"
    [own] = [i.arguments for i in build[code:] if i.keyword == "RUN" and "wheel" in i.arguments]
    assert "--no-deps" in own and "--no-build-isolation" in own, "nothing unlocked is fetched for the project"


def test_both_ports_are_exposed(stages: tuple[dict[str, str], list[list[Instruction]]]) -> None:
    runtime = stages[1][-1]
    exposed = {port for i in runtime if i.keyword == "EXPOSE" for port in i.arguments.split()}
    assert exposed == {"8080", "8081"}
