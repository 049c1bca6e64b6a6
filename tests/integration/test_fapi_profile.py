"""The FAPI 2.0 Security Profile as a client's ``profile`` (passport.core.profile) and codes bound to a DPoP key (RFC
9449 10), through the local gateway on DynamoDB Local: each thing the profile asks of a client, refused when
missing, and the flow that meets them all."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
import requests
from passport.core.clients import validate_client_keys
from passport.keys.material import generate, public_jwk_members

from tests.conftest import make_client
from tests.dpop_keys import DpopKey
from tests.integration.browser import pkce_pair, query_of
from tests.integration.conftest import REDIRECT
from tests.integration.test_authorization_code import approve
from tests.integration.test_par import is_refusal_page
from tests.integration.test_private_key_jwt import passport

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def client_key():
    return generate("ES256")


@pytest.fixture
def fapi_client(env, client_key):
    """A client held to FAPI 2.0 on a baseline server: its key registered, its own profile."""
    keys = validate_client_keys({"keys": [{**public_jwk_members(client_key.public_key()), "kid": "k1"}]})
    return make_client(env, name="bank app", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read",), keys=keys, fields={"profile": "fapi2"})


def assertion(server, key, client_id: str, aud: str | list[str] | None = None) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud or server.url, "iat": now, "exp": now + 60,
              "jti": str(uuid.uuid4())}
    return {"client_assertion_type": ASSERTION_TYPE,
            "client_assertion": jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})}


def push(server, key, client, dpop: DpopKey | None = None, **params: str | None) -> requests.Response:
    """POST /oauth/par with private_key_jwt; a parameter given as None is left out."""
    form = {"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read", "state": "s",
            "client_id": client.client_id, **assertion(server, key, client.client_id), **params}
    form = {name: value for name, value in form.items() if value is not None}
    headers = {"DPoP": dpop.proof("POST", f"{server.url}/oauth/par")} if dpop else {}
    return requests.post(f"{server.url}/oauth/par", data=form, headers=headers, timeout=10)


def redeem(server, key, client, code: str, verifier: str, dpop: DpopKey | None) -> requests.Response:
    url = f"{server.url}/oauth/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
            **assertion(server, key, client.client_id)}
    headers = {"DPoP": dpop.proof("POST", url)} if dpop else {}
    return requests.post(url, data=form, headers=headers, timeout=10)


def authorize_pushed(browser, client, request_uri: str) -> dict[str, str]:
    answer = browser.authorize(client_id=client.client_id, request_uri=request_uri)
    if answer.status_code == 200:
        approve_form, _ = browser.consent_forms(answer)
        answer = browser.submit(approve_form)
    assert answer.status_code == 303, answer.text
    return query_of(answer.headers["Location"])


# -- the flow that meets every requirement ------------------------------------------------------------------------


def test_a_fapi2_client_pushes_with_pkce_and_a_dpop_key_and_gets_a_bound_token_from_a_short_lived_code(
    server, browser, fapi_client, client_key
):
    dpop = DpopKey()
    verifier, challenge = pkce_pair()
    pushed = push(server, client_key, fapi_client, dpop, code_challenge=challenge, code_challenge_method="S256")
    assert pushed.status_code == 201, pushed.text
    query = authorize_pushed(browser, fapi_client, pushed.json()["request_uri"])
    assert query["iss"] == server.url
    # RFC 9449 10.1: the code is bound to the key of the proof sent with the push
    refused = redeem(server, client_key, fapi_client, query["code"], verifier, DpopKey())
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
    tokens = redeem(server, client_key, fapi_client, query["code"], verifier, dpop)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["token_type"] == "DPoP"
    assert jwt.decode(tokens.json()["access_token"], options={"verify_signature": False})["cnf"]["jkt"] == dpop.jkt


def test_a_fapi2_clients_code_lives_at_most_sixty_seconds(server, browser, fapi_client, client_key, env):
    from passport import compose
    from passport.core.hashing import hash_secret
    from passport.storage.grants import DynamoGrantStore

    _, challenge = pkce_pair()
    pushed = push(server, client_key, fapi_client, DpopKey(), code_challenge=challenge, code_challenge_method="S256")
    code = authorize_pushed(browser, fapi_client, pushed.json()["request_uri"])["code"]
    compose.bind_storage()
    stored = DynamoGrantStore().get_code(hash_secret(code))
    assert env.settings.lifetimes.code > 60
    assert stored is not None and stored.expires_at - int(time.time()) <= 60


# -- each requirement, refused when missing ---------------------------------------------------------------------


def test_a_fapi2_client_must_push_its_request(server, browser, fapi_client):
    _, challenge = pkce_pair()
    answer = browser.authorize(response_type="code", client_id=fapi_client.client_id, redirect_uri=REDIRECT,
                               scope="orders:read", state="s", code_challenge=challenge, code_challenge_method="S256")
    assert answer.status_code == 303
    assert query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_a_fapi2_clients_push_needs_pkce_and_its_redirect_uri(server, fapi_client, client_key):
    no_pkce = push(server, client_key, fapi_client, DpopKey())
    assert no_pkce.status_code == 400 and no_pkce.json()["error"] == "invalid_request", no_pkce.text
    assert "code_challenge" in no_pkce.json()["error_description"]
    _, challenge = pkce_pair()
    no_redirect_uri = push(server, client_key, fapi_client, DpopKey(), code_challenge=challenge,
                           code_challenge_method="S256", redirect_uri=None)
    assert no_redirect_uri.status_code == 400 and "redirect_uri" in no_redirect_uri.json()["error_description"]


def test_a_fapi2_client_authenticates_with_private_key_jwt_whose_aud_is_the_issuer_alone(
    server, fapi_client, client_key
):
    _, challenge = pkce_pair()
    form = {"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read", "code_challenge": challenge,
            "code_challenge_method": "S256", "client_id": fapi_client.client_id}
    for aud in (f"{server.url}/oauth/par", [server.url]):
        answer = requests.post(f"{server.url}/oauth/par", timeout=10,
                               data={**form, **assertion(server, client_key, fapi_client.client_id, aud)})
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", answer.text


def test_a_fapi2_clients_tokens_must_be_dpop_bound(server, browser, fapi_client, client_key):
    verifier, challenge = pkce_pair()
    pushed = push(server, client_key, fapi_client, code_challenge=challenge, code_challenge_method="S256")
    assert pushed.status_code == 201, pushed.text
    code = authorize_pushed(browser, fapi_client, pushed.json()["request_uri"])["code"]
    refused = redeem(server, client_key, fapi_client, code, verifier, None)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


def test_a_fapi2_client_may_not_use_a_secret(env, server):
    held = make_client(env, grant_types=("client_credentials",), scopes=("orders:read",), fields={"profile": "fapi2"})
    answer = server.token(held.client_id, held.secret)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


# -- the CLI (docs/cli.md) ----------------------------------------------------------------------------------------


def test_the_cli_holds_a_key_client_to_fapi2_shows_it_and_hands_it_back_to_the_servers_profile(
    server, client_key, tmp_path, capsys
):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public_jwk_members(client_key.public_key()), "kid": "k1"}]}))
    code, out = passport(capsys, "client", "create", "--client", "--name", "bank", "--scope", "orders:read",
                         "--jwks", str(jwks), "--profile", "fapi2", "--json")
    assert code == 0, out
    made = json.loads(out)
    assert made["profile"] == "fapi2" and made["dpop_bound"] is False
    client_id, url = made["client_id"], f"{server.url}/oauth/token"

    def token(dpop: DpopKey | None = None) -> requests.Response:
        return requests.post(url, timeout=10, headers={"DPoP": dpop.proof("POST", url)} if dpop else {},
                             data={"grant_type": "client_credentials", **assertion(server, client_key, client_id)})

    refused = token()  # held to FAPI 2.0 on this baseline server: sender-constrained tokens only
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text
    assert token(DpopKey()).json()["token_type"] == "DPoP"
    code, out = passport(capsys, "client", "show", client_id)
    assert code == 0 and "Profile .......... fapi2 (FAPI 2.0 Security Profile)" in out, out
    code, out = passport(capsys, "client", "update", client_id, "--profile", "server", "--json")
    assert code == 0 and json.loads(out)["profile"] is None, out
    assert token().json()["token_type"] == "Bearer"
    code, out = passport(capsys, "client", "show", client_id)
    assert "Profile .......... the server's (security_profile)" in out, out
    code, out = passport(capsys, "client", "update", client_id, "--profile", "baseline", "--json")
    assert code == 0 and json.loads(out)["profile"] == "baseline", out
    code, out = passport(capsys, "client", "show", client_id, "--json")
    assert json.loads(out)["profile"] == "baseline"


def test_the_cli_refuses_the_fapi2_profile_to_a_client_with_a_secret_or_a_public_one(server, client, capsys):
    """FAPI 2.0 Security Profile 5.3.2.1 point 4: private_key_jwt only, so such a client could never authenticate."""
    code, out = passport(capsys, "client", "create", "--client", "--name", "svc", "--profile", "fapi2")
    assert code == 1 and "fapi2 profile needs private_key_jwt, and a client with a secret has no keys" in out, out
    code, out = passport(capsys, "client", "create", "--public", "--name", "spa", "--redirect-uri", REDIRECT,
                         "--profile", "fapi2")
    assert code == 1 and "a public client has no keys" in out, out
    code, out = passport(capsys, "client", "update", client.client_id, "--profile", "fapi2")
    assert code == 1 and "a client with a secret has no keys" in out, out
    code, out = passport(capsys, "client", "list", "--json")
    assert {c["name"] for c in json.loads(out)}.isdisjoint({"svc", "spa"})
    assert next(c for c in json.loads(out) if c["client_id"] == client.client_id)["profile"] is None
    assert server.token(client.client_id, client.secret).status_code == 200


# -- dpop_jkt (RFC 9449 10) ----------------------------------------------------------------------------------------


def test_a_code_requested_with_dpop_jkt_is_exchanged_only_with_a_proof_of_that_key(server, browser, app):
    dpop = DpopKey()
    verifier, challenge = pkce_pair()
    code = approve(browser, app, challenge=challenge, dpop_jkt=dpop.jkt)["code"]
    url = f"{server.url}/oauth/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    for proof in (None, DpopKey().proof("POST", url)):
        refused = requests.post(url, data=form, auth=(app.client_id, app.secret), timeout=10,
                                headers={"DPoP": proof} if proof else {})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
    tokens = requests.post(url, data=form, auth=(app.client_id, app.secret), timeout=10,
                           headers={"DPoP": dpop.proof("POST", url)})
    assert tokens.status_code == 200 and tokens.json()["token_type"] == "DPoP", tokens.text


def test_a_malformed_dpop_jkt_is_invalid_request(server, browser, app):
    _, challenge = pkce_pair()
    answer = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT, state="s",
                               scope="orders:read", code_challenge=challenge, code_challenge_method="S256",
                               dpop_jkt="not a thumbprint")
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["error"] == "invalid_request"


def test_a_pushed_dpop_jkt_must_be_the_proofs_key(server, env, client_key):
    keys = validate_client_keys({"keys": [{**public_jwk_members(client_key.public_key()), "kid": "k1"}]})
    client = make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,), keys=keys)
    _, challenge = pkce_pair()
    answer = push(server, client_key, client, DpopKey(), dpop_jkt=DpopKey().jkt, code_challenge=challenge,
                  code_challenge_method="S256")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_dpop_proof"


def test_an_unknown_pushed_request_is_still_an_error_page(server, browser, fapi_client):
    answer = browser.authorize(client_id=fapi_client.client_id,
                               request_uri="urn:ietf:params:oauth:request_uri:nothing-here")
    assert is_refusal_page(answer)
