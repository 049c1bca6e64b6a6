"""Standard OAuth client libraries against the local server: what users will actually run."""

from __future__ import annotations

import requests
from authlib.integrations.requests_client import OAuth2Session
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session as OAuthlibSession


def test_authlib_client_credentials_with_client_secret_basic(server, client):
    session = OAuth2Session(client.client_id, client.secret, token_endpoint_auth_method="client_secret_basic",
                            scope="orders:read")
    token = session.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "orders:read"
    response = session.get(f"{server.url}/api/orders")
    assert response.status_code == 200 and response.json()["client_id"] == client.client_id


def test_authlib_client_credentials_with_client_secret_post(server, client):
    session = OAuth2Session(client.client_id, client.secret, token_endpoint_auth_method="client_secret_post")
    token = session.fetch_token(f"{server.url}/oauth/token", grant_type="client_credentials")
    assert session.get(f"{server.url}/api/ping").json()["client_id"] == client.client_id
    assert token["expires_in"] == 3600


def test_requests_oauthlib_backend_application_flow(server, client, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback only
    session = OAuthlibSession(client=BackendApplicationClient(client_id=client.client_id))
    token = session.fetch_token(f"{server.url}/oauth/token", client_id=client.client_id,
                                client_secret=client.secret, scope=["orders:read"])
    assert token["scope"] == ["orders:read"]
    assert session.get(f"{server.url}/api/orders").status_code == 200
    assert session.get(f"{server.url}/api/user").status_code == 403


def test_a_user_token_reaches_api_user(server, client):
    """/api/user answers for the token's user (user tokens arrive with later grants; issued directly here)."""
    from passport.compose import access_token_issuer, settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    user = create_user(DynamoUserStore(), email="grace@example.com", name="Grace", password=None)
    issued = access_token_issuer(settings()).issue(
        client_id=client.client_id, scopes=("orders:read",), grant_type="authorization_code", user_id=user.id
    )
    response = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {issued.access_token}"})
    assert response.status_code == 200
    assert response.json() == {"id": user.id, "email": "grace@example.com", "name": "Grace",
                               "client_id": client.client_id, "scopes": ["orders:read"],
                               "token_id": issued.record.jti}
