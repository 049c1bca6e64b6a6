"""RFC 8414 metadata and the JWKS."""

from __future__ import annotations

import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_metadata_validates_with_authlib(server):
    response = requests.get(f"{server.url}/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = response.json()
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["issuer"] == server.url
    assert metadata["token_endpoint"] == f"{server.url}/oauth/token"
    assert metadata["jwks_uri"] == f"{server.url}/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == [
        "authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert metadata["device_authorization_endpoint"] == f"{server.url}/oauth/device/code"
    assert metadata["authorization_endpoint"] == f"{server.url}/oauth/authorize"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post",
                                                                 "private_key_jwt", "none"]
    # RFC 8414 2: REQUIRED with private_key_jwt (RFC 7523): asymmetric algorithms only, never none or HS256
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "RS256", "EdDSA"]
    # the identity scopes of OpenID Connect are always there, beside the configured ones
    assert set(metadata["scopes_supported"]) == {"openid", "profile", "email", "offline_access",
                                                 *server.env.settings.scopes}
    assert metadata["userinfo_endpoint"] == f"{server.url}/oauth/userinfo"
    assert metadata["end_session_endpoint"] == f"{server.url}/oauth/logout"


def test_metadata_lists_only_what_is_enabled(server):
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert metadata["revocation_endpoint"] == f"{server.url}/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{server.url}/oauth/introspect"
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
    # registration is open by default (docs/mcp.md); closed, it is not advertised (test_registration.py)
    assert metadata["registration_endpoint"] == f"{server.url}/oauth/register"
    assert "password" not in metadata["grant_types_supported"]
    assert "implicit" not in metadata["grant_types_supported"] and "token" not in metadata["response_types_supported"]


def test_jwks_publishes_public_keys_only_with_kid_alg_and_use(server):
    jwks = requests.get(f"{server.url}/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 1
    for key in jwks["keys"]:
        assert not PRIVATE_MEMBERS & set(key), key.keys()
        assert key["use"] == "sig" and key["alg"] == "RS256" and key["kty"] == "RSA" and key["kid"]


def test_jwks_verifies_an_issued_token_with_a_standard_library(server, client):
    import jwt

    token = server.token(client.client_id, client.secret).json()["access_token"]
    jwk_client = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json")
    key = jwk_client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=f"{server.url}/api", issuer=server.url)
    assert claims["client_id"] == client.client_id
