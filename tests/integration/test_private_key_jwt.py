"""``private_key_jwt`` client authentication through the local gateway on DynamoDB Local (RFC 7523 2.2 and 3, RFC
7521 4.2, OpenID Connect Core 1.0 section 9): at the token, revocation, introspection and device authorization
endpoints, the replay ledger in the tokens table, and a ``jwks_uri`` fetched from a real HTTPS host on loopback
(tests/document_host.py) where the settings allow loopback."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from passport.core.client_assertions import CLIENT_ASSERTION_TYPE
from passport.core.clients import DEVICE_CODE, validate_client_keys
from passport.keys.material import PrivateKey, generate, public_jwk_members

from tests.conftest import RegisteredClient, make_client
from tests.document_host import Reply, document_host

JWKS_PATH = "/client/jwks.json"


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {"ES256": generate("ES256"), "RS256": generate("RS256"), "EdDSA": generate("EdDSA"),
            "rotated": generate("ES256"), "stranger": generate("ES256")}


def jwk_set(**by_kid: PrivateKey) -> dict:
    return {"keys": [{**public_jwk_members(key.public_key()), "kid": kid} for kid, key in by_kid.items()]}


def key_client(env, key: PrivateKey, kid: str = "k1", **options) -> RegisteredClient:
    """A service that authenticates with private_key_jwt, its public key registered in its jwks."""
    options.setdefault("scopes", ("orders:read",))
    return make_client(env, keys=validate_client_keys(jwk_set(**{kid: key})), **options)


def assertion(key: PrivateKey, client_id: str, aud: str | list[str], *, alg: str = "ES256", kid: str = "k1",
              **claims: object) -> str:
    """What a client library signs (RFC 7523 3): iss and sub the client, aud the server, a minute, a fresh jti."""
    now = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()),
            **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def post(server, path: str, signed: str | None = None, **form: str) -> requests.Response:
    if signed is not None:
        form.update(client_assertion_type=CLIENT_ASSERTION_TYPE, client_assertion=signed)
    return requests.post(f"{server.url}{path}", data=form, timeout=10)


def token(server, signed: str, **form: str) -> requests.Response:
    return post(server, "/oauth/token", signed, grant_type="client_credentials", **form)


def refused(response: requests.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client" and reason in body["error_description"], body
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_client_credentials_with_private_key_jwt_issues_a_token(server, env, keys, alg):
    service = key_client(env, keys[alg])
    response = token(server, assertion(keys[alg], service.client_id, f"{server.url}/oauth/token", alg=alg),
                     scope="orders:read")
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == service.client_id and claims["scope"] == "orders:read"


def test_the_issuer_identifier_is_an_audience_too_and_client_id_may_be_sent(server, env, keys):
    """draft-ietf-oauth-rfc7523bis: the issuer as the audience; RFC 7521 4.2: client_id optional, the same client."""
    service = key_client(env, keys["ES256"])
    signed = assertion(keys["ES256"], service.client_id, server.url)
    assert token(server, signed, client_id=service.client_id).status_code == 200


def test_a_replayed_assertion_is_401_invalid_client(server, env, keys):
    """RFC 7523 3 point 7: the jti is spent in the tokens table at the first use, deployment-wide."""
    service = key_client(env, keys["ES256"])
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token")
    assert token(server, signed).status_code == 200
    refused(token(server, signed), "already used")
    fresh_but_same_jti = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token",
                                   jti=jwt.decode(signed, options={"verify_signature": False})["jti"])
    refused(token(server, fresh_but_same_jti), "already used")


def test_one_assertion_sent_twenty_times_at_once_is_accepted_exactly_once(server, env, keys, store_endpoint):
    """RFC 7523 3 point 7 under concurrency: the conditional put lets one spend win; one token is issued, the
    others are invalid_client, and one spent assertion is left in the tokens table."""
    from tests.faults import StoreView
    from tests.integration.test_races import race

    service = key_client(env, keys["ES256"])
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token")
    answers = race(lambda _: token(server, signed))
    assert sorted(answer.status_code for answer in answers) == [200] + [401] * 19
    assert {answer.json()["error"] for answer in answers if answer.status_code == 401} == {"invalid_client"}
    spent = [key for key in StoreView(store_endpoint).items(env.settings.storage.tokens_table)
             if key.startswith("assertion#")]
    assert len(spent) == 1


def test_an_expired_assertion_is_401_invalid_client(server, env, keys):
    service = key_client(env, keys["ES256"])
    now = int(time.time())
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token", iat=now - 600, exp=now - 300)
    refused(token(server, signed), "expired")


@pytest.mark.parametrize("aud", ["https://other.example.com/oauth/token", "/oauth/token", "{server}/oauth/revoke"])
def test_an_assertion_for_another_audience_is_401_invalid_client(server, env, keys, aud):
    """RFC 7523 3 point 3: another server, a relative URL, or another endpoint of this server."""
    service = key_client(env, keys["ES256"])
    refused(token(server, assertion(keys["ES256"], service.client_id, aud.format(server=server.url))), "aud")


def test_a_key_it_did_not_register_is_401_invalid_client(server, env, keys):
    service = key_client(env, keys["ES256"])
    refused(token(server, assertion(keys["stranger"], service.client_id, f"{server.url}/oauth/token")), "signature")


def test_a_secret_is_no_credential_of_a_client_with_keys(server, env, keys):
    """A client with keys has no secret (OpenID Connect Core 9: it registered private_key_jwt)."""
    service = key_client(env, keys["ES256"])
    response = server.token(service.client_id, "any-secret")
    refused(response, "private_key_jwt")
    assert response.headers["WWW-Authenticate"].startswith("Basic")  # RFC 6749 5.2: it tried Basic
    without = post(server, "/oauth/token", grant_type="client_credentials", client_id=service.client_id)
    refused(without, "private_key_jwt")


def test_an_assertion_and_a_secret_together_are_400_invalid_request(server, env, keys, client):
    service = key_client(env, keys["ES256"])
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token")
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), timeout=10, data={
        "grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": signed})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_client_with_a_secret_cannot_authenticate_with_an_assertion(server, env, keys, client):
    signed = assertion(keys["ES256"], client.client_id, f"{server.url}/oauth/token")
    refused(token(server, signed), "no keys")


def test_revocation_and_introspection_authenticate_with_private_key_jwt(server, env, keys):
    """RFC 7009 2.1 and RFC 7662 2.1 authenticate the client as the token endpoint does: each accepts an
    assertion for its own URL (or the issuer, or the token endpoint), each spends it."""
    service = key_client(env, keys["ES256"])
    issued = token(server, assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token")).json()
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/introspect")
    answer = post(server, "/oauth/introspect", signed, token=issued["access_token"])
    assert answer.status_code == 200 and answer.json()["active"] is True, answer.text
    assert answer.json()["client_id"] == service.client_id
    refused(post(server, "/oauth/introspect", signed, token=issued["access_token"]), "already used")
    signed = assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/revoke")
    assert post(server, "/oauth/revoke", signed, token=issued["access_token"]).status_code == 200
    signed = assertion(keys["ES256"], service.client_id, server.url)
    answer = post(server, "/oauth/introspect", signed, token=issued["access_token"])
    assert answer.status_code == 200 and answer.json() == {"active": False}
    refused(post(server, "/oauth/revoke", assertion(keys["stranger"], service.client_id, server.url),
                 token=issued["access_token"]), "signature")


def test_a_device_with_keys_asks_and_polls_with_an_assertion_each_time(server, env, keys):
    """RFC 8628 3.1 and 3.4: the device authorization request and every poll authenticate the client; a client
    with keys gets no poll authenticated from the device record (its assertion is single-use), so a poll without
    one is invalid_client, and one with a fresh assertion is told to wait."""
    device = key_client(env, keys["ES256"], grant_types=(DEVICE_CODE,), scopes=())
    asked = post(server, "/oauth/device/code", assertion(keys["ES256"], device.client_id,
                                                         f"{server.url}/oauth/device/code"))
    assert asked.status_code == 200, asked.text
    poll = {"grant_type": DEVICE_CODE, "device_code": asked.json()["device_code"]}
    pending = post(server, "/oauth/token", assertion(keys["ES256"], device.client_id, f"{server.url}/oauth/token"),
                   **poll)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending", pending.text
    refused(post(server, "/oauth/token", client_id=device.client_id, **poll), "private_key_jwt")


def test_a_client_registered_with_private_key_jwt_authenticates_with_its_key(server, env, keys):
    """RFC 7591 2 through POST /oauth/register (the token policy: a service with client_credentials): no
    secret issued, its jwks echoed, then its assertions accepted."""
    initial = "initial-access-token-for-the-test"
    env.reconfigure(PASSPORT_REGISTRATION_POLICY="token",
                    PASSPORT_REGISTRATION_INITIAL_ACCESS_TOKEN_SHA256=hashlib.sha256(initial.encode()).hexdigest())
    registered = requests.post(f"{server.url}/oauth/register", timeout=10, headers={
        "Authorization": f"Bearer {initial}"}, json={
        "client_name": "reports", "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": jwk_set(k1=keys["EdDSA"]),
        "token_endpoint_auth_signing_alg": "EdDSA"})
    assert registered.status_code == 201, registered.text
    info = registered.json()
    assert "client_secret" not in info and info["jwks"] == jwk_set(k1=keys["EdDSA"])
    signed = assertion(keys["EdDSA"], info["client_id"], f"{server.url}/oauth/token", alg="EdDSA")
    assert token(server, signed).status_code == 200


def test_open_registration_takes_a_private_key_jwt_client_but_no_client_credentials(server, keys):
    base = {"client_name": "agent", "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwk_set(k1=keys["ES256"])}
    made = requests.post(f"{server.url}/oauth/register", timeout=10, json={
        **base, "redirect_uris": ["http://127.0.0.1:3000/callback"]})
    assert made.status_code == 201 and made.json()["token_endpoint_auth_method"] == "private_key_jwt", made.text
    machine = requests.post(f"{server.url}/oauth/register", timeout=10, json={
        **base, "grant_types": ["client_credentials"]})
    assert machine.status_code == 400 and machine.json()["error"] == "invalid_client_metadata"


def test_metadata_advertises_private_key_jwt_and_its_algorithms(server):
    """RFC 8414 2: token_endpoint_auth_signing_alg_values_supported is REQUIRED with private_key_jwt."""
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    for endpoint in ("token", "revocation", "introspection"):
        assert "private_key_jwt" in metadata[f"{endpoint}_endpoint_auth_methods_supported"]
        assert metadata[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] == ["ES256", "RS256", "EdDSA"]


# -- jwks_uri -----------------------------------------------------------------------------------------------------


@pytest.fixture
def host(tmp_path: Path, monkeypatch):
    with document_host(tmp_path) as running:
        monkeypatch.setenv("SSL_CERT_FILE", str(running.bundle))  # the server trusts the host's certificate
        yield running


def uri_client(env, host) -> RegisteredClient:
    return make_client(env, keys=validate_client_keys(jwks_uri=host.url(JWKS_PATH)), scopes=("orders:read",))


@pytest.mark.passport_config("[client_documents]\nallow_loopback = true\n")
def test_a_jwks_uri_client_authenticates_and_a_rotated_set_is_fetched_after_an_unknown_kid(server, env, keys, host):
    """The set is fetched once and kept (every assertion after the first costs no fetch); when the client signs
    with a key it has just published (a kid the kept set lacks), the set is fetched again, once."""
    host.replies[JWKS_PATH] = Reply(body=json.dumps(jwk_set(k1=keys["ES256"])).encode())
    service = uri_client(env, host)
    audience = f"{server.url}/oauth/token"
    for _ in range(3):
        assert token(server, assertion(keys["ES256"], service.client_id, audience)).status_code == 200
    assert host.requests == [f"GET {JWKS_PATH} HTTP/1.1"]
    host.replies[JWKS_PATH] = Reply(body=json.dumps(jwk_set(k2=keys["rotated"])).encode())
    rotated = token(server, assertion(keys["rotated"], service.client_id, audience, kid="k2"))
    assert rotated.status_code == 200, rotated.text
    assert len(host.requests) == 2
    # Another unknown kid right after: refused from the kept set, without fetching again.
    refused(token(server, assertion(keys["stranger"], service.client_id, audience, kid="k3")), "kid")
    assert len(host.requests) == 2


@pytest.mark.passport_config("[client_documents]\nallow_loopback = true\n")
def test_a_jwks_uri_that_cannot_be_fetched_is_refused_without_saying_why(server, env, keys, host):
    host.replies[JWKS_PATH] = Reply(302, headers={"Location": "https://127.0.0.1/elsewhere"})
    service = uri_client(env, host)
    response = token(server, assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token"))
    refused(response, "could not be fetched from its jwks_uri")
    assert "302" not in response.text and "127.0.0.1" not in response.json()["error_description"]


def test_without_the_development_setting_a_loopback_jwks_uri_is_never_connected_to(server, env, keys, host):
    host.replies[JWKS_PATH] = Reply(body=json.dumps(jwk_set(k1=keys["ES256"])).encode())
    service = uri_client(env, host)
    refused(token(server, assertion(keys["ES256"], service.client_id, f"{server.url}/oauth/token")), "jwks_uri")
    assert host.connections == 0


# -- the CLI (docs/cli.md) ----------------------------------------------------------------------------------------


def passport(capsys, *args: str) -> tuple[int, str]:
    from passport.cli import main

    capsys.readouterr()
    code = main([*args, "--aws"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_cli_makes_a_client_with_keys_replaces_them_and_shows_their_ids(server, keys, tmp_path, capsys):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(jwk_set(k1=keys["ES256"])))
    second.write_text(json.dumps(jwk_set(k2=keys["rotated"])))
    code, out = passport(capsys, "client", "create", "--client", "--name", "reports", "--scope", "orders:read",
                         "--jwks", str(first), "--json")
    assert code == 0, out
    made = json.loads(out)
    assert "client_secret" not in made and made["public"] is False
    assert made["token_endpoint_auth_method"] == "private_key_jwt" and made["key_ids"] == ["k1"]
    client_id, audience = made["client_id"], f"{server.url}/oauth/token"
    assert token(server, assertion(keys["ES256"], client_id, audience)).status_code == 200

    code, out = passport(capsys, "client", "update", client_id, "--jwks", str(second), "--json")
    assert code == 0 and json.loads(out)["key_ids"] == ["k2"], out
    refused(token(server, assertion(keys["ES256"], client_id, audience)), "kid")  # the old key: gone at once
    assert token(server, assertion(keys["rotated"], client_id, audience, kid="k2")).status_code == 200

    code, out = passport(capsys, "client", "show", client_id)
    assert code == 0 and "Authentication ... private_key_jwt, keys k2" in out, out
    code, out = passport(capsys, "client", "rotate-secret", client_id)
    assert code == 1 and "private_key_jwt" in out


def test_the_cli_refuses_keys_for_a_public_client_and_a_jwks_uri_that_is_not_https(server, keys, tmp_path, capsys,
                                                                                     client):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(jwk_set(k1=keys["ES256"])))
    code, out = passport(capsys, "client", "create", "--public", "--name", "spa", "--redirect-uri",
                         "https://app.example.com/cb", "--jwks", str(jwks))
    assert code == 1 and "public" in out
    code, out = passport(capsys, "client", "create", "--client", "--name", "svc", "--jwks-uri",
                         "http://keys.example.com/jwks.json")
    assert code == 1 and "https" in out
    code, out = passport(capsys, "client", "update", client.client_id, "--jwks", str(jwks))
    assert code == 1 and "private_key_jwt" in out  # a client with a secret does not become a key client
