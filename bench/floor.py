"""The floor handler for bench/intake.py: the least any webhook receiver must do per run.

Verify Port's HMAC signature, then make the one Kubernetes create that stores the run, through
the official ``kubernetes`` client built the way intake builds it; nothing else (no Flask, no
validation, no mapping, no logging, no metrics). Served by gunicorn with intake's worker class,
workers and threads, it is the baseline intake's latency and throughput are divided by.

The object created is an ActionRun of exactly the size intake stores: the benchmark gives a
template (an ActionRun intake created in the same run) in ``BENCH_FLOOR_TEMPLATE``; each request
only sets the run id and the name. Configured from the environment like intake: ``KUBECONFIG``,
``PORT_CLIENT_SECRET``, ``PORT_BRIDGE_NAMESPACE``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kubernetes.client import CustomObjectsApi

from port_bridge.kube.actionruns import RUN_ID_ANNOTATION, RUN_ID_LABEL, actionrun_name
from port_bridge.kube.client import api_client

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_SECRET = os.environ["PORT_CLIENT_SECRET"].encode()
_NAMESPACE = os.environ.get("PORT_BRIDGE_NAMESPACE", "port-bridge")
_TEMPLATE: dict[str, Any] = json.loads(Path(os.environ["BENCH_FLOOR_TEMPLATE"]).read_text())
_WINDOW_SECONDS = 300
_objects = CustomObjectsApi(api_client())  # built in each worker: gunicorn imports the app after forking


def _answer(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _verified(environ: dict[str, Any], body: bytes) -> bool:
    timestamp = environ.get("HTTP_X_PORT_TIMESTAMP", "")
    offered = environ.get("HTTP_X_PORT_SIGNATURE", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > _WINDOW_SECONDS:
        return False
    digest = hmac.new(_SECRET, timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return hmac.compare_digest(offered.encode(), b"v1," + base64.b64encode(digest))


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        return _answer(start_response, "200 OK", {"status": "alive"})
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if not _verified(environ, body):
        return _answer(start_response, "401 Unauthorized", {"error": "unauthorized"})
    run_id = json.loads(body)["runId"]
    manifest = copy.deepcopy(_TEMPLATE)
    manifest["metadata"]["name"] = name = actionrun_name(run_id)
    manifest["metadata"]["labels"][RUN_ID_LABEL] = run_id
    manifest["metadata"]["annotations"][RUN_ID_ANNOTATION] = run_id
    manifest["spec"]["runId"] = run_id
    _objects.create_namespaced_custom_object(
        "port-bridge.io", "v1alpha1", _NAMESPACE, "actionruns", manifest, _request_timeout=10.0
    )
    return _answer(start_response, "202 Accepted", {"runId": run_id, "actionRun": name})
