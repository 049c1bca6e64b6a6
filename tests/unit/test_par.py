"""Pushed authorization requests (RFC 9126) without I/O: the endpoint (2: authentication as at the token endpoint,
the authorization endpoint's rules, 2.2's answer, 2.3's errors) and what the authorization endpoint does with a
request_uri (4), over the in-memory stores of tests/unit/fakes.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from passport.core import par
from passport.core.authorization import PageError, RedirectError, validate
from passport.core.hashing import hash_secret
from passport.core.http import Headers, Request
from passport.core.models import Client
from passport.core.par import (
    DECISION_SECONDS,
    REQUEST_URI_PREFIX,
    PushedAuthorizationEndpoint,
    PushedAuthorizations,
)
from passport.core.scopes import ScopePolicy

from tests.unit.fakes import FixedClock, MemoryClientStore, MemoryPushedRequests, basic, form_request

REDIRECT = "https://app.example.com/cb"
SECRET = "s3cret-of-the-app"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
APP = Client(client_id="app", name="App", secret_hash=hash_secret(SECRET), redirect_uris=(REDIRECT,),
             grant_types=("authorization_code",), scopes=("orders:read",))
CLI = Client(client_id="cli", name="CLI", redirect_uris=("http://127.0.0.1/cb",), grant_types=("authorization_code",))
POLICY = ScopePolicy({"orders:read": "Read your orders", "orders:write": "Change your orders"})
LIFETIME = 60
REQUEST = {"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read", "state": "st",
           "code_challenge": CHALLENGE, "code_challenge_method": "S256"}


@pytest.fixture
def stored() -> MemoryPushedRequests:
    return MemoryPushedRequests()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def endpoint(stored, clock) -> PushedAuthorizationEndpoint:
    return PushedAuthorizationEndpoint(clients=MemoryClientStore(APP, CLI), requests=stored, clock=clock,
                                       scopes=POLICY, response_types=("code",), lifetime=LIFETIME)


def push(endpoint, form=None, *, auth: tuple[str, str] | None = ("app", SECRET)):
    headers = {"Authorization": basic(*auth)} if auth else {}
    response = endpoint.handle(form_request(dict(REQUEST if form is None else form), headers=headers))
    return response, json.loads(response.body) if response.body else {}


def pages(stored, clock, **options) -> PushedAuthorizations:
    return PushedAuthorizations(stored, clock, **options)


def authorize(pushed: PushedAuthorizations, clients=(APP, CLI), **query: str):
    return validate({k: [v] for k, v in query.items()}, clients=MemoryClientStore(*clients), scopes=POLICY,
                    response_types=("code",), pushed=pushed)


# -- the endpoint (RFC 9126 2) -----------------------------------------------------------------------------------


def test_a_confidential_client_pushes_and_gets_a_single_use_request_uri_that_expires(endpoint, stored, clock):
    response, body = push(endpoint)
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert set(body) == {"request_uri", "expires_in"} and body["expires_in"] == LIFETIME
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    # 7.1: at least 128 random bits, base64url (this server draws 256)
    random_part = body["request_uri"].removeprefix(REQUEST_URI_PREFIX)
    assert len(random_part) >= 43 and set(random_part) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    (record,) = stored.items.values()
    assert record.uri_hash == hash_secret(body["request_uri"])  # never the request_uri itself
    assert record.client_id == "app" and record.pushed_at == clock.now()
    assert record.expires_at == clock.now() + LIFETIME and not record.used
    # The parameters as pushed, client_id added (Basic carried it), the credentials never kept.
    assert record.params == {**{k: [v] for k, v in REQUEST.items()}, "client_id": ["app"]}
    assert SECRET not in json.dumps(record.params) and body["request_uri"] not in json.dumps(stored.items, default=str)


def test_two_pushes_get_two_request_uris(endpoint, stored):
    first, second = push(endpoint)[1], push(endpoint)[1]
    assert first["request_uri"] != second["request_uri"] and len(stored.items) == 2


def test_client_secret_post_is_kept_out_of_the_stored_parameters(endpoint, stored):
    response, _ = push(endpoint, {**REQUEST, "client_id": "app", "client_secret": SECRET}, auth=None)
    assert response.status == 201
    (record,) = stored.items.values()
    assert "client_secret" not in record.params and record.params["client_id"] == ["app"]


def test_a_public_client_pushes_with_its_client_id_alone(endpoint, stored):
    form = {**REQUEST, "client_id": "cli", "redirect_uri": "http://127.0.0.1/cb", "scope": ""}
    response, body = push(endpoint, form, auth=None)
    assert response.status == 201, body
    assert next(iter(stored.items.values())).client_id == "cli"


def test_a_wrong_secret_is_invalid_client_with_the_basic_challenge(endpoint, stored):
    response, body = push(endpoint, auth=("app", "wrong"))
    assert response.status == 401 and body["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert stored.items == {}


def test_an_unknown_client_and_no_client_at_all_are_invalid_client(endpoint, stored):
    assert push(endpoint, auth=("nobody", SECRET))[0].status == 401
    response, body = push(endpoint, auth=None)  # no client_id anywhere
    assert response.status == 401 and body["error"] == "invalid_client" and stored.items == {}


def test_a_confidential_client_without_its_secret_is_invalid_client(endpoint):
    response, body = push(endpoint, {**REQUEST, "client_id": "app"}, auth=None)
    assert response.status == 401 and body["error"] == "invalid_client"


def test_a_client_id_other_than_the_authenticated_clients_is_refused(endpoint, stored):
    response, body = push(endpoint, {**REQUEST, "client_id": "cli"})
    assert response.status == 400 and body["error"] == "invalid_request" and stored.items == {}


def test_request_uri_in_the_pushed_form_is_refused(endpoint, stored):
    """2.1: "reject the request if the request_uri authorization request parameter is provided"."""
    response, body = push(endpoint, {**REQUEST, "request_uri": REQUEST_URI_PREFIX + "x" * 43})
    assert response.status == 400 and body["error"] == "invalid_request" and "request_uri" in body["error_description"]
    assert stored.items == {}


def test_an_unregistered_redirect_uri_is_invalid_request_where_the_authorization_endpoint_shows_a_page(endpoint):
    """2.3: where RFC 6749 4.1.2.1 forbids a redirect and names no code, invalid_request."""
    response, body = push(endpoint, {**REQUEST, "redirect_uri": "https://evil.example/cb"})
    assert response.status == 400 and body["error"] == "invalid_request"
    assert "redirect_uri" in body["error_description"]


@pytest.mark.parametrize(("change", "error"), [
    ({"scope": "orders:write"}, "invalid_scope"),  # not among the client's scopes
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"resource": "https://elsewhere.example/api"}, "invalid_target"),
], ids=["scope", "response_type", "no_response_type", "response_mode", "prompt", "plain_pkce", "resource"])
def test_the_pushed_request_is_held_to_the_authorization_endpoints_rules(endpoint, stored, change, error):
    """2.1 point 3: validated as the authorization endpoint validates; the code it would send the redirect URI
    comes back as JSON, 400 (2.3)."""
    form = {k: v for k, v in {**REQUEST, **change}.items() if v is not None}
    response, body = push(endpoint, form)
    assert (response.status, body["error"]) == (400, error), body
    assert stored.items == {}


def test_a_public_client_must_push_a_pkce_challenge(endpoint):
    form = {"response_type": "code", "client_id": "cli", "redirect_uri": "http://127.0.0.1/cb"}
    response, body = push(endpoint, form, auth=None)
    assert (response.status, body["error"]) == (400, "invalid_request")
    assert "code_challenge" in body["error_description"]


def test_a_client_without_the_code_grant_is_unauthorized_client(stored, clock):
    machine = Client(client_id="m2m", name="M2M", secret_hash=hash_secret(SECRET), redirect_uris=(REDIRECT,),
                     grant_types=("client_credentials",))
    endpoint = PushedAuthorizationEndpoint(clients=MemoryClientStore(machine), requests=stored, clock=clock,
                                           scopes=POLICY, response_types=("code",))
    response, body = push(endpoint, auth=("m2m", SECRET))
    assert response.status == 400 and body["error"] == "unauthorized_client"


def test_a_repeated_parameter_is_invalid_request(endpoint):
    response = endpoint.handle(form_request([*REQUEST.items(), ("scope", "orders:read")],
                                            headers={"Authorization": basic("app", SECRET)}))
    assert response.status == 400 and json.loads(response.body)["error"] == "invalid_request"


def test_a_form_with_too_many_parameters_is_refused_before_authentication(endpoint):
    form = [*REQUEST.items(), *((f"x{i}", "1") for i in range(par.MAX_PARAMETERS))]
    response = endpoint.handle(form_request(form, headers={"Authorization": basic("app", SECRET)}))
    assert response.status == 400 and json.loads(response.body)["error"] == "invalid_request"


def test_a_body_that_is_not_a_form_is_invalid_request(endpoint):
    response = endpoint.handle(form_request(b'{"response_type": "code"}', content_type="application/json",
                                            headers={"Authorization": basic("app", SECRET)}))
    assert response.status == 400 and json.loads(response.body)["error"] == "invalid_request"


def test_a_method_other_than_post_is_405(endpoint):
    response = endpoint.handle(Request("GET", "/oauth/par", Headers({})))
    assert response.status == 405 and response.headers["Allow"] == "POST"


def test_assertions_are_handed_to_client_authentication_when_it_takes_them(monkeypatch, stored, clock):
    """The endpoint authenticates as the token endpoint does, private_key_jwt included (RFC 7523 2.2)."""
    seen = {}

    def authenticate_client(credentials, clients, assertions=None):
        seen["assertions"] = assertions
        return APP

    monkeypatch.setattr(par, "authenticate_client", authenticate_client)
    checker = object()
    endpoint = PushedAuthorizationEndpoint(clients=MemoryClientStore(APP), requests=stored, clock=clock,
                                           scopes=POLICY, response_types=("code",), assertions=checker)
    assert push(endpoint)[0].status == 201 and seen["assertions"] is checker


# -- the authorization endpoint (RFC 9126 4) ---------------------------------------------------------------------


def pushed_uri(endpoint, form=None, auth=("app", SECRET)) -> str:
    response, body = push(endpoint, form, auth=auth)
    assert response.status == 201, body
    return body["request_uri"]


def test_the_authorization_request_uses_the_pushed_parameters_only(endpoint, stored, clock):
    uri = pushed_uri(endpoint)
    auth = authorize(pages(stored, clock), client_id="app", request_uri=uri,
                     scope="orders:write", state="from-the-query", redirect_uri="https://evil.example/cb")
    assert auth.scopes == ("orders:read",) and auth.state == "st" and auth.redirect_uri == REDIRECT
    assert auth.challenge == CHALLENGE and auth.request_uri == uri and auth.pushed_at == clock.now()
    # What the browser carries onwards: the reference, never the parameters.
    assert auth.params == {"client_id": "app", "request_uri": uri}


def test_the_first_use_gives_the_user_time_to_sign_in_and_decide(endpoint, stored, clock):
    uri = pushed_uri(endpoint)
    clock.current += LIFETIME - 1
    authorize(pages(stored, clock), client_id="app", request_uri=uri)
    clock.current += DECISION_SECONDS - 1  # long past expires_in, within the decision's time
    assert authorize(pages(stored, clock), client_id="app", request_uri=uri).request_uri == uri
    clock.current += 1
    with pytest.raises(PageError):
        authorize(pages(stored, clock), client_id="app", request_uri=uri)


def test_an_expired_request_uri_is_an_error_page(endpoint, stored, clock):
    """4: "An expired request_uri MUST be rejected as invalid"; never a redirect to a URI nobody vouches for."""
    uri = pushed_uri(endpoint)
    clock.current += LIFETIME
    with pytest.raises(PageError) as caught:
        authorize(pages(stored, clock), client_id="app", request_uri=uri)
    assert "invalid_request_uri" in caught.value.message


def test_another_clients_request_uri_is_an_error_page(endpoint, stored, clock):
    uri = pushed_uri(endpoint)
    with pytest.raises(PageError):
        authorize(pages(stored, clock), client_id="cli", request_uri=uri)
    assert not next(iter(stored.items.values())).started_at  # nothing started for the wrong client


@pytest.mark.parametrize("request_uri", [REQUEST_URI_PREFIX + "unknown", REQUEST_URI_PREFIX + "x" * 200],
                         ids=["unknown", "too_long"])
def test_an_unknown_request_uri_is_an_error_page(stored, clock, request_uri):
    with pytest.raises(PageError):
        authorize(pages(stored, clock), client_id="app", request_uri=request_uri)


def test_a_spent_request_uri_is_refused_and_cannot_be_spent_twice(endpoint, stored, clock):
    uri = pushed_uri(endpoint)
    pushed = pages(stored, clock)
    auth = authorize(pushed, client_id="app", request_uri=uri)
    pushed.spend(auth)
    with pytest.raises(PageError):
        pushed.spend(auth)  # a second decision
    with pytest.raises(PageError):
        authorize(pushed, client_id="app", request_uri=uri)  # a second authorization


def test_a_request_not_pushed_has_nothing_to_spend(stored, clock):
    auth = authorize(pages(stored, clock), client_id="app", **REQUEST)
    assert auth.request_uri is None
    pages(stored, clock).spend(auth)  # no error, nothing stored
    assert stored.items == {}


def test_another_request_uri_is_still_not_supported(stored, clock):
    """OpenID Connect Core 6.2: request_uri pointing at a request object to fetch is not supported."""
    with pytest.raises(RedirectError) as caught:
        authorize(pages(stored, clock), client_id="app", request_uri="https://app.example.com/request.jwt",
                  **REQUEST)
    assert caught.value.error.error == "request_uri_not_supported"


@pytest.mark.parametrize(("client", "options"), [
    (replace(APP, require_par=True), {}),
    (APP, {"required": True}),
    (APP, {"server_profile": "fapi2"}),
    (replace(APP, profile="fapi2"), {}),
], ids=["client_registered_it", "server_requires_it", "server_is_fapi2", "client_is_fapi2"])
def test_where_pushing_is_required_a_plain_request_is_invalid_request_at_the_redirect_uri(stored, clock, client,
                                                                                           options):
    """4: "the authorization server will refuse, using the invalid_request error code, to process any request to
    the authorization endpoint that does not have a request_uri parameter with a value obtained from the PAR
    endpoint"; the redirect URI is the client's, so the client hears of it there (RFC 6749 4.1.2.1)."""
    with pytest.raises(RedirectError) as caught:
        authorize(pages(stored, clock, **options), clients=(client,), client_id="app", **REQUEST)
    assert caught.value.error.error == "invalid_request" and caught.value.request.state == "st"


def test_where_pushing_is_required_a_pushed_request_goes_through(stored, clock):
    client = replace(APP, require_par=True)
    endpoint = PushedAuthorizationEndpoint(clients=MemoryClientStore(client), requests=stored, clock=clock,
                                           scopes=POLICY, response_types=("code",))
    uri = pushed_uri(endpoint)
    auth = authorize(pages(stored, clock), clients=(client,), client_id="app", request_uri=uri)
    assert auth.scopes == ("orders:read",)


def test_where_pushing_is_required_an_unregistered_redirect_uri_is_still_a_page(stored, clock):
    with pytest.raises(PageError):
        authorize(pages(stored, clock, required=True), client_id="app",
                  **{**REQUEST, "redirect_uri": "https://evil.example/cb"})


def test_without_pushed_requests_configured_nothing_is_required_and_a_urn_is_not_supported(endpoint):
    uri = pushed_uri(endpoint)
    with pytest.raises(RedirectError) as caught:
        validate({"client_id": ["app"], "request_uri": [uri], **{k: [v] for k, v in REQUEST.items()}},
                 clients=MemoryClientStore(APP), scopes=POLICY, response_types=("code",))
    assert caught.value.error.error == "request_uri_not_supported"
