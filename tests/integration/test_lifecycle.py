"""Revocation (RFC 7009) and introspection (RFC 7662) through the local gateway."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import RegisteredClient, make_client
from tests.integration.browser import Browser, query_of

pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")
REDIRECT = "https://app.example.com/callback"
PASSWORD = "correct horse battery staple"


def revoke(server, client, token: str, **extra: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret),
                         data={"token": token, **extra})


def introspect(server, caller, token: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/introspect", auth=(caller.client_id, caller.secret),
                         data={"token": token})


def ping(server, token: str) -> int:
    return requests.get(f"{server.url}/api/ping", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def code_tokens(env, server):
    """An app's access and refresh tokens from the code flow."""
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    user = create_user(DynamoUserStore(), email=f"l{uuid.uuid4().hex[:8]}@example.com", name="L", password=PASSWORD)
    app = make_client(env, grant_types=("authorization_code", "refresh_token"), redirect_uris=(REDIRECT,),
                      first_party=True)
    browser = Browser(server.url)
    browser.login(user.email, PASSWORD)
    answer = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT, state="s",
                               scope="orders:read")
    code = query_of(answer.headers["Location"])["code"]
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}).json()
    return app, user, tokens


def test_revoking_an_access_token_makes_the_guard_refuse_it(server, client):
    token = server.token(client.client_id, client.secret).json()["access_token"]
    assert ping(server, token) == 200
    answer = revoke(server, client, token, token_type_hint="access_token")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert ping(server, token) == 401


def test_revoking_a_refresh_token_ends_its_access_tokens_too(server, code_tokens):
    app, _, tokens = code_tokens
    assert ping(server, tokens["access_token"]) == 200
    assert revoke(server, app, tokens["refresh_token"]).status_code == 200  # no hint: found anyway
    assert ping(server, tokens["access_token"]) == 401
    again = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret),
                          data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.json()["error"] == "invalid_grant"


def test_unknown_tokens_are_200(server, client):
    for token in ("nonsense", "a.b.c", "abc.def", "x" * 3000):
        assert revoke(server, client, token).status_code == 200


def test_an_unknown_hint_is_ignored(server, client):
    token = server.token(client.client_id, client.secret).json()["access_token"]
    assert revoke(server, client, token, token_type_hint="magic").status_code == 200
    assert ping(server, token) == 401


def test_a_client_cannot_revoke_another_clients_token(server, env, client, code_tokens):
    _, _, tokens = code_tokens
    for token in (tokens["access_token"], tokens["refresh_token"]):
        refused = revoke(server, client, token)
        assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert ping(server, tokens["access_token"]) == 200


def test_revocation_needs_client_authentication(server, client):
    token = server.token(client.client_id, client.secret).json()["access_token"]
    unauthenticated = requests.post(f"{server.url}/oauth/revoke", data={"token": token})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
    wrong = requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, "wrong"), data={"token": token})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert ping(server, token) == 200
    missing = requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret), data={})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def resource_server(env):
    """A confidential client the operator granted introspection of every client's tokens (RFC 7662 2.1)."""
    return make_client(env, name="resource server", introspection=True)


def test_introspection_describes_an_active_access_token(server, env, code_tokens):
    app, user, tokens = code_tokens
    body = introspect(server, resource_server(env), tokens["access_token"]).json()
    assert body["active"] is True and body["client_id"] == app.client_id and body["sub"] == user.id
    assert body["scope"] == "orders:read" and body["token_type"] == "Bearer"
    assert body["exp"] > body["iat"]


def test_a_client_introspects_its_own_tokens_without_any_grant_of_the_right(server, env, code_tokens):
    app, _, tokens = code_tokens
    for token, kind in ((tokens["access_token"], "Bearer"), (tokens["refresh_token"], "refresh_token")):
        body = introspect(server, app, token).json()
        assert body["active"] is True and body["client_id"] == app.client_id and body["token_type"] == kind


def test_another_client_sees_every_token_it_does_not_own_as_inactive(server, env, code_tokens):
    """RFC 7662 2.1 ("the authorization server MUST ... determine whether or not the token is a token the
    protected resource is allowed to introspect") and 4: any confidential client, even one a signed-in user made
    for themselves, learns nothing of another client's tokens: exactly ``{"active": false}``."""
    app, _, tokens = code_tokens
    stranger = make_client(env, name="anyone's client")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = introspect(server, stranger, token)
        assert answer.status_code == 200 and answer.json() == {"active": False}
        assert introspect(server, app, token).json()["active"] is True  # still live: nothing was touched


def test_after_a_client_is_revoked_its_tokens_are_inactive_even_to_a_resource_server(server, env, code_tokens):
    """``passport client revoke`` ends the client: its access and refresh tokens are no longer active anywhere."""
    from passport.storage.repositories import DynamoClientStore

    app, _, tokens = code_tokens
    trusted = resource_server(env)
    assert introspect(server, trusted, tokens["refresh_token"]).json()["active"] is True
    assert DynamoClientStore().revoke(app.client_id)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(server, trusted, token).json() == {"active": False}


def test_introspection_describes_an_active_refresh_token(server, env, code_tokens):
    app, user, tokens = code_tokens
    body = introspect(server, app, tokens["refresh_token"]).json()
    assert body["active"] is True and body["client_id"] == app.client_id and body["sub"] == user.id


def test_anything_not_active_is_exactly_active_false(server, env, client, code_tokens):
    app, _, tokens = code_tokens
    rotated = tokens["refresh_token"]
    requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret),
                  data={"grant_type": "refresh_token", "refresh_token": rotated})
    revoked = server.token(client.client_id, client.secret).json()["access_token"]
    revoke(server, client, revoked)
    for token in (rotated, revoked, "nonsense", "a.b.c", tokens["access_token"][:-5] + "AAAAA"):
        answer = introspect(server, client, token)
        assert answer.status_code == 200 and answer.json() == {"active": False}, token


def test_introspection_needs_a_confidential_client(server, env, client):
    token = server.token(client.client_id, client.secret).json()["access_token"]
    assert requests.post(f"{server.url}/oauth/introspect", data={"token": token}).status_code == 401
    public = make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,), public=True)
    answer = requests.post(f"{server.url}/oauth/introspect", data={"token": token, "client_id": public.client_id})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_replayed_code_makes_the_first_access_token_inactive_at_introspection(server, env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    user = create_user(DynamoUserStore(), email=f"r{uuid.uuid4().hex[:8]}@example.com", name="R", password=PASSWORD)
    app = make_client(env, grant_types=("authorization_code",), redirect_uris=(REDIRECT,), first_party=True)
    browser = Browser(server.url)
    browser.login(user.email, PASSWORD)
    answer = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT, state="s")
    code = query_of(answer.headers["Location"])["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data=exchange).json()
    assert introspect(server, app, first["access_token"]).json()["active"] is True
    requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data=exchange)
    assert introspect(server, app, first["access_token"]).json() == {"active": False}


def test_the_operator_grants_and_withdraws_the_right_to_introspect_with_the_cli(server, env, code_tokens, capsys):
    """``passport client create --introspection`` makes a resource server that introspects every client's tokens;
    ``update --no-introspection`` takes the right back; a public client can never hold it."""
    import json

    from passport.cli import main

    _, _, tokens = code_tokens
    assert main(["client", "create", "--name", "orders api", "--client", "--introspection", "--json", "--aws"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["introspection"] is True
    caller = RegisteredClient(made["client_id"], made["client_secret"], made)
    assert introspect(server, caller, tokens["access_token"]).json()["active"] is True
    assert main(["client", "update", made["client_id"], "--no-introspection", "--json", "--aws"]) == 0
    assert json.loads(capsys.readouterr().out)["introspection"] is False
    assert introspect(server, caller, tokens["access_token"]).json() == {"active": False}
    assert main(["client", "create", "--name", "spa", "--public", "--redirect-uri", REDIRECT, "--introspection",
                 "--aws"]) == 1
    assert "cannot introspect" in capsys.readouterr().err
