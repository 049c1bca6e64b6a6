"""The guard's revocation lookup over its signed standard-library client (passport.aws_json),
against DynamoDB Local over HTTP: it answers as the botocore lookup answers, the guard uses it (a fresh
interpreter decides tokens without ever importing botocore's client or pynamodb), falls back to botocore where
the signed client declines, and retries and fails closed through the fault proxy as botocore would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests
from passport.core.models import AccessTokenRecord
from passport.local.gateway import policy_allows

from tests.conftest import REPO, make_client
from tests.faults import routed_through, serving
from tests.integration.test_guard import decide, rest_token_event

# Every decision asks the store: no revocation or authorizer cache.
pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")

#: What the signed path must never import (botocore's bare package may come with Powertools' user-agent hook).
AWS_SDK = ("botocore.session", "botocore.client", "boto3", "pynamodb", "passport.storage.models",
           "passport.storage.connection")


def jti_of(token: str) -> str:
    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["jti"]


def record(client_id: str, expires_in: int) -> AccessTokenRecord:
    now = int(time.time())
    return AccessTokenRecord(jti=uuid.uuid4().hex, client_id=client_id, scopes=(), issued_at=now - 10,
                             expires_at=now + expires_in, grant_type="client_credentials")


def signed_lookup(env):
    from passport.storage.revocation import SignedRevocationLookup

    lookup = SignedRevocationLookup.configured(env.settings.storage)
    assert lookup is not None, "the signed client declined the test environment"
    return lookup


def test_the_signed_lookup_answers_as_the_botocore_lookup(env, client):
    """Live, revoked, expired and unknown tokens, live, revoked and unknown clients, each part asked alone or
    both together: the same (token live, client live) from both transports."""
    from passport.storage.repositories import DynamoAccessTokenStore, DynamoClientStore
    from passport.storage.revocation import DynamoRevocationLookup

    tokens = DynamoAccessTokenStore()
    live, revoked, expired = record(client.client_id, 60), record(client.client_id, 60), record(client.client_id, -1)
    for saved in (live, revoked, expired):
        tokens.save(saved)
    tokens.revoke(revoked.jti)
    gone = make_client(env)
    DynamoClientStore().revoke(gone.client_id)
    signed, reference = signed_lookup(env), DynamoRevocationLookup()
    expected = {
        (live.jti, client.client_id): (True, True),
        (revoked.jti, client.client_id): (False, True),
        (expired.jti, client.client_id): (False, True),
        ("unknown", "unknown"): (False, False),
        (live.jti, gone.client_id): (True, False),
        (None, gone.client_id): (None, False),
        (live.jti, None): (True, None),
    }
    for (jti, client_id), answer in expected.items():
        assert signed.lookup(jti, client_id) == answer, (jti, client_id)
    for jti in (live.jti, revoked.jti, expired.jti, "unknown", None):
        for client_id in (client.client_id, gone.client_id, "unknown", None):
            assert signed.lookup(jti, client_id) == reference.lookup(jti, client_id), (jti, client_id)


def test_the_guard_decides_over_the_signed_client(env, server, client, monkeypatch):
    """The guard's lookup is the signed one: with the botocore lookup made unusable, the guard still allows a
    live token and refuses a revoked one (each decision reads the store)."""
    from passport import compose
    from passport.storage import revocation
    from passport.storage.repositories import DynamoAccessTokenStore

    def unusable(self):
        raise AssertionError("the guard took the botocore path")

    monkeypatch.setattr(revocation.DynamoRevocationLookup, "__init__", unusable)
    assert isinstance(compose.dynamo_lookup(env.settings), revocation.SignedRevocationLookup)
    handler = server.gateway.function("guard").handler
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    assert decide(handler, "rest_token", token)[0] == "allow"
    DynamoAccessTokenStore().revoke(jti_of(token))
    assert decide(handler, "rest_token", token)[0] == "unauthorized"


def test_where_the_signed_client_declines_the_guard_decides_over_botocore(env, server, client, tmp_path):
    """A shared config file (botocore would read it): the guard's lookup is botocore's, and decides alike."""
    from passport import compose
    from passport.storage.repositories import DynamoAccessTokenStore
    from passport.storage.revocation import DynamoRevocationLookup

    config = tmp_path / "aws-config"
    config.write_text("[default]\n")
    env.monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    env.reconfigure()
    assert isinstance(compose.dynamo_lookup(env.settings), DynamoRevocationLookup)
    handler = server.gateway.function("guard").handler
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    assert decide(handler, "rest_token", token)[0] == "allow"
    DynamoAccessTokenStore().revoke(jti_of(token))
    assert decide(handler, "rest_token", token)[0] == "unauthorized"


GUARD_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

class Context:  # what Powertools' Logger reads of Lambda's context
    function_name = "passport-guard"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:passport-guard"
    aws_request_id = "first"

answers = []
for event in json.loads(sys.argv[2]):
    try:
        answers.append(module.handler(event, Context()))
    except Exception as error:
        answers.append(str(error))
print(json.dumps({"answers": answers, "modules": sorted(sys.modules)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("keys", ["files", "secret"])
def test_a_fresh_guard_decides_against_the_store_without_importing_botocores_client_or_pynamodb(
    env, server, client, keys
):
    """As a cold Lambda container: the guard's handler in a new interpreter, with Lambda's variables, decides a
    live token (Allow) and a revoked one (Unauthorized), which only the store can tell apart, and never
    imports botocore's session or client, boto3 or pynamodb, whether its keys are files or, as deployed, a
    Secrets Manager secret (read with the same signed client)."""
    from passport import admin
    from passport.storage.repositories import DynamoAccessTokenStore

    if keys == "secret":
        settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=f"passport-keys-{uuid.uuid4().hex[:8]}")
        admin.create_keys(settings)
        server.gateway.settings = settings

    live = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    revoked = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    DynamoAccessTokenStore().revoke(jti_of(revoked))
    events = [rest_token_event(live), rest_token_event(revoked)]
    child_env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "aws_profile")}
    child_env.update(AWS_LAMBDA_FUNCTION_NAME="passport-guard", LAMBDA_TASK_ROOT=str(REPO),
                     AWS_CONFIG_FILE=str(REPO / "no-such-aws-config"))
    out = subprocess.run([sys.executable, "-c", GUARD_CHILD, str(REPO / "functions" / "guard" / "handler.py"),
                          json.dumps(events)], capture_output=True, text=True, cwd=REPO, env=child_env, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    allowed, refused = result["answers"]
    assert isinstance(allowed, dict) and policy_allows(allowed["policyDocument"], events[0]["methodArn"]), result
    assert refused == "Unauthorized"
    modules = set(result["modules"])
    assert "passport.aws_json" in modules
    assert [m for m in modules if any(m == sdk or m.startswith(sdk + ".") for sdk in AWS_SDK)] == []


# -- through the fault proxy -------------------------------------------------------------------------------------


@pytest.fixture
def proxied(env, server, stores):
    """This process's AWS calls through a fault proxy, with retries on (the faults module turns them off)."""
    env.reconfigure(PASSPORT_STORAGE_TIMEOUT_SECONDS="2", PASSPORT_STORAGE_RETRIES="2")
    server.gateway.settings = env.settings
    with serving(stores) as proxy, routed_through(proxy, env.monkeypatch, stores):
        yield proxy


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["throttle", "throttling", "error", "unavailable", "close", "reset"])
def test_a_lookup_failing_twice_is_retried_and_the_caller_never_notices(proxied, server, client, kind):
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    before = proxied.operations().count("BatchGetItem")
    proxied.inject("BatchGetItem", kind, times=2)
    assert decide(server.gateway.function("guard").handler, "rest_token", token)[0] == "allow"
    assert proxied.operations().count("BatchGetItem") - before == 3


@pytest.mark.slow
def test_a_refused_lookup_is_not_retried_and_the_guard_fails_closed(proxied, server, client):
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    before = proxied.operations().count("BatchGetItem")
    proxied.inject("BatchGetItem", "denied", times=1)
    with pytest.raises(Exception) as raised:
        server.gateway.function("guard").handler(rest_token_event(token), None)
    assert str(raised.value) != "Unauthorized"
    assert proxied.operations().count("BatchGetItem") - before == 1
    proxied.inject("BatchGetItem", "throttle")  # throttled to the end: the gateway's 503
    answer = requests.get(f"{server.url}/api/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 503 and answer.json()["error"] == "temporarily_unavailable"
