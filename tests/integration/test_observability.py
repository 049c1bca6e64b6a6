"""On Lambda every function logs JSON through Powertools' Logger with the request's correlation id, and the token
endpoint and the guard emit CloudWatch metrics in the embedded metric format (docs/operations.md). Off Lambda the
handlers run bare. The Lambda case runs the real handlers in a child interpreter with Lambda's environment
(AWS_LAMBDA_FUNCTION_NAME), behind the local gateway, and reads what they print."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.conftest import REPO

CHILD = textwrap.dedent("""
    import json, sys
    from passport.config import load_settings
    from passport.local.gateway import LocalGateway

    gateway = LocalGateway(load_settings())
    basic, host = sys.argv[1], sys.argv[2]
    headers = [("Host", host), ("Authorization", "Basic " + basic),
               ("Content-Type", "application/x-www-form-urlencoded")]
    ok = gateway.dispatch("POST", "/oauth/token", headers, b"grant_type=client_credentials&scope=orders:read")
    bad = gateway.dispatch("POST", "/oauth/token", headers, b"grant_type=password")
    token = json.loads(ok.body)["access_token"]
    api = gateway.dispatch("GET", "/api/orders", [("Host", host), ("Authorization", "Bearer " + token)], b"")
    print("STATUSES", ok.status, bad.status, api.status, flush=True)
""")


#: What Lambda's runtime sets for an actively traced function: X-Ray's SDK reads these to know it is on Lambda,
#: which trace the invocation belongs to, and where the X-Ray daemon listens (UDP).
TRACE_ID = "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def lambda_lines(env, client, function: str = "token", daemon: str = "127.0.0.1:9", **environ: str) -> list[dict]:
    basic = base64.b64encode(f"{quote(client.client_id)}:{quote(client.secret)}".encode()).decode()
    child_env = {**os.environ, "AWS_LAMBDA_FUNCTION_NAME": f"passport-{function}", "LAMBDA_TASK_ROOT": str(REPO),
                 "_X_AMZN_TRACE_ID": TRACE_ID, "AWS_XRAY_DAEMON_ADDRESS": daemon,
                 "POWERTOOLS_SERVICE_NAME": "passport-token", "POWERTOOLS_METRICS_NAMESPACE": "LambdaPassport",
                 **environ}
    out = subprocess.run([sys.executable, "-c", CHILD, basic, env.settings.issuer_url.split("://", 1)[1]],
                         env=child_env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "STATUSES 200 400 200" in out.stdout, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_on_lambda_logs_are_powertools_json_with_the_correlation_id_and_tokens_are_counted(env, client):
    lines = lambda_lines(env, client)
    audit = [line for line in lines if "token_issued" in str(line.get("message"))]
    assert len(audit) == 1
    entry = audit[0]
    assert entry["service"] == "passport-token" and entry["level"] == "INFO"
    assert entry["correlation_id"] and entry["cold_start"] in (True, False)
    assert entry["function_request_id"]
    emf = [line for line in lines if "_aws" in line]
    issued = [m for m in emf if "TokensIssued" in m]
    failed = [m for m in emf if "GrantFailures" in m]
    assert issued and issued[0]["grant_type"] == "client_credentials" and issued[0]["TokensIssued"] == [1.0]
    assert failed and failed[0]["error"] in ("unsupported_grant_type", "unauthorized_client")
    namespaces = {d["Namespace"] for m in emf for d in m["_aws"]["CloudWatchMetrics"]}
    assert namespaces == {"LambdaPassport"}
    # no line carries a secret, the token or the Basic credentials
    text = json.dumps(lines)
    assert client.secret not in text and "Basic " not in text and "eyJ" not in text


@contextlib.contextmanager
def xray_daemon() -> Iterator[tuple[str, list[dict]]]:
    """A UDP socket on loopback standing in for the X-Ray daemon; yields its address and the segments it got."""
    received: list[dict] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}", received
        sock.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while True:
                header, _, body = sock.recv(65536).decode().partition("\n")
                assert json.loads(header) == {"format": "json", "version": 1}
                received.append(json.loads(body))


@pytest.mark.slow
def test_with_the_tracer_on_each_invocation_and_each_aws_call_is_traced_and_no_trace_carries_a_token(env, client):
    with xray_daemon() as (address, segments):
        lines = lambda_lines(env, client, daemon=address, PASSPORT_OBSERVABILITY_TRACER="true")
    trace = TRACE_ID.split(";")[0].removeprefix("Root=")
    assert segments and {s["trace_id"] for s in segments} == {trace}
    handlers = [s for s in segments if s["name"] == "## handler"]
    # the token endpoint twice and the demo API; never the guard (it runs on every API call and a subsegment costs
    # more than its decision)
    services = sorted(s["annotations"]["Service"] for s in handlers)
    assert services == ["passport-token"] * 3
    assert all("ColdStart" in s["annotations"] for s in handlers)
    calls = [s for s in segments if s.get("namespace") == "aws"]
    assert {s["name"] for s in calls} <= {"dynamodb", "secretsmanager"}
    operations = {s["aws"]["operation"] for s in calls if s["name"] == "dynamodb"}
    # the models' calls, made by the signed client (passport.aws_json) as on Lambda, each in its own subsegment
    assert {"GetItem", "PutItem"} <= operations
    assert all(s["aws"].get("table_name") or s["aws"].get("table_names") for s in calls if s["name"] == "dynamodb")
    # neither answers nor events nor keys are recorded
    assert not [s for s in handlers if "metadata" in s]
    text = json.dumps(segments)
    assert client.secret not in text and "eyJ" not in text and "Basic " not in text and '"Key"' not in text
    assert lines  # the logs still flowed


@pytest.mark.slow
def test_by_default_no_function_sends_x_ray_subsegments(env, client):
    """[observability] tracer is off as shipped: Lambda's active tracing alone records the invocations."""
    with xray_daemon() as (address, segments):
        assert lambda_lines(env, client, daemon=address)  # the logs flow
    assert segments == []


def test_off_lambda_the_handlers_run_bare(env):
    from passport.observability import instrumented, instrumented_guard

    def handler(event, context):
        return "answer"

    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    assert instrumented(handler) is handler and instrumented_guard(handler) is handler


def test_guard_counts_are_sent_at_most_once_a_minute(capsys):
    from passport.guard.tally import TALLY
    from passport.observability import GuardMetrics

    now = [0.0]
    flusher = GuardMetrics(clock=lambda: now[0])
    TALLY.take()
    for outcome in ("allow", "allow", "deny", "unauthorized"):
        TALLY.decision(outcome)
    TALLY.cache_hit()
    now[0] = 30.0
    flusher.maybe_flush()
    assert capsys.readouterr().out == ""
    now[0] = 61.0
    flusher.maybe_flush()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    counts = {(m.get("decision"), name): m[name][0] for m in emf
              for name in ("GuardDecisions", "GuardCacheHits") if name in m}
    assert counts == {("allow", "GuardDecisions"): 2, ("deny", "GuardDecisions"): 1,
                      ("unauthorized", "GuardDecisions"): 1, (None, "GuardCacheHits"): 1}
    assert TALLY.take() == ({}, 0)


def test_the_guard_counts_every_decision_and_cache_hit(env, server):
    import requests
    from passport.guard.tally import TALLY

    from tests.conftest import make_client

    client = make_client(env, scopes=("orders:read",))
    env.reconfigure(PASSPORT_GUARD_AUTHORIZER_CACHE_SECONDS="0")
    server.gateway.settings = env.settings
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    TALLY.take()
    for path in ("/api/orders", "/api/orders", "/api/user"):
        requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    requests.get(f"{server.url}/api/orders", headers={"Authorization": "Bearer nope"}, timeout=10)
    decisions, hits = TALLY.take()
    assert decisions == {"allow": 2, "deny": 1, "unauthorized": 1}
    assert hits == 2  # the first decision read the store, the next two were answered from the cache


def test_each_line_has_powertools_loggers_structure_and_emf_names_only_what_it_carries(monkeypatch, capsys):
    """The fields of Powertools' Logger (docs/operations.md), the correlation id only when the event has one, an
    exception with its name, and EMF documents whose every dimension and metric is a member of the line
    (CloudWatch's embedded metric format specification)."""
    import logging

    from passport.core.audit import audit
    from passport.observability import instrumented

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "passport-token")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "passport-token")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE_ID)
    logger = logging.getLogger("passport")
    saved = (logger.handlers[:], logger.level, logger.propagate)

    class Context:
        function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "passport-token", 512, "arn:f", "r"

    def handler(event, context):
        audit("token_refused", client_id="c1", error="invalid_client", grant_type="password")
        logging.getLogger("passport.x").info("below the level: not written")
        try:
            raise ValueError("bad")
        except ValueError:
            logging.getLogger("passport.x").exception("failed")

    try:
        wrapped = instrumented(handler, tracing=False)
        wrapped({"requestContext": {"requestId": "corr"}}, Context())
        wrapped({"methodArn": "arn:m", "type": "TOKEN"}, Context())
    finally:
        logger.handlers, logger.level, logger.propagate = saved
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    logs = [line for line in lines if "_aws" not in line]
    assert [(line["level"], line["cold_start"], line.get("correlation_id")) for line in logs] == [
        ("INFO", True, "corr"), ("ERROR", True, "corr"), ("INFO", False, None), ("ERROR", False, None)]
    first = logs[0]
    assert list(first)[:5] == ["level", "location", "message", "timestamp", "service"]
    assert first["message"]["audit"] == "token_refused" and first["location"].startswith("audit:")
    assert first["function_request_id"] == "r" and first["xray_trace_id"] == TRACE_ID.split(";")[0][5:]
    assert logs[1]["exception_name"] == "ValueError" and "raise ValueError" in logs[1]["exception"]
    for document in [line for line in lines if "_aws" in line]:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "LambdaPassport"
        assert all(isinstance(document[name], str) for dimensions in directive["Dimensions"] for name in dimensions)
        assert all(document[metric["Name"]] == [1.0] for metric in directive["Metrics"])
        assert document["service"] == "passport-token" and document["error"] == "invalid_client"
