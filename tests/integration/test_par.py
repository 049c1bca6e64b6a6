"""Pushed authorization requests (RFC 9126) through the local gateway on DynamoDB Local: the push (2), the
authorization request that names it (4) through sign-in, consent and the code exchange, its single use, expiry and
owner, and the policies that make pushing the only way in (4, 5, 6)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms, pkce_pair, query_of
from tests.integration.conftest import PASSWORD, REDIRECT

PAR_URN = "urn:ietf:params:oauth:request_uri:"


def push(server, client, *, challenge: str | None = None, auth: bool = True, **params: str) -> requests.Response:
    """POST /oauth/par: the authorization request's parameters, the client authenticated with Basic (or, public,
    by its client_id)."""
    form = {"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read", "state": "pushed-state",
            **params}
    if challenge:
        form.update(code_challenge=challenge, code_challenge_method="S256")
    if auth and client.secret:
        return requests.post(f"{server.url}/oauth/par", data=form, auth=(client.client_id, client.secret), timeout=10)
    return requests.post(f"{server.url}/oauth/par", data={**form, "client_id": client.client_id}, timeout=10)


def pushed(server, client, **params: str) -> str:
    answer = push(server, client, **params)
    assert answer.status_code == 201, answer.text
    return answer.json()["request_uri"]


def exchange(server, client, code: str, verifier: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/token", auth=(client.client_id, client.secret), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})


def is_refusal_page(answer: requests.Response) -> bool:
    """An error page (OpenID Connect Core 6.2's invalid_request_uri), never a redirect to the client."""
    return answer.status_code == 400 and "Location" not in answer.headers and "invalid_request_uri" in answer.text


# -- the push (RFC 9126 2) ---------------------------------------------------------------------------------------


def test_the_push_answers_201_with_a_request_uri_and_its_lifetime_never_cached(server, app, env):
    _, challenge = pkce_pair()
    answer = push(server, app, challenge=challenge)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Content-Type"] == "application/json"
    body = answer.json()
    assert set(body) == {"request_uri", "expires_in"} and body["expires_in"] == env.settings.par.lifetime_seconds
    assert body["request_uri"].startswith(PAR_URN) and len(body["request_uri"]) >= len(PAR_URN) + 22


def test_bad_client_authentication_at_the_push_is_401_invalid_client(server, app):
    answer = requests.post(f"{server.url}/oauth/par", auth=(app.client_id, "wrong"), timeout=10,
                           data={"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_request_uri_inside_the_pushed_form_is_400_invalid_request(server, app):
    answer = push(server, app, request_uri=PAR_URN + "x" * 43)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_a_push_that_breaks_the_authorization_endpoints_rules_is_refused_as_json(server, app):
    assert push(server, app, redirect_uri="https://evil.example/cb").json()["error"] == "invalid_request"
    assert push(server, app, scope="orders:write").json()["error"] == "invalid_scope"


# -- the authorization request (RFC 9126 4) ----------------------------------------------------------------------


def test_push_then_authorize_then_exchange_the_code_with_pkce(server, browser, app, user):
    verifier, challenge = pkce_pair()
    request_uri = pushed(server, app, challenge=challenge)
    consent = browser.authorize(client_id=app.client_id, request_uri=request_uri)
    assert consent.status_code == 200, consent.text
    approve, deny = browser.consent_forms(consent)
    # The browser carries the reference only: the parameters stay on the server.
    assert set(approve.fields) == {"client_id", "request_uri", "_token"}
    assert set(deny.fields) == {"client_id", "request_uri", "_token", "_method"}
    assert "You will be sent back to" in consent.text and REDIRECT in consent.text
    answer = browser.submit(approve)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(answer.headers["Location"])
    assert query["state"] == "pushed-state" and query["iss"] == server.url
    tokens = exchange(server, app, query["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    me = requests.get(f"{server.url}/api/user", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
                      timeout=10)
    assert me.status_code == 200 and me.json()["id"] == user.id


def test_a_public_client_pushes_with_its_client_id_and_gets_tokens(server, browser, env):
    cli = make_client(env, name="CLI", grant_types=("authorization_code",), redirect_uris=(REDIRECT,), public=True,
                      first_party=True)
    verifier, challenge = pkce_pair()
    request_uri = pushed(server, cli, challenge=challenge)
    answer = browser.authorize(client_id=cli.client_id, request_uri=request_uri)
    assert answer.status_code == 303, answer.text  # first party: no consent page
    code = query_of(answer.headers["Location"])["code"]
    tokens = requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
        "client_id": cli.client_id})
    assert tokens.status_code == 200, tokens.text


def test_a_request_uri_works_once(server, browser, app):
    _, challenge = pkce_pair()
    request_uri = pushed(server, app, challenge=challenge)
    consent = browser.authorize(client_id=app.client_id, request_uri=request_uri)
    approve, _ = browser.consent_forms(consent)
    assert browser.submit(approve).status_code == 303
    # A second decision, and a second authorization request, with the same request_uri: refused, no redirect.
    assert is_refusal_page(browser.submit(approve))
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=request_uri))


def test_consent_remembered_spends_the_request_uri_at_once(server, browser, app):
    first = pushed(server, app)
    approve, _ = browser.consent_forms(browser.authorize(client_id=app.client_id, request_uri=first))
    assert browser.submit(approve).status_code == 303
    second = pushed(server, app)
    answer = browser.authorize(client_id=app.client_id, request_uri=second)
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["code"]
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=second))


def test_reloading_the_consent_page_before_deciding_still_works(server, browser, app):
    request_uri = pushed(server, app)
    for _ in range(3):
        consent = browser.authorize(client_id=app.client_id, request_uri=request_uri)
        assert consent.status_code == 200, consent.text
    approve, _ = browser.consent_forms(consent)
    assert browser.submit(approve).status_code == 303


def test_a_denial_spends_the_request_uri_too(server, browser, app):
    request_uri = pushed(server, app)
    _, deny = browser.consent_forms(browser.authorize(client_id=app.client_id, request_uri=request_uri))
    answer = browser.submit(deny)
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["error"] == "access_denied"
    assert query_of(answer.headers["Location"])["state"] == "pushed-state"
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=request_uri))


def test_an_expired_request_uri_is_refused(server, browser, app, monkeypatch):
    from passport import compose

    with monkeypatch.context() as earlier:
        # Pushed an hour ago: its expires_in is long past. (The gateway runs in this process.)
        earlier.setattr(compose.SystemClock, "now", lambda self: int(time.time()) - 3600)
        request_uri = pushed(server, app)
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=request_uri))


def test_another_clients_request_uri_is_refused(server, browser, app, env):
    other = make_client(env, name="Other", grant_types=("authorization_code",), redirect_uris=(REDIRECT,))
    request_uri = pushed(server, app)
    assert is_refusal_page(browser.authorize(client_id=other.client_id, request_uri=request_uri))
    # Refused for the other client, it still works for its own.
    assert browser.authorize(client_id=app.client_id, request_uri=request_uri).status_code == 200


def test_an_unknown_request_uri_is_refused(server, browser, app):
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=PAR_URN + "made-up"))


def test_query_parameters_beside_request_uri_are_ignored(server, browser, env):
    wide = make_client(env, name="Wide", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                       scopes=("orders:read", "orders:write"))
    request_uri = pushed(server, wide)
    consent = browser.authorize(client_id=wide.client_id, request_uri=request_uri, scope="orders:write",
                                state="from-the-query", redirect_uri="https://evil.example/cb", prompt="none")
    assert consent.status_code == 200, consent.text  # prompt=none from the query would have been an error
    assert "orders:read" in consent.text and "orders:write" not in consent.text
    approve, _ = browser.consent_forms(consent)
    answer = browser.submit(approve, scope="orders:write", state="from-the-form")
    location = answer.headers["Location"]
    assert answer.status_code == 303 and location.startswith(REDIRECT + "?")
    assert query_of(location)["state"] == "pushed-state"


def test_the_request_uri_survives_the_sign_in_page(server, app, user):
    verifier, challenge = pkce_pair()
    request_uri = pushed(server, app, challenge=challenge)
    b = Browser(server.url)
    first = b.authorize(client_id=app.client_id, request_uri=request_uri)
    assert first.status_code == 303 and first.headers["Location"].startswith("/login?next=")
    resume = query_of(first.headers["Location"])["next"]
    assert query_of(resume) == {"client_id": app.client_id, "request_uri": request_uri}
    page = b.get(first.headers["Location"])
    login_form = next(f for f in forms(page.text) if f.action == "/login")
    signed_in = b.submit(login_form, email=user.email, password=PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == resume
    consent = b.get(resume)
    approve, _ = b.consent_forms(consent)
    answer = b.submit(approve)
    assert exchange(server, app, query_of(answer.headers["Location"])["code"], verifier).status_code == 200


def test_a_pushed_prompt_login_asks_to_sign_in_once_not_forever(server, browser, app, user):
    """OpenID Connect Core 3.1.2.1: the pushed prompt=login cannot be dropped from the way back (RFC 9126 4), so a
    sign-in after the push is the one it asked for (auth_time has whole seconds: a sign-in within the second of
    the push may have come before it, and is asked again)."""
    request_uri = pushed(server, app, prompt="login")
    first = browser.authorize(client_id=app.client_id, request_uri=request_uri)
    assert first.status_code == 303 and first.headers["Location"].startswith("/login?")  # signed in before: again
    resume = query_of(first.headers["Location"])["next"]
    time.sleep(max(0.0, int(time.time()) + 1.05 - time.time()))  # the sign-in comes a second after the push
    page = browser.get(first.headers["Location"])
    login_form = next(f for f in forms(page.text) if f.action == "/login")
    signed_in = browser.submit(login_form, email=user.email, password=PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == resume
    assert browser.get(resume).status_code == 200  # the consent page, not the sign-in page again


def test_a_pushed_prompt_none_without_consent_sends_the_error_and_spends_the_request(server, browser, app):
    request_uri = pushed(server, app, prompt="none")
    answer = browser.authorize(client_id=app.client_id, request_uri=request_uri)
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["error"] == "consent_required"
    assert is_refusal_page(browser.authorize(client_id=app.client_id, request_uri=request_uri))


def test_an_https_request_uri_is_still_not_supported(server, browser, app):
    answer = browser.authorize(client_id=app.client_id, request_uri="https://app.example.com/request.jwt",
                               response_type="code", redirect_uri=REDIRECT, state="s")
    assert answer.status_code == 303 and query_of(answer.headers["Location"])["error"] == "request_uri_not_supported"


# -- pushing required (RFC 9126 4, 5, 6) -------------------------------------------------------------------------


def strict_client(env, **options):
    """A code-flow client that registered require_pushed_authorization_requests (RFC 9126 6)."""
    from dataclasses import replace

    from passport import compose
    from passport.core.clients import new_client
    from passport.storage.repositories import DynamoClientStore

    made = new_client(name="Strict", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                      defined_scopes=env.settings.scopes, **options)
    compose.bind_storage()
    DynamoClientStore().create(replace(made.client, require_par=True))
    return type("Strict", (), {"client_id": made.client.client_id, "secret": made.secret})()


def plain_request(browser: Browser, client) -> requests.Response:
    _, challenge = pkce_pair()
    return browser.authorize(response_type="code", client_id=client.client_id, redirect_uri=REDIRECT,
                             scope="orders:read", state="plain", code_challenge=challenge,
                             code_challenge_method="S256")


def test_a_client_that_requires_par_refuses_a_plain_request_with_invalid_request(server, browser, env):
    strict = strict_client(env)
    answer = plain_request(browser, strict)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(REDIRECT + "?")
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "plain" and query["iss"] == server.url
    assert browser.authorize(client_id=strict.client_id, request_uri=pushed(server, strict)).status_code == 200


def test_a_server_with_par_required_refuses_plain_requests_and_says_so(server, browser, app, env):
    env.reconfigure(PASSPORT_PAR_REQUIRED="true")
    query = query_of(plain_request(browser, app).headers["Location"])
    assert query["error"] == "invalid_request"
    assert browser.authorize(client_id=app.client_id, request_uri=pushed(server, app)).status_code == 200
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["require_pushed_authorization_requests"] is True


def test_metadata_names_the_endpoint_and_does_not_require_it_by_default(server):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        metadata = requests.get(f"{server.url}{path}", timeout=10).json()
        assert metadata["pushed_authorization_request_endpoint"] == f"{server.url}/oauth/par"
        assert metadata["require_pushed_authorization_requests"] is False


def test_a_registered_client_may_require_par_and_is_held_to_it(server, browser):
    """RFC 9126 6: require_pushed_authorization_requests in dynamic registration (RFC 7591), echoed back."""
    metadata = {"client_name": "agent", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                "require_pushed_authorization_requests": True}
    answer = requests.post(f"{server.url}/oauth/register", json=metadata, timeout=10)
    assert answer.status_code == 201, answer.text
    registered = answer.json()
    assert registered["require_pushed_authorization_requests"] is True
    client = type("Registered", (), {"client_id": registered["client_id"], "secret": None})()
    assert query_of(plain_request(browser, client).headers["Location"])["error"] == "invalid_request"
    _, challenge = pkce_pair()
    assert browser.authorize(client_id=client.client_id,
                             request_uri=pushed(server, client, challenge=challenge)).status_code == 200
    wrong = requests.post(f"{server.url}/oauth/register", timeout=10,
                          json={**metadata, "require_pushed_authorization_requests": "yes"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client_metadata"


def test_the_cli_makes_shows_and_changes_a_client_that_requires_par(server, capsys):
    from passport.cli import main

    assert main(["client", "create", "--name", "Strict", "--grant", "authorization_code", "--redirect-uri", REDIRECT,
                 "--require-par", "--json", "--aws"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["require_par"] is True
    assert main(["client", "show", made["client_id"], "--aws"]) == 0
    assert "pushed authorization requests only" in capsys.readouterr().out
    browser = Browser(server.url)
    assert query_of(plain_request(browser, type("C", (), made)()).headers["Location"])["error"] == "invalid_request"
    assert main(["client", "update", made["client_id"], "--no-require-par", "--json", "--aws"]) == 0
    assert json.loads(capsys.readouterr().out)["require_par"] is False
    assert main(["client", "show", made["client_id"], "--json", "--aws"]) == 0
    assert json.loads(capsys.readouterr().out)["require_par"] is False


def test_the_push_is_readable_cross_origin_by_the_clients_own_origin(server, app):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(REDIRECT))
    answer = requests.post(f"{server.url}/oauth/par", auth=(app.client_id, app.secret), timeout=10,
                           headers={"Origin": origin}, data={"response_type": "code", "redirect_uri": REDIRECT,
                                                             "scope": "orders:read"})
    assert answer.status_code == 201 and answer.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_push_is_post_only(server, method):
    assert requests.request(method, f"{server.url}/oauth/par", timeout=10).status_code in (403, 404, 405)


def test_a_private_key_jwt_client_pushes_with_a_signed_assertion_used_once(server, browser, env):
    """RFC 9126 2: the push authenticates every way the token endpoint does, private_key_jwt included (RFC 7523
    2.2; the aud may be the issuer, the token endpoint or the PAR endpoint, RFC 9126 2); the assertion is spent
    (RFC 7523 3 point 7) and never stored with the pushed parameters."""
    import uuid

    import jwt
    from passport.core.clients import validate_client_keys
    from passport.keys.material import generate, public_jwk_members

    key = generate("ES256")
    signer = make_client(env, name="Signer", grant_types=("authorization_code",), redirect_uris=(REDIRECT,),
                         scopes=("orders:read",),
                         keys=validate_client_keys({"keys": [{**public_jwk_members(key.public_key()), "kid": "k1"}]}))
    now = int(time.time())
    signed = jwt.encode({"iss": signer.client_id, "sub": signer.client_id, "aud": f"{server.url}/oauth/par",
                         "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}, key, algorithm="ES256",
                        headers={"kid": "k1"})
    form = {"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read", "state": "signed",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed}
    answer = requests.post(f"{server.url}/oauth/par", data=form, timeout=10)
    assert answer.status_code == 201, answer.text
    consent = browser.authorize(client_id=signer.client_id, request_uri=answer.json()["request_uri"])
    assert consent.status_code == 200 and signed not in consent.text
    replayed = requests.post(f"{server.url}/oauth/par", data=form, timeout=10)
    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_client"
