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


# -- the authorization code flow with PKCE, and a refresh ---------------------------------------------------------

CODE_FLOW_REDIRECT = "https://app.example.com/callback"
PASSWORD = "correct horse battery staple"


def _code_flow_actors(env, server):
    import uuid

    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    from tests.conftest import make_client
    from tests.integration.browser import Browser

    settings()
    user = create_user(DynamoUserStore(), email=f"e2e{uuid.uuid4().hex[:6]}@example.com", name="E2E", password=PASSWORD)
    app = make_client(env, grant_types=("authorization_code", "refresh_token"), redirect_uris=(CODE_FLOW_REDIRECT,),
                      scopes=("orders:read",))
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    return user, app, browser


def _consent_and_return(browser, authorization_url: str) -> str:
    """What the user's browser does: open the URL, approve, and come back with the redirect."""
    consent = browser.get(authorization_url)
    assert consent.status_code == 200, consent.text
    approve, _ = browser.consent_forms(consent)
    answer = browser.submit(approve)
    assert answer.status_code == 303
    return answer.headers["Location"]


def test_authlib_code_flow_with_s256_and_refresh(env, server):
    user, app, browser = _code_flow_actors(env, server)
    session = OAuth2Session(app.client_id, app.secret, redirect_uri=CODE_FLOW_REDIRECT, scope="orders:read",
                            code_challenge_method="S256")
    import secrets

    verifier = secrets.token_urlsafe(48)
    url, _state = session.create_authorization_url(f"{server.url}/oauth/authorize", code_verifier=verifier)
    assert "code_challenge=" in url
    location = _consent_and_return(browser, url)
    token = session.fetch_token(f"{server.url}/oauth/token", authorization_response=location, code_verifier=verifier)
    assert token["refresh_token"] and token["scope"] == "orders:read"
    assert session.get(f"{server.url}/api/user").json()["id"] == user.id
    refreshed = session.refresh_token(f"{server.url}/oauth/token")
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert session.get(f"{server.url}/api/user").json()["email"] == user.email


def test_requests_oauthlib_code_flow_with_pkce_and_refresh(env, server, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback only
    user, app, browser = _code_flow_actors(env, server)
    oauth = OAuthlibSession(app.client_id, redirect_uri=CODE_FLOW_REDIRECT, scope=["orders:read"], pkce="S256")
    url, _state = oauth.authorization_url(f"{server.url}/oauth/authorize")
    location = _consent_and_return(browser, url)
    token = oauth.fetch_token(f"{server.url}/oauth/token", authorization_response=location,
                              client_secret=app.secret)
    assert oauth.get(f"{server.url}/api/user").json()["id"] == user.id
    refreshed = oauth.refresh_token(f"{server.url}/oauth/token", client_id=app.client_id, client_secret=app.secret)
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert oauth.get(f"{server.url}/api/orders").status_code == 200
