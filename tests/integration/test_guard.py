"""The guard handler driven with real API Gateway authorizer events (REST TOKEN, REST REQUEST, HTTP API 2.0)
against DynamoDB Local (docs/concepts.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from passport import admin
from passport.keys.keyring import KEYS, PRIVATE_FILE
from passport.keys.material import generate, public_pem
from passport.local.gateway import policy_allows

from tests.conftest import make_client

API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5"
STAGE = "prod"


def method_arn(method: str, path: str) -> str:
    return f"{API}/{STAGE}/{method}{path}"


def rest_token_event(token: str | None, method: str = "GET", path: str = "/api/orders") -> dict:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}" if token else "",
        "methodArn": method_arn(method, path),
    }


def rest_request_event(token: str | None, method: str = "GET", path: str = "/api/orders") -> dict:
    headers = {"Host": "api.example.com", "User-Agent": "curl/8.0"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return {
        "type": "REQUEST",
        "methodArn": method_arn(method, path),
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "path": f"/{STAGE}{path}", "accountId": "123456789012", "resourceId": "abc123", "stage": STAGE,
            "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8.0"},
            "resourcePath": path, "httpMethod": method, "apiId": "a1b2c3d4e5",
        },
    }


def http_api_event(token: str | None, method: str = "GET", path: str = "/api/orders") -> dict:
    headers = {"host": "api.example.com", "user-agent": "curl/8.0"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": f"{API}/$default/{method}{path}",
        "identitySource": [headers.get("authorization", "")],
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5", "domainName": "api.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "curl/8.0"},
            "requestId": str(uuid.uuid4()), "routeKey": f"{method} {path}", "stage": "$default",
        },
    }


EVENTS = {"rest_token": rest_token_event, "rest_request": rest_request_event, "http_api": http_api_event}


@pytest.fixture
def guard_handler(server):
    return server.gateway.function("guard").handler


@pytest.fixture
def issued(server, client):
    response = server.token(client.client_id, client.secret, scope="orders:read")
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def decide(handler, kind: str, token: str | None, method: str = "GET", path: str = "/api/orders"):
    """'allow', 'deny' or 'unauthorized', as API Gateway would act on the answer."""
    event = EVENTS[kind](token, method, path)
    try:
        answer = handler(event, None)
    except Exception as error:
        assert str(error) == "Unauthorized"
        return "unauthorized", None
    if kind == "http_api":
        return ("allow" if answer["isAuthorized"] else "deny"), answer
    return ("allow" if policy_allows(answer["policyDocument"], event["methodArn"]) else "deny"), answer


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def forge(env, token: str, *, header: dict | None = None, key=None, **changes) -> str:
    """Re-sign a real token's claims with changes, with the current private key unless told otherwise."""
    claims = {**claims_of(token), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    signer = KEYS.get(env.settings, need_private=True).require_signer()
    headers = {"kid": signer.kid, "typ": "at+jwt", **(header or {})}
    alg = headers.pop("alg", signer.alg)
    # The server's current private key, as `passport keys` wrote it (the tests keep keys in files).
    return jwt.encode(claims, key or (env.settings.keys_path / PRIVATE_FILE).read_text(), algorithm=alg,
                      headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("kind", EVENTS)
def test_a_valid_token_is_allowed_with_the_backend_context(guard_handler, issued, client, kind):
    verdict, answer = decide(guard_handler, kind, issued)
    assert verdict == "allow"
    context = answer["context"]
    claims = claims_of(issued)
    assert context == {"sub": client.client_id, "user_id": "", "client_id": client.client_id,
                       "scopes": "orders:read", "jti": claims["jti"]}
    if kind != "http_api":
        assert answer["principalId"] == client.client_id


@pytest.mark.parametrize("kind", EVENTS)
def test_a_missing_token_is_unauthorized(guard_handler, kind):
    assert decide(guard_handler, kind, None)[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_alg_none_is_refused(guard_handler, issued, kind):
    header = json.loads(base64.urlsafe_b64decode(issued.split(".")[0] + "=="))
    forged = b64(json.dumps({**header, "alg": "none"}).encode()) + "." + issued.split(".")[1] + "."
    assert decide(guard_handler, kind, forged)[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_hs256_signed_with_the_public_key_is_refused(env, guard_handler, issued, kind):
    """The classic key-confusion attack: an HMAC keyed with the published public key."""
    kid = jwt.get_unverified_header(issued)["kid"]
    public = public_pem(KEYS.get(env.settings).verification[kid].key).encode()
    signing_input = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "at+jwt"}).encode()) + "." + issued.split(".")[1]
    signature = b64(hmac.new(public, signing_input.encode(), hashlib.sha256).digest())
    assert decide(guard_handler, kind, f"{signing_input}.{signature}")[0] == "unauthorized"


@pytest.mark.parametrize("typ", ["JWT", "jwt", None, "at+JWT+x"])
def test_typ_other_than_at_jwt_is_refused(env, guard_handler, issued, typ):
    forged = forge(env, issued, header={"typ": typ} if typ else {"typ": None})
    assert decide(guard_handler, "rest_request", forged)[0] == "unauthorized"


def test_application_at_jwt_typ_is_accepted(env, guard_handler, issued):
    """RFC 9068 4: "at+jwt" or "application/at+jwt"."""
    assert decide(guard_handler, "rest_request", forge(env, issued, header={"typ": "application/at+jwt"}))[0] == "allow"


@pytest.mark.parametrize("kind", EVENTS)
def test_wrong_issuer_is_refused(env, guard_handler, issued, kind):
    assert decide(guard_handler, kind, forge(env, issued, iss="https://evil.example"))[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_wrong_audience_is_refused(env, guard_handler, issued, kind):
    assert decide(guard_handler, kind, forge(env, issued, aud="https://other.example/api"))[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_expired_token_is_refused(env, guard_handler, issued, kind):
    now = int(time.time())
    forged = forge(env, issued, iat=now - 7200, nbf=now - 7200, exp=now - 61)
    assert decide(guard_handler, kind, forged)[0] == "unauthorized"


def test_expiry_within_the_leeway_is_tolerated(env, guard_handler, issued):
    now = int(time.time())
    forged = forge(env, issued, exp=now - 5)
    assert decide(guard_handler, "rest_request", forged)[0] == "allow"


@pytest.mark.parametrize("kind", EVENTS)
def test_not_yet_valid_token_is_refused(env, guard_handler, issued, kind):
    now = int(time.time())
    forged = forge(env, issued, nbf=now + 600, iat=now, exp=now + 3600)
    assert decide(guard_handler, kind, forged)[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_unknown_kid_is_refused(env, guard_handler, issued, kind):
    stranger = generate("RS256")
    forged = forge(env, issued, header={"kid": "not-a-published-kid"}, key=stranger)
    assert decide(guard_handler, kind, forged)[0] == "unauthorized"


def test_a_published_kid_with_a_foreign_signature_is_refused(env, guard_handler, issued):
    forged = forge(env, issued, key=generate("RS256"))
    assert decide(guard_handler, "rest_request", forged)[0] == "unauthorized"


def test_missing_required_claims_are_refused(env, guard_handler, issued):
    for claim in ("jti", "client_id", "exp", "sub"):
        assert decide(guard_handler, "rest_request", forge(env, issued, **{claim: None}))[0] == "unauthorized", claim


def test_a_token_that_was_never_recorded_is_refused(env, guard_handler, issued):
    """A correctly signed token whose record was never written (a failed issuance) is never usable."""
    assert decide(guard_handler, "rest_request", forge(env, issued, jti=uuid.uuid4().hex))[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_revoked_jti_is_refused(env, server, client, kind):
    from passport.storage.repositories import DynamoAccessTokenStore

    handler = server.gateway.function("guard").handler
    token = server.token(client.client_id, client.secret).json()["access_token"]
    DynamoAccessTokenStore().revoke(claims_of(token)["jti"])
    assert decide(handler, kind, token)[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_token_of_a_revoked_client_is_refused(env, server, kind):
    from passport.storage.repositories import DynamoClientStore

    handler = server.gateway.function("guard").handler
    owner = make_client(env)
    token = server.token(owner.client_id, owner.secret).json()["access_token"]
    DynamoClientStore().revoke(owner.client_id)
    assert decide(handler, kind, token)[0] == "unauthorized"


def test_revocation_reaches_the_guard_after_its_cache_time(env, server, client):
    from passport import compose
    from passport.storage.repositories import DynamoAccessTokenStore

    env.reconfigure(PASSPORT_GUARD_REVOCATION_CACHE_SECONDS="1")
    handler = server.gateway.function("guard").handler
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    assert decide(handler, "rest_request", token)[0] == "allow"
    DynamoAccessTokenStore().revoke(claims_of(token)["jti"])
    assert compose.guard().revocation_cache_seconds == 1
    time.sleep(1.1)
    assert decide(handler, "rest_request", token)[0] == "unauthorized"


@pytest.mark.parametrize("kind", EVENTS)
def test_a_token_signed_with_a_rotated_key_still_in_the_jwks_is_accepted(env, server, client, kind):
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    old_kid = jwt.get_unverified_header(token)["kid"]
    new_kid = admin.rotate_keys(env.settings)
    env.reconfigure()  # a new container: keys read afresh
    jwks = KEYS.get(env.settings).jwks()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}
    handler = server.gateway.function("guard").handler
    assert decide(handler, kind, token)[0] == "allow"
    fresh = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    assert decide(handler, kind, fresh)[0] == "allow"


def test_a_warm_guard_learns_a_key_published_by_a_rotation(env, server, client):
    from passport.compose import SystemClock
    from passport.core.tokens import AccessTokenIssuer
    from passport.keys.keyring import load_keyset
    from passport.storage.repositories import DynamoAccessTokenStore

    handler = server.gateway.function("guard").handler
    first = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    assert decide(handler, "rest_request", first)[0] == "allow"  # the guard has read the key set
    new_kid = admin.rotate_keys(env.settings)
    # Another container signs with the new key while this guard still holds the old key set.
    signer = load_keyset(env.settings, need_private=True).require_signer()
    assert signer.kid == new_kid and new_kid not in KEYS.get(env.settings).verification
    fresh = AccessTokenIssuer(
        signer=signer, store=DynamoAccessTokenStore(), clock=SystemClock(), issuer=env.settings.issuer_url,
        audience=env.settings.token_audience, lifetime=600,
    ).issue(client_id=client.client_id, scopes=("orders:read",), grant_type="client_credentials")
    assert decide(handler, "rest_request", fresh.access_token)[0] == "allow"


def test_unknown_kids_do_not_reload_the_key_set_on_every_request(env, guard_handler, issued):
    from passport import compose

    loads = []
    original = KEYS.reload

    def counting_reload(*args, **kwargs):
        loads.append(1)
        return original(*args, **kwargs)

    env.monkeypatch.setattr(KEYS, "reload", counting_reload)
    for _ in range(5):
        forged = forge(env, issued, header={"kid": uuid.uuid4().hex}, key=generate("RS256"))
        assert decide(guard_handler, "rest_request", forged)[0] == "unauthorized"
    assert len(loads) <= 1
    assert compose.guard() is compose.guard()


# -- per-route rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EVENTS)
def test_client_token_is_denied_on_a_user_only_route(guard_handler, issued, kind):
    verdict, _ = decide(guard_handler, kind, issued, path="/api/user")
    assert verdict == "deny"


@pytest.mark.parametrize("kind", EVENTS)
def test_missing_scope_is_denied_and_held_scope_allowed(env, server, kind):
    handler = server.gateway.function("guard").handler
    bare = make_client(env)
    token = server.token(bare.client_id, bare.secret).json()["access_token"]
    assert claims_of(token)["scope"] == ""
    assert decide(handler, kind, token, path="/api/orders")[0] == "deny"
    assert decide(handler, kind, token, path="/api/ping")[0] == "allow"


def test_the_rest_policy_is_valid_for_every_route_so_the_authorizer_cache_is_safe(guard_handler, issued):
    """API Gateway caches the policy by token and applies it to other routes: it must deny /api/user even
    when it was computed for /api/orders."""
    _, answer = decide(guard_handler, "rest_request", issued, path="/api/orders")
    policy = answer["policyDocument"]
    assert policy_allows(policy, method_arn("GET", "/api/orders"))
    assert policy_allows(policy, method_arn("GET", "/api/ping"))
    assert not policy_allows(policy, method_arn("GET", "/api/user"))


def test_user_tokens_only_rule_and_client_tokens_only_rule(env, server, issued):
    env.reconfigure(PASSPORT_GUARD_RULES=json.dumps({
        "GET /orders/{id}": {"scopes": ["orders:read"]},
        "DELETE /orders/{id}": {"any_scopes": ["orders:write", "admin"]},
        "GET /me": {"subject": "user"},
        "GET /jobs": {"subject": "client"},
    }))
    handler = server.gateway.function("guard").handler
    assert decide(handler, "rest_token", issued, path="/orders/42")[0] == "allow"
    assert decide(handler, "rest_token", issued, method="DELETE", path="/orders/42")[0] == "deny"
    assert decide(handler, "http_api", issued, path="/me")[0] == "deny"
    assert decide(handler, "http_api", issued, path="/jobs")[0] == "allow"


def test_a_user_token_passes_user_routes_and_fails_client_routes(env, server, client):
    from passport.compose import access_token_issuer, settings

    user_id = str(uuid.uuid4())
    issued = access_token_issuer(settings()).issue(
        client_id=client.client_id, scopes=("orders:read",), grant_type="authorization_code", user_id=user_id
    )
    env.reconfigure(PASSPORT_GUARD_RULES=json.dumps({"GET /me": {"subject": "user"},
                                                     "GET /jobs": {"subject": "client"}}))
    handler = server.gateway.function("guard").handler
    verdict, answer = decide(handler, "http_api", issued.access_token, path="/me")
    assert verdict == "allow" and answer["context"]["user_id"] == user_id
    assert decide(handler, "http_api", issued.access_token, path="/jobs")[0] == "deny"


def test_the_guard_fails_closed_when_storage_is_down(env, server, issued, monkeypatch, store_endpoint):
    """No revocation answer, no access: API Gateway's AUTHORIZER_FAILURE response, 503 with Retry-After."""
    import requests
    from passport.storage.connection import forget_client

    from tests.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    forget_client()
    try:
        with pytest.raises(Exception) as raised:
            server.gateway.function("guard").handler(rest_request_event(issued), None)
        assert str(raised.value) != "Unauthorized"
        response = requests.get(f"{server.url}/api/orders", headers={"Authorization": f"Bearer {issued}"})
    finally:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", store_endpoint)
        forget_client()
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("inherit, verdict", [("false", "deny"), ("true", "allow")])
def test_inherited_scopes_are_honoured_only_when_enabled(env, server, inherit, verdict):
    env.reconfigure(
        PASSPORT_SCOPES=json.dumps({"orders": "All your orders", "orders:read": "Read your orders"}),
        PASSPORT_INHERITED_SCOPES=inherit,
    )
    server.gateway.settings = env.settings
    parent = make_client(env, scopes=("orders",))
    token = server.token(parent.client_id, parent.secret, scope="orders").json()["access_token"]
    handler = server.gateway.function("guard").handler
    assert decide(handler, "rest_request", token, path="/api/orders")[0] == verdict


def test_the_wildcard_scope_is_refused_to_client_credentials(server, env):
    anything = make_client(env)
    response = server.token(anything.client_id, anything.secret, scope="*")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


@pytest.mark.passport_config("[dpop]\nenabled = false\n")  # with DPoP the cache is off (authorizer_cache.ttl_seconds)
def test_the_local_gateways_authorizer_cache_is_bounded(env, server, monkeypatch):
    """API Gateway bounds its authorizer cache; a long-running `passport serve` must not grow with every token."""
    import requests
    from passport.local import gateway as local_gateway

    monkeypatch.setattr(local_gateway, "AUTHORIZER_CACHE_ENTRIES", 2)
    client = make_client(env, scopes=("orders:read",))
    for _ in range(5):
        token = server.token(client.client_id, client.secret).json()["access_token"]
        assert requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert 1 <= len(server.gateway._authorizer_cache) <= 2
