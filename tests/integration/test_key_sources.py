"""Key sources of docs/keys.md: files, PASSPORT_PRIVATE_KEY/PUBLIC_KEY, a Secrets Manager secret (over HTTP
to moto's server, as on AWS)."""

from __future__ import annotations

import json
import uuid

import jwt
import pytest
import requests
from passport import admin
from passport.keys import secret as secret_keys
from passport.keys.keyring import KEYS, KeysMissing, load_keyset
from passport.keys.material import generate, private_pem, public_pem, thumbprint


def test_keys_from_a_secrets_manager_secret_sign_and_verify(env, server, client):
    name = f"passport-keys-{uuid.uuid4().hex[:8]}"
    settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=name)
    kid = admin.create_keys(settings)
    assert kid is not None
    assert admin.create_keys(settings) is None  # a second install never replaces the key
    server.gateway.settings = settings
    token = server.token(client.client_id, client.secret).json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == kid
    jwks = requests.get(f"{server.url}/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == [kid]
    assert requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_secret_rotation_keeps_the_previous_public_key_published(env):
    name = f"passport-keys-{uuid.uuid4().hex[:8]}"
    settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=name)
    old = admin.create_keys(settings)
    new = admin.rotate_keys(settings)
    keyset = load_keyset(settings, need_private=True)
    assert keyset.require_signer().kid == new
    assert list(keyset.verification) == [new, old]
    document = secret_keys.read_secret(name)
    assert "private_key" not in document["previous"][0]


def test_a_missing_secret_is_reported_not_crashed_on(env):
    settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=f"absent-{uuid.uuid4().hex[:8]}")
    with pytest.raises(KeysMissing):
        load_keyset(settings, need_private=False)


def test_keys_from_the_environment_take_precedence(env, server, client):
    key = generate("ES256")
    env.reconfigure(PASSPORT_PRIVATE_KEY=private_pem(key).replace("\n", "\\n"),
                    PASSPORT_PUBLIC_KEY=public_pem(key.public_key()))
    server.gateway.settings = env.settings
    token = server.token(client.client_id, client.secret).json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == thumbprint(key.public_key())
    assert requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_other_algorithms_work_end_to_end(env, server, client, alg):
    admin.create_keys(env.settings, force=True, alg=alg)
    env.reconfigure()
    token = server.token(client.client_id, client.secret).json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_private_key_is_parsed_once_per_process(env, server, client):
    first = KEYS.get(env.settings, need_private=True)
    for _ in range(3):
        assert server.token(client.client_id, client.secret).status_code == 200
    assert KEYS.get(env.settings, need_private=True) is first


def test_token_endpoint_without_keys_answers_a_json_error_not_a_trace(env, server, client, tmp_path):
    env.reconfigure(PASSPORT_KEYS_PATH=str(tmp_path / "empty"))
    response = server.token(client.client_id, client.secret)
    assert response.status_code >= 500
    body = response.json()
    assert body["error"] in ("server_error", "temporarily_unavailable")
    assert "Traceback" not in json.dumps(body)


def test_after_a_rotation_a_warm_container_verifies_tokens_of_the_new_key(env, server, client):
    """``passport keys rotate`` while the functions run: a container that loaded the keys before the rotation
    meets a token signed with the new key at introspection and userinfo, and verifies it (it reloads the
    published keys for the unknown kid) instead of calling it invalid until the container is replaced."""
    from passport.compose import SystemClock, settings
    from passport.core.tokens import AccessTokenIssuer
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoAccessTokenStore, DynamoUserStore

    old = server.token(client.client_id, client.secret).json()["access_token"]
    assert requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                         data={"token": old}).json()["active"] is True  # warm: the old key set is loaded
    new_kid = admin.rotate_keys(env.settings)
    signer = load_keyset(env.settings, need_private=True).require_signer()  # what a fresh token function signs with
    assert signer.kid == new_kid
    user = create_user(DynamoUserStore(), email=f"r{uuid.uuid4().hex[:8]}@example.com", name="Rota", password=None)
    issued = AccessTokenIssuer(signer=signer, store=DynamoAccessTokenStore(), clock=SystemClock(),
                               issuer=settings().issuer_url, audience=settings().token_audience, lifetime=600).issue(
        client_id=client.client_id, scopes=("openid",), grant_type="authorization_code", user_id=user.id)
    assert jwt.get_unverified_header(issued.access_token)["kid"] == new_kid
    introspected = requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                                 data={"token": issued.access_token}).json()
    assert introspected["active"] is True and introspected["sub"] == user.id
    claims = requests.get(f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {issued.access_token}"})
    assert claims.status_code == 200 and claims.json()["sub"] == user.id
    # and the token of the retired key still verifies: it stays published until its tokens expire
    assert requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                         data={"token": old}).json()["active"] is True
