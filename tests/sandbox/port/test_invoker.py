"""The emulator acting as Port: rendered webhook bodies and signatures a receiver can verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from port_bridge_sandbox.port import PortEmulator, TemplateError, render
from tests.conftest import PortApi
from tests.waiting import wait_for

BLUEPRINT = {
    "identifier": "database",
    "title": "Database",
    "schema": {"properties": {"engine": {"type": "string"}}},
}
BODY = {
    "runId": "{{ .run.id }}",
    "action": "{{ .action.identifier }}",
    "blueprint": "{{ .action.blueprint }}",
    "operation": "{{ .trigger.operation }}",
    "user": "{{ .trigger.by.user.email }}",
    "inputs": "{{ .inputs }}",
    "entity": "{{ .entity }}",
    "replicas": "{{ .inputs.replicas }}",
    "greeting": "Hello {{ .inputs.name }} x{{ .inputs.replicas }}",
    '{{ if .inputs.region then "region" else null end }}': "{{ .inputs.region }}",
    "{{ spreadValue() }}": '{{ {source: "port"} }}',
    "nested": ["{{ .run.id }}", 1, True, None],
}


@dataclass
class Delivery:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook endpoint on loopback that keeps every raw request and answers as told."""

    url: str = ""
    status: int = 202
    answer: Any = field(default_factory=lambda: {"ok": True})
    deliveries: list[Delivery] = field(default_factory=list)
    on_delivery: Callable[[Delivery], None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        delivery = Delivery(request.method, request.path, dict(request.headers), request.get_data())
        self.deliveries.append(delivery)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return Response(json.dumps(self.answer), status=self.status, mimetype="application/json")(
            environ, start_response
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    endpoint.url = f"http://127.0.0.1:{server.port}/webhook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    thread.join(timeout=5)


def _action(url: str, *, operation: str = "CREATE", **invocation: Any) -> dict[str, Any]:
    return {
        "identifier": f"{operation.lower()}_database",
        "title": "Database",
        "trigger": {
            "type": "self-service",
            "operation": operation,
            "blueprintIdentifier": "database",
            "userInputs": {"properties": {"name": {"type": "string"}}},
        },
        "invocationMethod": {"type": "WEBHOOK", "url": url, "body": BODY, **invocation},
    }


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@pytest.fixture
def emulator(port_emulator: PortEmulator) -> PortEmulator:
    port_emulator.add_blueprint(BLUEPRINT)
    return port_emulator


def test_the_body_is_the_rendered_template(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url))
    invocation = emulator.invoke(
        "create_database", inputs={"name": "orders", "replicas": 2}, user_email="ana@example.com"
    )
    assert invocation.response.status_code == 202
    [delivery] = receiver.deliveries
    assert (delivery.method, delivery.path) == ("POST", "/webhook")
    assert json.loads(delivery.body) == {
        "runId": invocation.run_id,
        "action": "create_database",
        "blueprint": "database",
        "operation": "CREATE",
        "user": "ana@example.com",
        "inputs": {"name": "orders", "replicas": 2},
        "entity": {},
        "replicas": 2,
        "greeting": "Hello orders x2",
        "source": "port",
        "nested": [invocation.run_id, 1, True, None],
    }
    assert delivery.body == invocation.body


def test_the_signature_verifies_over_the_raw_body(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url))
    before = int(time.time())
    emulator.invoke("create_database", inputs={"name": "orders"})
    [delivery] = receiver.deliveries
    timestamp = delivery.headers["X-Port-Timestamp"]
    assert before <= int(timestamp) <= time.time()
    assert delivery.headers["X-Port-Signature"] == _expected_signature(
        emulator.client_secret, timestamp, delivery.body
    )
    assert delivery.headers["Content-Type"] == "application/json"


def test_non_ascii_inputs_are_sent_as_utf8_and_signed_as_sent(
    emulator: PortEmulator, receiver: Receiver
) -> None:
    emulator.add_action(_action(receiver.url))
    emulator.invoke("create_database", inputs={"name": "Zoë 日本"})
    [delivery] = receiver.deliveries
    assert "Zoë 日本".encode() in delivery.body
    assert b"\\u" not in delivery.body
    assert b", " not in delivery.body
    timestamp = delivery.headers["X-Port-Timestamp"]
    assert delivery.headers["X-Port-Signature"] == _expected_signature(
        emulator.client_secret, timestamp, delivery.body
    )


def test_timestamp_and_secret_can_be_overridden(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url))
    emulator.invoke("create_database", timestamp=1_600_000_000, secret="not-the-secret")
    [delivery] = receiver.deliveries
    assert delivery.headers["X-Port-Timestamp"] == "1600000000"
    signature = delivery.headers["X-Port-Signature"]
    assert signature == _expected_signature("not-the-secret", "1600000000", delivery.body)
    assert signature != _expected_signature(emulator.client_secret, "1600000000", delivery.body)


def test_the_agent_signs_compact_ascii_json_but_sends_it_spaced(
    emulator: PortEmulator, receiver: Receiver
) -> None:
    emulator.add_action(_action(receiver.url))
    emulator.invoke("create_database", inputs={"name": "Zoë"}, sender="agent")
    [delivery] = receiver.deliveries
    assert b'"inputs": {"name": "Zo\\u00eb"}' in delivery.body
    timestamp = delivery.headers["X-Port-Timestamp"]
    signature = delivery.headers["X-Port-Signature"]
    assert signature != _expected_signature(emulator.client_secret, timestamp, delivery.body)
    compact = json.dumps(json.loads(delivery.body), separators=(",", ":")).encode()
    assert signature == _expected_signature(emulator.client_secret, timestamp, compact)


def test_the_legacy_envelope(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_entity("database", {"identifier": "orders-db", "properties": {"engine": "postgres"}})
    emulator.add_action(_action(receiver.url, operation="DAY-2"))
    invocation = emulator.invoke(
        "day-2_database", inputs={"size": "large"}, entity="orders-db", body_format="legacy"
    )
    body = json.loads(receiver.deliveries[0].body)
    assert (body["action"], body["resourceType"], body["status"]) == ("day-2_database", "run", "TRIGGERED")
    assert set(body["trigger"]) == {"by", "origin", "at"}
    assert body["trigger"]["by"]["user"]["email"] == "developer@example.com"
    assert body["context"] == {"entity": "orders-db", "blueprint": "database", "runId": invocation.run_id}
    assert body["payload"]["entity"]["properties"] == {"engine": "postgres"}
    assert body["payload"]["action"]["trigger"] == "DAY-2"
    assert body["payload"]["action"]["invocationMethod"]["type"] == "WEBHOOK"
    assert body["payload"]["properties"] == {"size": "large"}


def test_a_create_legacy_envelope_has_no_entity(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url))
    emulator.invoke("create_database", body_format="legacy")
    body = json.loads(receiver.deliveries[0].body)
    assert (body["context"]["entity"], body["payload"]["entity"]) == (None, None)


def test_day_2_sends_the_stored_entity_with_its_scorecards(
    emulator: PortEmulator, receiver: Receiver
) -> None:
    emulator.add_scorecard(
        "database",
        {
            "identifier": "basics",
            "title": "Basics",
            "rules": [
                {
                    "identifier": "postgres",
                    "title": "Postgres",
                    "level": "Bronze",
                    "query": {
                        "combinator": "and",
                        "conditions": [{"property": "engine", "operator": "=", "value": "postgres"}],
                    },
                }
            ],
        },
    )
    emulator.add_entity("database", {"identifier": "orders-db", "properties": {"engine": "postgres"}})
    emulator.add_action(_action(receiver.url, operation="DAY-2"))
    invocation = emulator.invoke("day-2_database", entity="orders-db")
    body = json.loads(receiver.deliveries[0].body)
    assert body["operation"] == "DAY-2"
    assert body["entity"]["identifier"] == "orders-db"
    assert body["entity"]["scorecards"]["basics"]["level"] == "Bronze"
    assert emulator.run(invocation.run_id).entity == "orders-db"


def test_the_run_is_created_in_progress_with_the_resolved_invocation(
    emulator: PortEmulator, receiver: Receiver, port_api: PortApi
) -> None:
    emulator.add_action(_action(receiver.url, headers={"X-Run-Id": "{{ .run.id }}"}))
    invocation = emulator.invoke("create_database", inputs={"name": "orders"})
    assert receiver.deliveries[0].headers["X-Run-Id"] == invocation.run_id
    run = port_api.get(f"/v1/actions/runs/{invocation.run_id}").json()["run"]
    assert run["status"] == "IN_PROGRESS"
    assert run["properties"] == {"name": "orders"}
    assert run["payload"]["url"] == receiver.url
    assert run["payload"]["body"]["runId"] == invocation.run_id
    assert run["payload"]["headers"] == {"X-Run-Id": invocation.run_id}


def test_url_templates_read_secrets_and_can_be_overridden(port_spec_path: Any, receiver: Receiver) -> None:
    base = receiver.url.removesuffix("/webhook")
    with PortEmulator(spec_path=port_spec_path, secrets={"bridge": base}) as emulator:
        emulator.add_blueprint(BLUEPRINT)
        emulator.add_action(_action("{{ .secrets.bridge }}/hooks/{{ .action.identifier }}", method="PUT"))
        emulator.invoke("create_database")
        emulator.invoke("create_database", url=receiver.url)
    assert [(d.method, d.path) for d in receiver.deliveries] == [
        ("PUT", "/hooks/create_database"),
        ("PUT", "/webhook"),
    ]


@pytest.mark.parametrize(("status", "outcome"), [(200, "SUCCESS"), (500, "FAILURE")])
def test_a_synchronized_action_is_closed_from_the_answer(
    emulator: PortEmulator, receiver: Receiver, status: int, outcome: str
) -> None:
    receiver.status, receiver.answer = status, {"result": "done"}
    emulator.add_action(_action(receiver.url, synchronized=True))
    run = emulator.run(emulator.invoke("create_database").run_id)
    assert run.status == outcome
    assert run.response == {"result": "done"}
    assert len(run.terminal_reports) == 1


def test_a_synchronized_run_refuses_reports_from_the_backend(
    emulator: PortEmulator, receiver: Receiver, port_api: PortApi
) -> None:
    answers: list[dict[str, Any]] = []
    receiver.on_delivery = lambda delivery: answers.append(
        port_api.patch(
            f"/v1/actions/runs/{json.loads(delivery.body)['runId']}", json={"status": "FAILURE"}
        ).json()
    )
    emulator.add_action(_action(receiver.url, synchronized=True))
    run = emulator.run(emulator.invoke("create_database").run_id)
    assert [answer["error"] for answer in answers] == ["run_synchronized_error"]
    assert run.status == "SUCCESS"
    assert [refusal.reason for refusal in run.refusals] == ["run_synchronized_error"]


def test_invoking_needs_a_stored_webhook_action(emulator: PortEmulator, receiver: Receiver) -> None:
    with pytest.raises(LookupError, match="no action"):
        emulator.invoke("nope")
    emulator.add_action({**_action(receiver.url), "invocationMethod": {"type": "KAFKA"}})
    with pytest.raises(ValueError, match="not a WEBHOOK"):
        emulator.invoke("create_database")
    emulator.add_action(_action(receiver.url, operation="DAY-2"))
    with pytest.raises(LookupError, match="ghost"):
        emulator.invoke("day-2_database", entity="ghost")
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{{ .n }}", 3),
        ("  {{ .obj }}  ", {"a": [1, 2]}),
        ("{{ .missing }}", None),
        ("{{ empty }}", None),
        ("n={{ .n }} obj={{ .obj }} none={{ .missing }}", 'n=3 obj={"a":[1,2]} none=null'),
        ("{{ .s }}-{{ .s }}", "é-é"),
        ("plain text", "plain text"),
        ({"{{ .s }}": "{{ .n + 1 }}", "{{ null }}": "dropped"}, {"é": 4}),
        (["{{ .n }}", {"k": "{{ .s }}"}], [3, {"k": "é"}]),
        ("{{ env | length }}", 0),
        ("{{ $ENV | length }}", 0),
    ],
)
def test_templates(template: Any, rendered: Any) -> None:
    context = {"n": 3, "obj": {"a": [1, 2]}, "s": "é"}
    assert render(template, context) == rendered


def test_a_broken_template_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="does not compile"):
        render("{{ .[ }}", {})


# -- Delivery through Port's execution agent ----------------------------------------------------

AGENT_BEFORE = [
    "An action message has been received",
    "Preparing the payload for the request",
    "Sending the request",
]


def test_the_agent_forwards_the_body_with_what_it_adds(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url, headers={"X-Team": "{{ .inputs.name }}"}))
    invocation = emulator.invoke("create_database", inputs={"name": "orders"}, sender="agent")
    [delivery] = receiver.deliveries
    body = json.loads(delivery.body)
    assert body["runId"] == invocation.run_id and body["inputs"] == {"name": "orders"}
    assert body["headers"] == {"X-Team": "orders"}  # the action's headers travel in the body...
    assert "X-Team" not in delivery.headers  # ...not as HTTP headers
    assert body["payload"]["action"]["invocationMethod"] == {
        "type": "WEBHOOK",
        "url": receiver.url,
        "synchronized": False,
        "method": "POST",
        "headers": {"X-Team": "orders"},
    }  # without "agent": the agent pops it before forwarding
    assert body["context"] == {"runId": invocation.run_id}
    assert emulator.run(invocation.run_id).payload["agent"] is True  # type: ignore[index]


def test_the_agent_leaves_a_2xx_run_to_the_backend(emulator: PortEmulator, receiver: Receiver) -> None:
    emulator.add_action(_action(receiver.url))
    run = emulator.run(emulator.invoke("create_database", sender="agent").run_id)
    assert run.status == "IN_PROGRESS" and run.patches == []
    assert [log.message for log in run.logs] == [
        *AGENT_BEFORE,
        "Action invocation has completed successfully with status code: 202",
        "Port agent finished processing the action run",
    ]


def test_the_agent_reports_a_non_2xx_answer_as_failure_twice(
    emulator: PortEmulator, receiver: Receiver
) -> None:
    receiver.status, receiver.answer = 422, {"error": "invalid_inputs", "message": "name is bad"}
    emulator.add_action(_action(receiver.url))
    run = emulator.run(emulator.invoke("create_database", sender="agent").run_id)
    text = '{"error": "invalid_inputs", "message": "name is bad"}'
    assert run.status == "FAILURE"
    assert run.summary == f"Failed to invoke the webhook with status code: 422. Response: {text}"
    assert [log.message for log in run.logs] == [
        *AGENT_BEFORE,
        f"Action invocation failed with status code: 422 and response: {text}",
    ]
    assert run.patches == [{"status": "FAILURE", "summary": run.summary}]
    # then the agent's consumer reports "Agent failed to process the run", refused: the run has ended
    assert [(refusal.request, refusal.reason) for refusal in run.refusals] == [
        (f"PATCH /v1/actions/runs/{run.id} (execution agent)", "run_exhausted")
    ]
    assert len(run.terminal_reports) == 1


@pytest.mark.parametrize(("status", "outcome"), [(200, "SUCCESS"), (500, "FAILURE")])
def test_the_agent_closes_a_synchronized_run_itself(
    emulator: PortEmulator, receiver: Receiver, status: int, outcome: str
) -> None:
    receiver.status, receiver.answer = status, {"result": "done"}
    emulator.add_action(_action(receiver.url, synchronized=True))
    run = emulator.run(emulator.invoke("create_database", sender="agent").run_id)
    assert run.status == outcome and len(run.terminal_reports) == 1
    assert run.response == {"result": "done"}
    assert [change.via for change in run.terminal_reports] == ["PATCH"]  # the agent's, not Port's
    messages = [log.message for log in run.logs]
    assert messages[3:6] == [
        f"Action invocation {'has completed successfully' if status == 200 else 'failed'} with status code: "
        f"{status}" + ("" if status == 200 else ' and response: {"result": "done"}'),
        "Reporting the run response",
        "The run response was reported successfully ",
    ]


def test_an_unreachable_backend_is_reported_once_by_the_agent(
    emulator: PortEmulator, receiver: Receiver
) -> None:
    emulator.add_action(_action("http://127.0.0.1:9/webhook"))
    with pytest.raises(requests.ConnectionError):
        emulator.invoke("create_database", sender="agent")
    [run] = emulator.runs()
    assert (run.status, run.summary) == ("FAILURE", "Agent failed to process the run")
    assert [log.message for log in run.logs] == AGENT_BEFORE


def test_a_run_started_through_the_api_sends_the_signed_webhook(
    emulator: PortEmulator, receiver: Receiver, port_api: PortApi
) -> None:
    emulator.invoker.set_secret("bridge", receiver.url.removesuffix("/webhook"))
    emulator.add_action(_action("{{ .secrets.bridge }}/webhook"))
    delivered = threading.Event()
    receiver.on_delivery = lambda _delivery: delivered.set()
    answer = port_api.post("/v1/actions/create_database/runs", json={"properties": {"name": "orders"}})
    assert answer.status_code == 202
    run_id = answer.json()["run"]["id"]
    assert delivered.wait(10)
    (delivery,) = receiver.deliveries
    timestamp = delivery.headers["X-Port-Timestamp"]
    expected = _expected_signature(emulator.client_secret, timestamp, delivery.body)
    assert hmac.compare_digest(delivery.headers["X-Port-Signature"], expected)
    body = json.loads(delivery.body)
    assert (body["runId"], body["inputs"], body["operation"]) == (run_id, {"name": "orders"}, "CREATE")


def test_a_run_whose_webhook_cannot_be_delivered_ends_failure(
    emulator: PortEmulator, receiver: Receiver, port_api: PortApi
) -> None:
    emulator.add_action(_action("http://127.0.0.1:9/webhook"))
    run_id = port_api.post("/v1/actions/create_database/runs", json={"properties": {}}).json()["run"]["id"]
    ended = wait_for(lambda: emulator.run(run_id).status != "IN_PROGRESS" and emulator.run(run_id))
    assert ended.status == "FAILURE"
    assert ended.summary is not None and "could not invoke" in ended.summary
    assert receiver.deliveries == []
