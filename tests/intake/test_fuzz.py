"""Property-based fuzzing of POST /webhook: whatever arrives, never a 500, and nothing is stored
for a caller who cannot sign as Port."""

from __future__ import annotations

import json
import time
from typing import Any

import kubernetes
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from port_bridge.kube.actionruns import ACTIONRUNS, actionrun_name
from port_bridge.kube.objects import KubeObjects
from port_bridge_sandbox.port import PortEmulator, port_json, sign
from tests.conftest import BRIDGE_NAMESPACE

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
ACTIONS = st.sampled_from(["create-postgresql", "update-redis", "delete-namespace", "create-mongodb", "", 7])
runlike = st.fixed_dictionaries(
    {"runId": st.one_of(st.text(max_size=30), st.none(), st.integers())},
    optional={
        "action": ACTIONS,
        "operation": st.sampled_from(["CREATE", "DAY-2", "DELETE", "UPSERT", None]),
        "inputs": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.text(max_size=70),
                    "env": st.text(max_size=6),
                    "namespace": st.text(max_size=12),
                    "size": st.text(max_size=6),
                    "backupEnabled": json_values,
                },
            ),
        ),
        "entity": json_values,
        "trigger": json_values,
    },
)
legacy = st.fixed_dictionaries(
    {
        "action": ACTIONS,
        "context": st.one_of(json_values, st.fixed_dictionaries({"runId": st.text(min_size=1, max_size=20)})),
        "payload": st.one_of(
            json_values, st.fixed_dictionaries({"properties": json_values, "entity": json_values})
        ),
    }
)
# What Python's json reads but Port never sends: nesting deeper than any parser or validator
# should follow, numbers no float64 holds, NaN, and lone UTF-16 surrogates (json.dumps escapes them).
surrogate_text = st.tuples(st.text(max_size=4), st.integers(0xD800, 0xDFFF).map(chr), st.text(max_size=4))
any_text = st.one_of(st.text(max_size=12), surrogate_text.map("".join))
depths = st.one_of(st.integers(min_value=1, max_value=100), st.sampled_from([63, 64, 65, 1000, 3000, 6000]))
deep = depths.map(lambda depth: "[" * depth + "]" * depth)
awkward_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 400, "1" * 5000])
awkward = st.one_of(deep, awkward_numbers, any_text.map(json.dumps))
awkward_run = st.builds(
    lambda run_id, action, name, field, fragment: (
        f'{{"runId":{run_id},"action":{action},"inputs":{{"name":{name}}},{field}:{fragment}}}'
    ).encode(),
    st.one_of(
        any_text, st.just("r_QOz6WoOB1Q2lmhZZ"), st.text(st.characters(codec="ascii"), max_size=140)
    ).map(json.dumps),
    ACTIONS.map(json.dumps),
    st.one_of(st.just('"cache"'), awkward),
    st.one_of(st.sampled_from(["inputs", "entity", "trigger", "operation", "extra"]), any_text).map(
        json.dumps
    ),
    awkward,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    runlike.map(port_json),
    legacy.map(port_json),
    deep.map(str.encode),
    awkward_run,
)
header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)  # what HTTP can carry
signatures = st.one_of(st.none(), header_text, st.just("v1,"), st.just("v1,AAAA"))
timestamps = st.one_of(
    st.none(),
    header_text,
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.integers(min_value=16, max_value=4000).map(lambda digits: "9" * digits),
)


UNRECORDED = ("malformed_json", "missing_run_id", "invalid_run_id")  # no run id Port could have sent


def stored(kube_client: kubernetes.client.ApiClient) -> int:
    return len(KubeObjects(kube_client).list(ACTIONRUNS, namespace=BRIDGE_NAMESPACE)["items"])


def recorded(kube_client: kubernetes.client.ApiClient, run_id: str) -> bool:
    run = KubeObjects(kube_client).get(ACTIONRUNS, actionrun_name(run_id), namespace=BRIDGE_NAMESPACE)
    return bool(run["spec"]["runId"] == run_id)


@FUZZ
@given(body=bodies, signature=signatures, timestamp=timestamps, upper=st.booleans())
def test_unsigned_or_badly_signed_calls_never_store_anything(
    intake_app: Flask,
    kube_client: kubernetes.client.ApiClient,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    upper: bool,
) -> None:
    names = ("X-Port-Signature", "X-Port-Timestamp") if upper else ("x-port-signature", "x-port-timestamp")
    headers = {
        name: value for name, value in zip(names, (signature, timestamp), strict=True) if value is not None
    }
    before = stored(kube_client)
    answer = intake_app.test_client().post("/webhook", data=body, headers=headers)
    assert answer.status_code == 401
    assert answer.is_json and json.loads(answer.data)["error"] == "unauthorized"
    assert stored(kube_client) == before


@FUZZ
@given(body=bodies, skew=st.integers(min_value=-400, max_value=400))
def test_signed_calls_of_any_shape_get_a_clear_answer_never_a_500(
    intake_app: Flask, port: PortEmulator, kube_client: kubernetes.client.ApiClient, body: bytes, skew: int
) -> None:
    stamp = str(int(time.time()) + skew)
    headers = {
        "x-port-timestamp": stamp,
        "x-port-signature": sign(body, secret=port.client_secret, timestamp=stamp),
    }
    before = stored(kube_client)
    answer = intake_app.test_client().post("/webhook", data=body, headers=headers)
    assert answer.status_code in (200, 202, 400, 401, 404, 409, 422), answer.get_data(as_text=True)
    assert (answer.is_json and "message" in (answer.json or {})) or answer.status_code in (200, 202)
    answer.get_data(as_text=True).encode()  # every answer can be written as UTF-8
    created = stored(kube_client) - before
    refusal = answer.json or {}
    if answer.status_code in (400, 404, 422) and refusal["error"] not in UNRECORDED:
        assert recorded(kube_client, refusal["runId"])  # refused, and the controller will close the run
    if refusal.get("error") in UNRECORDED:
        assert created == 0
    if abs(skew) > 300:
        assert answer.status_code == 401 and created == 0
    if answer.status_code in (400, 401) and (answer.json or {}).get("error") in (
        "malformed_json",
        "missing_run_id",
        "unauthorized",
    ):
        assert created == 0
    body_json: Any = answer.json
    if answer.status_code == 202:
        assert created == 1 and body_json["actionRun"]
