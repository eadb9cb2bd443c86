"""``port-bridge generate PROMISE [--out DIR]``: write a Promise's blueprint and action files.

PROMISE is a file (YAML or JSON, one or more documents; every Promise in it is generated) or the
name of a Promise installed in the cluster, read with the usual Kubernetes settings (in a pod,
its ServiceAccount; else ``KUBECONFIG``). The files land in ``DIR/blueprints`` and
``DIR/actions``, the layout ``PORT_BRIDGE_CONFIG_DIR`` and ``port-bridge apply`` read. A file that
exists with other content (a hand-written action, say) is left alone unless ``--force``: nothing
is written then, and the command names the files.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml
from kubernetes.client import ApiException

from port_bridge.generate.files import render_files
from port_bridge.generate.model import GeneratedModel, GenerateError, generate
from port_bridge.kratix.catalog import PROMISES
from port_bridge.kube.client import (
    KubeConfigError,
    api_client,
    describe_unavailable,
    is_unavailable,
    server_url,
)
from port_bridge.kube.objects import KubeObjects
from port_bridge.settings import ConfigurationError

_FILE_SUFFIXES = (".yaml", ".yml", ".json")
KUBE_TIMEOUT_SECONDS = 10.0


class GenerateFailed(Exception):
    """The command cannot do what was asked; the message says what to change."""


def run_generate(
    source: str,
    *,
    out: Path,
    namespaces: Sequence[str] | None,
    force: bool,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Generate and write; 0 when written, 1 when the input or the destination is the problem."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        models = [generate(promise, namespaces=namespaces) for promise in read_promises(source)]
        files = {path: content for model in models for path, content in render_files(model).items()}
        written = write_files(files, out, force=force)
    except (GenerateFailed, GenerateError) as error:
        print(f"port-bridge: {error}", file=stderr)
        return 1
    for line in written:
        print(line, file=stdout)
    for model in models:
        _report(model, stdout=stdout, stderr=stderr)
    return 0


def read_promises(source: str) -> list[dict[str, Any]]:
    """The Promises in a file, or the one of that name in the cluster."""
    path = Path(source)
    if path.is_file():
        return _promises_in_file(path)
    if path.suffix in _FILE_SUFFIXES or "/" in source:
        raise GenerateFailed(
            f"{source}: no such file (give a Promise file, or a Promise's name in the cluster)"
        )
    return [_promise_in_cluster(source)]


def _promises_in_file(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
        documents = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise GenerateFailed(f"{path}: cannot be read: {' '.join(str(error).split())}") from None
    promises = [
        document for document in documents if isinstance(document, dict) and document.get("kind") == "Promise"
    ]
    if not promises:
        raise GenerateFailed(f"{path}: holds no Promise (a document with kind: Promise)")
    return promises


def _promise_in_cluster(name: str) -> dict[str, Any]:
    try:
        client = api_client()
    except KubeConfigError as error:
        raise ConfigurationError(str(error)) from None
    with client:
        url = server_url(client)
        try:
            return KubeObjects(client, request_timeout=KUBE_TIMEOUT_SECONDS).get(PROMISES, name)
        except ApiException as error:
            if error.status == 404:
                raise GenerateFailed(
                    f"no Promise {name!r} in the cluster at {url} (kubectl get promises lists them)"
                ) from None
            if error.status in (401, 403):
                raise GenerateFailed(
                    f"the Kubernetes API server at {url} refused to show Promise {name!r}: "
                    f"{error.status} {error.reason}"
                ) from None
            if not is_unavailable(error):
                raise
            raise GenerateFailed(
                f"the Kubernetes API server at {url} does not answer ({describe_unavailable(error)})"
            ) from None
        except Exception as error:
            if not is_unavailable(error):
                raise
            raise GenerateFailed(
                f"the Kubernetes API server at {url} does not answer ({describe_unavailable(error)})"
            ) from None


def write_files(files: dict[str, bytes], out: Path, *, force: bool) -> list[str]:
    """Write ``files`` under ``out``; one line per file saying what happened to it."""
    different = [
        relative
        for relative, content in files.items()
        if (out / relative).is_file() and (out / relative).read_bytes() != content
    ]
    if different and not force:
        raise GenerateFailed(
            f"would overwrite {', '.join(str(out / p) for p in different)} (their content differs; "
            "--force replaces them); nothing was written"
        )
    lines = []
    for relative, content in files.items():
        target = out / relative
        if target.is_file() and target.read_bytes() == content:
            lines.append(f"unchanged {target}")
            continue
        verb = "replaced" if target.exists() else "wrote"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        except OSError as error:
            raise GenerateFailed(f"{target}: cannot be written: {error.strerror or error}") from None
        lines.append(f"{verb} {target}")
    return lines


def _report(model: GeneratedModel, *, stdout: TextIO, stderr: TextIO) -> None:
    for warning in model.warnings:
        print(f"port-bridge: warning: Promise {model.promise}: {warning}", file=stderr)
    if model.limitations:
        print(
            f"Promise {model.promise}: left to the Kubernetes API server (the form cannot check or set it):",
            file=stdout,
        )
        for limitation in model.limitations:
            print(f"  {limitation}", file=stdout)
