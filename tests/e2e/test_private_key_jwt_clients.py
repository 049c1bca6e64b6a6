"""``private_key_jwt`` (RFC 7523 2.2, OpenID Connect Core 1.0 section 9) as a real client library does it: authlib's
``PrivateKeyJWT`` with ``OAuth2Session(token_endpoint_auth_method="private_key_jwt")``, as its documentation shows,
against the local server: a token, then introspection and revocation with the same method (authlib signs each
assertion for the URL it posts to), and the refusals of a replayed and an expired assertion."""

from __future__ import annotations

import time

import pytest
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, RSAKey
from passport.core.clients import validate_client_keys
from passport.keys.material import generate, private_pem, public_jwk_members

from tests.conftest import make_client


@pytest.fixture(scope="module")
def rsa_key():
    return generate("RS256")


def registered(env, key, kid: str = "k1"):
    """A service registered with its public key (what `passport client create --client --jwks FILE` makes)."""
    jwks = {"keys": [{**public_jwk_members(key.public_key()), "kid": kid}]}
    return make_client(env, keys=validate_client_keys(jwks), scopes=("orders:read",))


def session(client_id: str, key, auth: PrivateKeyJWT) -> OAuth2Session:
    signing_key = RSAKey.import_key(private_pem(key)) if auth.alg == "RS256" else ECKey.import_key(private_pem(key))
    made = OAuth2Session(client_id, signing_key, token_endpoint_auth_method="private_key_jwt",
                         revocation_endpoint_auth_method="private_key_jwt", scope="orders:read")
    made.register_client_auth_method(auth)
    return made


def test_authlib_private_key_jwt_gets_a_token_then_introspects_and_revokes_it(env, server, rsa_key):
    service = registered(env, rsa_key)
    client = session(service.client_id, rsa_key, PrivateKeyJWT())  # RS256; aud: the URL it posts to
    token = client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "orders:read"
    assert client.get(f"{server.url}/api/orders").status_code == 200
    # a second token: a fresh assertion (a new jti) each time
    assert client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")["access_token"]
    active = client.introspect_token(f"{server.url}/oauth/introspect", token=token["access_token"])
    assert active.status_code == 200 and active.json()["active"] is True, active.text
    assert client.revoke_token(f"{server.url}/oauth/revoke", token=token["access_token"]).status_code == 200
    inactive = client.introspect_token(f"{server.url}/oauth/introspect", token=token["access_token"])
    assert inactive.json() == {"active": False}


def test_authlib_private_key_jwt_with_es256_and_a_kid_naming_the_key(env, server):
    key = generate("ES256")
    service = registered(env, key, kid="signing-2026")
    client = session(service.client_id, key, PrivateKeyJWT(f"{server.url}/oauth/token", alg="ES256",
                                                            headers={"kid": "signing-2026"}))
    assert client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")["access_token"]


def test_authlib_sending_the_same_assertion_twice_is_refused_as_a_replay(env, server, rsa_key):
    """RFC 7523 3 point 7: the jti is spent at the first use. (authlib keeps the jti it adds in the claims it was
    given, so a client configured with a fixed jti sends one assertion twice: the second is refused.)"""
    service = registered(env, rsa_key)
    client = session(service.client_id, rsa_key, PrivateKeyJWT(claims={"jti": "only-once"}))
    client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    assert refused.value.error == "invalid_client" and "already used" in refused.value.description


def test_authlib_with_an_expired_assertion_is_refused(env, server, rsa_key):
    service = registered(env, rsa_key)
    now = int(time.time())
    client = session(service.client_id, rsa_key, PrivateKeyJWT(claims={"iat": now - 600, "exp": now - 300}))
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    assert refused.value.error == "invalid_client" and "expired" in refused.value.description
