"""DPoP (RFC 9449) end to end on the local gateway and DynamoDB Local: bound tokens from the token endpoint, and the
guard (the REST API's REQUEST authorizer, as deployed) and the MCP server's in-process guard accepting them only
with a fresh proof of their key for the very request."""

from __future__ import annotations

import json
import threading
import time
import uuid

import jwt
import pytest
import requests
from passport import compose

from tests.conftest import RegisteredClient, make_client
from tests.dpop_keys import DpopKey
from tests.integration.test_guard import API, STAGE
from tests.integration.test_private_key_jwt import passport
from tests.integration.test_registration import INITIAL_TOKEN, MACHINE, TOKEN_POLICY, manage, registered

DPOP_CHALLENGE = 'DPoP error="invalid_token", algs="ES256 RS256 EdDSA"'


def dpop_token(server, client, key: DpopKey, **form: str) -> requests.Response:
    url = f"{server.url}/oauth/token"
    return requests.post(url, auth=(client.client_id, client.secret), timeout=10,
                         data={"grant_type": "client_credentials", **form},
                         headers={"DPoP": key.proof("POST", url)})


def call(server, token: str, proof: str | None, *, scheme: str = "DPoP", path: str = "/api/ping",
         method: str = "GET") -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.request(method, f"{server.url}{path}", headers=headers, timeout=10)


@pytest.fixture
def key() -> DpopKey:
    return DpopKey()


@pytest.fixture
def bound(server, client, key) -> str:
    response = dpop_token(server, client, key, scope="orders:read")
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


# -- the token endpoint (RFC 9449 5) --------------------------------------------------------------------------------


def test_a_token_request_with_a_dpop_proof_gets_a_token_bound_to_the_proofs_key(server, client, key):
    answer = dpop_token(server, client, key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "DPoP"
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["cnf"] == {"jkt": key.jkt}


def test_a_token_request_without_a_proof_still_gets_a_bearer_token_without_cnf(server, client):
    body = server.token(client.client_id, client.secret).json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in jwt.decode(body["access_token"], options={"verify_signature": False})


@pytest.mark.parametrize("spoil", ["another_url", "another_method", "stale", "no_typ", "replayed"])
def test_a_bad_proof_at_the_token_endpoint_is_400_invalid_dpop_proof(server, client, key, spoil):
    url = f"{server.url}/oauth/token"
    proof = {
        "another_url": key.proof("POST", f"{server.url}/oauth/revoke"),
        "another_method": key.proof("GET", url),
        "stale": key.proof("POST", url, iat=time.time() - 3600),
        "no_typ": jwt.encode({"jti": uuid.uuid4().hex, "htm": "POST", "htu": url, "iat": int(time.time())},
                             key.key, algorithm="ES256", headers={"jwk": key.jwk}),
        "replayed": key.proof("POST", url),
    }[spoil]
    if spoil == "replayed":
        first = requests.post(url, auth=(client.client_id, client.secret), data={"grant_type": "client_credentials"},
                              headers={"DPoP": proof}, timeout=10)
        assert first.status_code == 200
    answer = requests.post(url, auth=(client.client_id, client.secret), data={"grant_type": "client_credentials"},
                           headers={"DPoP": proof}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_dpop_proof"
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_client_registered_for_dpop_bound_tokens_is_refused_a_token_without_a_proof(env, server, key):
    bound_client = make_client(env, fields={"dpop_bound": True})
    refused = server.token(bound_client.client_id, bound_client.secret)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    assert dpop_token(server, bound_client, key).json()["token_type"] == "DPoP"


@pytest.mark.passport_config(TOKEN_POLICY)
def test_a_client_registered_with_dpop_bound_access_tokens_gets_a_token_only_with_a_proof(server, key):
    """RFC 9449 5.2 through dynamic registration (RFC 7591): the member registered, echoed and held to at the token
    endpoint; replaced by RFC 7592 2.2 without it, the client takes Bearer tokens again."""
    info = registered(server, {**MACHINE, "dpop_bound_access_tokens": True}, token=INITIAL_TOKEN)
    assert info["dpop_bound_access_tokens"] is True
    bound_client = RegisteredClient(info["client_id"], info["client_secret"], info)
    refused = server.token(bound_client.client_id, bound_client.secret)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
    answer = dpop_token(server, bound_client, key)
    assert answer.status_code == 200 and answer.json()["token_type"] == "DPoP", answer.text
    assert manage("GET", info).json()["dpop_bound_access_tokens"] is True
    replaced = manage("PUT", info, body={**MACHINE, "client_id": info["client_id"]})
    assert replaced.status_code == 200 and "dpop_bound_access_tokens" not in replaced.json(), replaced.text
    assert server.token(bound_client.client_id, bound_client.secret).json()["token_type"] == "Bearer"


def test_the_cli_makes_shows_and_changes_a_client_whose_tokens_must_be_dpop_bound(server, key, capsys):
    code, out = passport(capsys, "client", "create", "--client", "--name", "bound", "--scope", "orders:read",
                         "--dpop-bound", "--json")
    assert code == 0, out
    made = json.loads(out)
    assert made["dpop_bound"] is True and made["profile"] is None
    bound_client = RegisteredClient(made["client_id"], made["client_secret"], made)
    assert server.token(bound_client.client_id, bound_client.secret).json()["error"] == "invalid_request"
    assert dpop_token(server, bound_client, key).json()["token_type"] == "DPoP"
    code, out = passport(capsys, "client", "show", bound_client.client_id)
    assert code == 0 and "DPoP-bound tokens only" in out, out
    code, out = passport(capsys, "client", "update", bound_client.client_id, "--no-dpop-bound", "--json")
    assert code == 0 and json.loads(out)["dpop_bound"] is False, out
    assert server.token(bound_client.client_id, bound_client.secret).json()["token_type"] == "Bearer"
    code, out = passport(capsys, "client", "show", bound_client.client_id, "--json")
    assert json.loads(out)["dpop_bound"] is False
    code, out = passport(capsys, "client", "update", bound_client.client_id, "--dpop-bound", "--json")
    assert code == 0 and json.loads(out)["dpop_bound"] is True, out
    assert server.token(bound_client.client_id, bound_client.secret).json()["error"] == "invalid_request"


@pytest.mark.passport_config("[dpop]\nrequire_nonce = true\n")
def test_with_nonces_required_a_proof_without_the_servers_nonce_gets_use_dpop_nonce_and_the_nonce(
    server, client, key
):
    url = f"{server.url}/oauth/token"
    first = dpop_token(server, client, key)
    assert first.status_code == 400
    assert first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    retried = requests.post(url, auth=(client.client_id, client.secret), data={"grant_type": "client_credentials"},
                            headers={"DPoP": key.proof("POST", url, nonce=nonce)}, timeout=10)
    assert retried.status_code == 200, retried.text
    assert retried.json()["token_type"] == "DPoP"
    assert retried.headers["DPoP-Nonce"]  # RFC 9449 8.2: the next nonce comes with the answer
    wrong = requests.post(url, auth=(client.client_id, client.secret), data={"grant_type": "client_credentials"},
                          headers={"DPoP": key.proof("POST", url, nonce="x" * 43)}, timeout=10)
    assert wrong.json()["error"] == "use_dpop_nonce"


def test_metadata_advertises_the_dpop_algorithms(server):
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256", "RS256", "EdDSA"]
    resource = requests.get(f"{server.url}/.well-known/oauth-protected-resource/api", timeout=10).json()
    assert resource["dpop_signing_alg_values_supported"] == ["ES256", "RS256", "EdDSA"]


# -- the guard, as API Gateway's REQUEST authorizer (RFC 9449 7) -------------------------------------------------


def test_a_bound_token_with_a_proof_for_the_request_passes_the_guard(server, bound, key):
    url = f"{server.url}/api/ping"
    answer = call(server, bound, key.proof("GET", url, access_token=bound))
    assert answer.status_code == 200, answer.text


def test_a_bound_token_sent_as_bearer_is_refused_with_a_dpop_challenge(server, bound, key):
    answer = call(server, bound, None, scheme="Bearer")
    assert answer.status_code == 401
    assert DPOP_CHALLENGE in answer.headers["WWW-Authenticate"]
    with_proof = call(server, bound, key.proof("GET", f"{server.url}/api/ping", access_token=bound), scheme="Bearer")
    assert with_proof.status_code == 401


@pytest.mark.parametrize("spoil", ["none", "replayed", "another_url", "another_method", "another_key", "stale",
                                   "no_ath", "another_token"])
def test_the_guard_refuses_a_bound_token_without_a_fresh_proof_of_its_key_for_this_request(
    server, client, bound, key, spoil
):
    url = f"{server.url}/api/ping"
    proof = {
        "none": None,
        "replayed": key.proof("GET", url, access_token=bound),
        "another_url": key.proof("GET", f"{server.url}/api/orders", access_token=bound),
        "another_method": key.proof("POST", url, access_token=bound),
        "another_key": DpopKey().proof("GET", url, access_token=bound),
        "stale": key.proof("GET", url, access_token=bound, iat=time.time() - 3600),
        "no_ath": key.proof("GET", url),
        "another_token": key.proof("GET", url, access_token=server.token(client.client_id, client.secret)
                                   .json()["access_token"]),
    }[spoil]
    if spoil == "replayed":
        assert call(server, bound, proof).status_code == 200
    answer = call(server, bound, proof)
    assert answer.status_code == 401
    assert DPOP_CHALLENGE in answer.headers["WWW-Authenticate"]


def test_a_proof_spent_in_one_container_is_refused_in_another(server, bound, key):
    """RFC 9449 11.1: the replay check is the deployment's, not a process's: a new container (its memory empty)
    still refuses the proof, because the spend is a conditional write in the tokens table."""
    proof = key.proof("GET", f"{server.url}/api/ping", access_token=bound)
    assert call(server, bound, proof).status_code == 200
    compose.reset()
    assert call(server, bound, proof).status_code == 401


def test_an_unbound_token_sent_with_the_dpop_scheme_is_refused(server, client, key):
    token = server.token(client.client_id, client.secret).json()["access_token"]
    answer = call(server, token, key.proof("GET", f"{server.url}/api/ping", access_token=token))
    assert answer.status_code == 401


def test_the_authorizer_cache_is_off_so_no_answer_stands_for_another_proof(server, bound, key):
    """API Gateway's cache would hand a cached Allow to a replayed proof without asking the guard: with DPoP on, the
    passport API's authorizer answers every request itself (authorizer_cache.ttl_seconds)."""
    url = f"{server.url}/api/ping"
    for _ in range(3):
        assert call(server, bound, key.proof("GET", url, access_token=bound)).status_code == 200
    assert server.gateway.cache_ttl() == 0
    assert server.gateway._authorizer_cache == {}


def http_api_event(token: str, proof: str | None, *, host: str = "api.example.com", path: str = "/api/ping",
                   method: str = "GET") -> dict:
    headers = {"host": host, "authorization": f"DPoP {token}"}
    if proof is not None:
        headers["dpop"] = proof
    return {
        "version": "2.0", "type": "REQUEST", "routeArn": f"{API}/$default/{method}{path}",
        "identitySource": [headers["authorization"]], "routeKey": f"{method} {path}", "rawPath": path,
        "rawQueryString": "", "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "a1b2c3d4e5", "domainName": host,
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.9", "userAgent": "t"},
                           "requestId": str(uuid.uuid4()), "routeKey": f"{method} {path}", "stage": "$default"},
    }


def rest_request_event(token: str, proof: str | None, *, host: str, path: str, method: str = "GET") -> dict:
    headers = {"Host": host, "Authorization": f"DPoP {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return {
        "type": "REQUEST", "methodArn": f"{API}/{STAGE}/{method}{path}", "resource": path, "path": path,
        "httpMethod": method, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"path": f"/{STAGE}{path}", "domainName": host, "stage": STAGE, "httpMethod": method,
                           "resourcePath": path, "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "1.2.3.4"}},
    }


def test_an_http_api_authorizer_checks_the_proof_against_the_domain_and_raw_path(server, bound, key):
    """Payload 2.0: the URL the client called is <scheme>://<requestContext.domainName><rawPath> (https on API
    Gateway; the local issuer is http, so is its guard's scheme)."""
    handler = server.gateway.function("guard").handler
    local = server.url.removeprefix("http://")
    answer = handler(http_api_event(bound, key.proof("GET", f"{server.url}/api/ping", access_token=bound),
                                    host=local), None)
    assert answer["isAuthorized"] is True
    assert answer["context"]["jkt"] == key.jkt
    elsewhere = http_api_event(bound, key.proof("GET", f"{server.url}/api/ping", access_token=bound), host="x.test")
    with pytest.raises(Exception, match="Unauthorized"):
        handler(elsewhere, None)


def test_a_rest_authorizer_checks_the_proof_against_the_path_with_its_stage(server, bound, key):
    """REST: the URL the client called is https://<requestContext.domainName><requestContext.path>, the stage in
    the path on API Gateway's default URL."""
    handler = server.gateway.function("guard").handler
    local = server.url.removeprefix("http://")
    staged = f"{server.url}/{STAGE}/api/ping"
    answer = handler(rest_request_event(bound, key.proof("GET", staged, access_token=bound), host=local,
                                        path="/api/ping"), None)
    assert answer["context"]["jkt"] == key.jkt
    unstaged = key.proof("GET", f"{server.url}/api/ping", access_token=bound)
    with pytest.raises(Exception, match="Unauthorized"):
        handler(rest_request_event(bound, unstaged, host=local, path="/api/ping"), None)


def test_a_rest_token_authorizer_never_passes_a_bound_token(server, bound):
    """A TOKEN authorizer sees the Authorization header alone: no proof, no URL."""
    handler = server.gateway.function("guard").handler
    event = {"type": "TOKEN", "authorizationToken": f"DPoP {bound}", "methodArn": f"{API}/{STAGE}/GET/api/ping"}
    with pytest.raises(Exception, match="Unauthorized"):
        handler(event, None)


# -- the replay ledger against DynamoDB Local ---------------------------------------------------------------------


def test_of_thirty_concurrent_spends_of_one_proof_exactly_one_wins(env):
    from passport.storage.ledger import ProofLedger, models_call, tokens_table

    compose.bind_storage()
    ledger = ProofLedger(models_call(), tokens_table)
    results: list[bool] = []
    barrier = threading.Barrier(30)

    def spend() -> None:
        barrier.wait()
        results.append(ledger.spend("jkt", "the-jti", int(time.time()) + 60))

    threads = [threading.Thread(target=spend) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 29 + [True]
    assert ledger.spend("another-jkt", "the-jti", int(time.time()) + 60)  # a jti is scoped by its key


def test_an_expired_spend_no_longer_counts(env):
    """DynamoDB deletes by TTL late (DynamoDB Local never): an item past its TTL is as good as gone."""
    from passport.storage.ledger import ProofLedger, models_call, tokens_table

    compose.bind_storage()
    ledger = ProofLedger(models_call(), tokens_table)
    assert ledger.spend("k", "j", int(time.time()) - 5)  # written with a TTL of at least one second ahead
    time.sleep(1.1)
    assert ledger.spend("k", "j", int(time.time()) + 60)
    assert not ledger.spend("k", "j", int(time.time()) + 60)


# -- a resource that guards itself: the MCP server (RFC 9449 7.1's own errors) ----------------------------------


def mcp_call(server, token: str, proof: str | None, *, scheme: str = "DPoP", method_name: str = "ping"):
    from tests.integration.test_mcp_server import HEADERS, message

    headers = {**HEADERS, "MCP-Protocol-Version": "2025-06-18", "Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return requests.post(f"{server.url}/mcp", json=message(method_name), headers=headers, timeout=10)


@pytest.fixture
def mcp_bound(server, client, key) -> str:
    answer = dpop_token(server, client, key, scope="orders:read", resource=f"{server.url}/mcp")
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_the_mcp_server_accepts_a_bound_token_with_a_proof_and_names_each_failure(server, mcp_bound, key):
    url = f"{server.url}/mcp"
    assert mcp_call(server, mcp_bound, key.proof("POST", url, access_token=mcp_bound)).status_code == 200
    cases = {
        "as_bearer": (mcp_call(server, mcp_bound, None, scheme="Bearer"), "invalid_token"),
        "no_proof": (mcp_call(server, mcp_bound, None), "invalid_dpop_proof"),
        "another_method": (mcp_call(server, mcp_bound, key.proof("GET", url, access_token=mcp_bound)),
                           "invalid_dpop_proof"),
        "another_key": (mcp_call(server, mcp_bound, DpopKey().proof("POST", url, access_token=mcp_bound)),
                        "invalid_dpop_proof"),
    }
    for name, (answer, error) in cases.items():
        assert answer.status_code == 401, name
        challenge = answer.headers["WWW-Authenticate"]
        assert challenge.startswith(f'DPoP error="{error}", error_description="'), (name, challenge)
        assert 'algs="ES256 RS256 EdDSA"' in challenge and "resource_metadata=" in challenge, name
        assert answer.json()["error"] == error, name


# -- refresh tokens of public clients (RFC 9449 5) ----------------------------------------------------------------


def test_a_public_clients_refresh_token_is_bound_to_its_dpop_key(env, server, browser, key):
    """RFC 9449 5: "Refresh tokens issued to public clients ... MUST be bound to the DPoP public key": a refresh
    without a proof, or with another key's, is invalid_grant; with the key, the new tokens are bound again."""
    from tests.integration.browser import pkce_pair
    from tests.integration.conftest import REDIRECT
    from tests.integration.test_authorization_code import approve

    public = make_client(env, name="SPA", grant_types=("authorization_code", "refresh_token"),
                         redirect_uris=(REDIRECT,), scopes=("orders:read",), public=True)
    verifier, challenge = pkce_pair()
    code = approve(browser, public, challenge=challenge)["code"]
    url = f"{server.url}/oauth/token"
    exchanged = requests.post(url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                         "code_verifier": verifier, "client_id": public.client_id},
                              headers={"DPoP": key.proof("POST", url)}, timeout=10)
    assert exchanged.status_code == 200, exchanged.text
    tokens = exchanged.json()
    assert tokens["token_type"] == "DPoP" and tokens["refresh_token"]

    def use(proof: str | None) -> requests.Response:
        return requests.post(url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                        "client_id": public.client_id},
                             headers={"DPoP": proof} if proof else {}, timeout=10)

    for proof in (None, DpopKey().proof("POST", url)):
        refused = use(proof)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
    renewed = use(key.proof("POST", url))
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["token_type"] == "DPoP"
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["cnf"]["jkt"] == key.jkt
    again = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                     "client_id": public.client_id}, timeout=10)
    assert again.json()["error"] == "invalid_grant"  # the rotated token is bound too


def test_introspection_of_a_bound_token_names_its_key_and_the_dpop_type(env, server, client, bound, key):
    """RFC 9449 6.2: the resource server learns the binding from introspection too."""
    introspector = make_client(env, name="resource server", introspection=True)
    answer = requests.post(f"{server.url}/oauth/introspect", auth=(introspector.client_id, introspector.secret),
                           data={"token": bound}, timeout=10).json()
    assert answer["active"] is True
    assert answer["token_type"] == "DPoP" and answer["cnf"] == {"jkt": key.jkt}


def test_userinfo_takes_a_bound_token_only_with_the_dpop_scheme_and_a_proof(env, server, browser, key):
    """OpenID Connect Core 5.3 on RFC 9449 7: userinfo is a resource of this server that guards itself."""
    from tests.integration.browser import pkce_pair
    from tests.integration.conftest import REDIRECT
    from tests.integration.test_authorization_code import approve

    app = make_client(env, name="RP", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                      scopes=("openid",))
    verifier, challenge = pkce_pair()
    code = approve(browser, app, challenge=challenge, scope="openid")["code"]
    url = f"{server.url}/oauth/token"
    tokens = requests.post(url, auth=(app.client_id, app.secret), timeout=10,
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                 "code_verifier": verifier},
                           headers={"DPoP": key.proof("POST", url)}).json()
    token = tokens["access_token"]
    userinfo = f"{server.url}/oauth/userinfo"
    ok = requests.get(userinfo, headers={"Authorization": f"DPoP {token}",
                                         "DPoP": key.proof("GET", userinfo, access_token=token)}, timeout=10)
    assert ok.status_code == 200, ok.text
    assert ok.json()["sub"]
    as_bearer = requests.get(userinfo, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert as_bearer.status_code == 401
    assert as_bearer.headers["WWW-Authenticate"].startswith('DPoP realm="')
    assert 'error="invalid_token"' in as_bearer.headers["WWW-Authenticate"]
    replayed = requests.get(userinfo, headers={"Authorization": f"DPoP {token}",
                                               "DPoP": ok.request.headers["DPoP"]}, timeout=10)
    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_spent_only_once_the_client_has_authenticated(server, client, key):
    """A spend is a write, and anyone can sign a proof with a key of their own: a request whose client does not
    authenticate writes nothing, so the same proof still serves the client that does."""
    url = f"{server.url}/oauth/token"
    proof = key.proof("POST", url)
    stranger = requests.post(url, auth=(client.client_id, "not-the-secret"), timeout=10,
                             data={"grant_type": "client_credentials"}, headers={"DPoP": proof})
    assert stranger.status_code == 401 and stranger.json()["error"] == "invalid_client"
    answer = requests.post(url, auth=(client.client_id, client.secret), timeout=10,
                           data={"grant_type": "client_credentials"}, headers={"DPoP": proof})
    assert answer.status_code == 200 and answer.json()["token_type"] == "DPoP", answer.text
    replayed = requests.post(url, auth=(client.client_id, client.secret), timeout=10,
                             data={"grant_type": "client_credentials"}, headers={"DPoP": proof})
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_dpop_proof"
