"""The token endpoint through the local gateway on a real socket: client credentials and every error of
docs/http.md (RFC 6749 sections 2.3.1, 3.2, 4.4 and 5.2)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import jwt
import pytest
import requests

from tests.conftest import make_client

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def assert_no_store(response: requests.Response) -> None:
    for name, value in NO_STORE.items():
        assert response.headers.get(name) == value, f"{name} missing on {response.status_code}"


def assert_error(response: requests.Response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert_no_store(response)
    return body


def test_client_credentials_with_basic_auth_issues_an_rfc9068_token(server, client):
    response = server.token(client.client_id, client.secret, scope="orders:read")
    assert response.status_code == 200
    assert_no_store(response)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "orders:read"
    assert "refresh_token" not in body  # RFC 6749 4.4.3
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == server.url
    assert claims["sub"] == client.client_id == claims["client_id"]
    assert claims["aud"] == f"{server.url}/api"
    assert claims["scope"] == "orders:read" and claims["scopes"] == ["orders:read"]
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert len(claims["jti"]) >= 32


def test_client_secret_post_is_accepted(server, client):
    response = requests.post(f"{server.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.secret,
    })
    assert response.status_code == 200, response.text


def test_basic_credentials_are_form_urlencoded_inside(server, env):
    """RFC 6749 2.3.1: id and secret are encoded with application/x-www-form-urlencoded before Basic."""
    client = make_client(env)
    raw = f"{quote(client.client_id, safe='')}:{quote(client.secret, safe='')}"
    response = requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                             headers={"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()})
    assert response.status_code == 200


def test_wrong_secret_via_basic_is_401_invalid_client_with_www_authenticate_basic(server, client):
    response = server.token(client.client_id, "not-the-secret")
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_secret_in_body_is_401_invalid_client(server, client):
    response = requests.post(f"{server.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client.client_id, "client_secret": "nope",
    })
    assert_error(response, 401, "invalid_client")


def test_unknown_client_is_invalid_client(server):
    assert_error(server.token("3f1c7a5e-0000-4000-8000-000000000000", "x"), 401, "invalid_client")


def test_no_client_authentication_is_invalid_client(server):
    response = requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"})
    assert_error(response, 401, "invalid_client")


def test_malformed_basic_header_is_invalid_client(server):
    response = requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                             headers={"Authorization": "Basic !!!not-base64"})
    assert_error(response, 401, "invalid_client")


def test_basic_and_body_secret_together_is_invalid_request(server, client):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), data={
        "grant_type": "client_credentials", "client_secret": client.secret,
    })
    assert_error(response, 400, "invalid_request")


def test_missing_grant_type_is_invalid_request(server, client):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), data={"x": "1"})
    assert_error(response, 400, "invalid_request")


def test_repeated_grant_type_is_invalid_request(server, client):
    response = requests.post(
        f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
        data="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "invalid_request")


def test_repeated_scope_is_invalid_request(server, client):
    response = requests.post(
        f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
        data="grant_type=client_credentials&scope=orders:read&scope=orders:read",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "invalid_request")


def test_unknown_grant_is_unsupported_grant_type(server, client):
    response = server.token(client.client_id, client.secret, grant_type="urn:example:magic")
    assert_error(response, 400, "unsupported_grant_type")


def test_unknown_scope_is_invalid_scope(server, client):
    assert_error(server.token(client.client_id, client.secret, scope="orders:read admin"), 400, "invalid_scope")


def test_scope_outside_the_clients_list_is_invalid_scope(server, client):
    assert_error(server.token(client.client_id, client.secret, scope="orders:write"), 400, "invalid_scope")


def test_malformed_scope_is_invalid_scope(server, client):
    assert_error(server.token(client.client_id, client.secret, scope='orders:read "x'), 400, "invalid_scope")


def test_client_without_the_grant_is_unauthorized_client(server, env):
    other = make_client(env, grant_types=("authorization_code",), redirect_uris=("https://app.example/cb",))
    assert_error(server.token(other.client_id, other.secret), 400, "unauthorized_client")


def test_public_client_cannot_use_client_credentials(server, env):
    public = make_client(env, grant_types=("authorization_code",), redirect_uris=("https://app.example/cb",),
                         public=True)
    response = requests.post(f"{server.url}/oauth/token",
                             data={"grant_type": "client_credentials", "client_id": public.client_id})
    assert response.status_code == 400
    assert response.json()["error"] in ("unauthorized_client",)


def test_revoked_client_is_invalid_client(server, client):
    from passport.storage.repositories import DynamoClientStore

    DynamoClientStore().revoke(client.client_id)
    assert_error(server.token(client.client_id, client.secret), 401, "invalid_client")


def test_get_on_the_token_endpoint_is_405_with_a_json_body(server):
    response = requests.get(f"{server.url}/oauth/token")
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"  # OPTIONS: the CORS preflight (docs/http.md)
    assert response.json()["error"]


def test_unknown_path_is_404_with_a_json_body(server):
    response = requests.get(f"{server.url}/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_json_body_is_invalid_request(server, client):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                             json={"grant_type": "client_credentials"})
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("body", [b"grant_type=client_credentials&scope=\xff\xfe", b"\x80\x81\x82"])
def test_non_utf8_body_is_invalid_request(server, client, body):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 400, "invalid_request")


def test_percent_encoded_non_utf8_is_invalid_request(server, client):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                             data="grant_type=client_credentials&scope=%ff%fe",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 400, "invalid_request")


def test_oversized_body_is_a_4xx_never_a_500(server, client):
    response = requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret),
                             data={"grant_type": "client_credentials", "pad": "x" * 200_000})
    assert 400 <= response.status_code < 500
    assert response.json()["error"] == "invalid_request"


def test_body_beyond_api_gateways_limit_is_413(server):
    response = requests.post(f"{server.url}/oauth/token", data=b"x" * (10 * 1024 * 1024 + 1),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_default_scopes_are_granted_when_none_is_asked(env, server):
    env.monkeypatch.setenv("PASSPORT_DEFAULT_SCOPES", "orders:read")
    settings = env.reconfigure()
    assert settings.default_scopes == ("orders:read",)
    server.gateway.settings = settings
    client = make_client(env)
    response = server.token(client.client_id, client.secret)
    assert response.json()["scope"] == "orders:read"


def test_every_issued_token_is_recorded_before_it_is_returned(server, client):
    from passport.storage.repositories import DynamoAccessTokenStore

    token = server.token(client.client_id, client.secret).json()["access_token"]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    record = DynamoAccessTokenStore().get(jti)
    assert record is not None and record.client_id == client.client_id and not record.revoked


def test_storage_down_is_503_with_retry_after_and_nothing_issued(server, client, monkeypatch, store_endpoint):
    """DynamoDB unreachable: the token endpoint says when to retry, in OAuth's JSON, and issues nothing."""
    from passport.storage.connection import forget_client

    from tests.conftest import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    forget_client()
    try:
        response = server.token(client.client_id, client.secret)
    finally:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", store_endpoint)
        forget_client()  # the next client reads the real endpoint again
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["error"] == "temporarily_unavailable"
    assert_no_store(response)


@pytest.mark.parametrize("token", ["f" * 3000, "x" * 3000 + ".y", "0" * 32 + "." + "A" * 3000,
                                   "family.secret", "0123456789abcdef0123456789abcdef.short"],
                         ids=["3kb-no-dot", "3kb-family", "3kb-secret", "not-hex", "short-secret"])
def test_a_refresh_token_not_shaped_like_ours_is_refused_without_a_read(server, env, token):
    """Never issued here, so invalid_grant (RFC 6749 5.2), inactive at introspection (RFC 7662 2.2) and 200 at
    revocation (RFC 7009 2.2), not the 503 DynamoDB's refusal of a key over 2048 bytes would become."""
    app = make_client(env, grant_types=("authorization_code", "refresh_token"), redirect_uris=("https://a.example/cb",),
                      introspection=True)
    refreshed = server.token(app.client_id, app.secret, grant_type="refresh_token", refresh_token=token)
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant", refreshed.text
    introspected = requests.post(f"{server.url}/oauth/introspect", auth=(app.client_id, app.secret),
                                 data={"token": token}, timeout=10)
    assert introspected.status_code == 200 and introspected.json() == {"active": False}, introspected.text
    revoked = requests.post(f"{server.url}/oauth/revoke", auth=(app.client_id, app.secret), data={"token": token},
                            timeout=10)
    assert revoked.status_code == 200, revoked.text
