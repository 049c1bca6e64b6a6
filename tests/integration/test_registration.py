"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592) through the local gateway: the
three policies, every client metadata rule, the rate limit, the consent page of a client that registered itself,
the CLI over registered clients, and read, replace and delete at the registration client URI."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from urllib.parse import urlencode

import pytest
import requests

from tests.integration.browser import Browser, forms, pkce_pair, query_of
from tests.integration.conftest import REDIRECT

# Open registration (as the shipped passport.toml); no guard caches, so revocations show at the guard at once.
GUARD = "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
OPEN = '[registration]\npolicy = "open"\n' + GUARD
INITIAL_TOKEN = "initial-access-token-for-the-tests"
TOKEN_POLICY = ('[registration]\npolicy = "token"\ninitial_access_token_sha256 = "'
                + hashlib.sha256(INITIAL_TOKEN.encode()).hexdigest() + '"\n' + GUARD)

CLOSED = '[registration]\npolicy = "closed"\n' + GUARD

pytestmark = pytest.mark.passport_config(OPEN)

LOOPBACK = "http://127.0.0.1:7777/callback"
HTTPS = "https://agent.example.com/callback"
#: What an MCP client sends on first contact: a public client of the code flow with PKCE.
PUBLIC = {
    "redirect_uris": [LOOPBACK],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "client_name": "Agent",
    "client_uri": "https://agent.example.com",
    "logo_uri": "https://agent.example.com/logo.png",
    "scope": "orders:read",
}
#: A confidential client that only uses client credentials (policy "token" only).
MACHINE = {
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["client_credentials"],
    "client_name": "Nightly job",
    "scope": "orders:read",
}


def register(server, body: object, *, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, dict | list):
        kwargs["json"] = body
    else:
        kwargs["data"] = body
    return requests.post(f"{server.url}/oauth/register", headers=headers, timeout=10, **kwargs)


def registered(server, body: dict | None = None, *, token: str | None = None) -> dict:
    response = register(server, body or PUBLIC, token=token)
    assert response.status_code == 201, response.text
    return response.json()


def manage(method: str, info: dict, token: str | None = "", body: dict | None = None) -> requests.Response:
    """A request at the registration client URI with the registration access token (``token`` "": the client's
    own; None: none at all)."""
    token = info["registration_access_token"] if token == "" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, info["registration_client_uri"], headers=headers, json=body, timeout=10)


def authorize(browser: Browser, client_id: str, redirect_uri: str, *, challenge: str, scope: str = "orders:read",
              state: str = "st-1") -> requests.Response:
    return browser.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
    }))


def code_flow(server, browser: Browser, client_id: str, redirect_uri: str = LOOPBACK) -> dict:
    """The code flow of a public client with PKCE (RFC 7636): consent, then the token response."""
    verifier, challenge = pkce_pair()
    consent = authorize(browser, client_id, redirect_uri, challenge=challenge)
    if consent.status_code == 200:
        approve, _ = browser.consent_forms(consent)
        consent = browser.submit(approve)
    assert consent.status_code == 303 and consent.headers["Location"].startswith(redirect_uri + "?"), consent.text
    query = query_of(consent.headers["Location"])
    assert query["state"] == "st-1" and query["iss"] == server.url
    tokens = requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"], "redirect_uri": redirect_uri,
        "code_verifier": verifier, "client_id": client_id,
    })
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def orders(server, access_token: str) -> requests.Response:
    return requests.get(f"{server.url}/api/orders", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def assert_error(response: requests.Response, status: int, error: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and isinstance(body.get("error_description"), str), body
    assert response.headers.get("Cache-Control") == "no-store"
    return body


def assert_advertised(server, listed: bool) -> None:
    """RFC 8414 2 and OpenID Connect Discovery 1.0 3: registration_endpoint in both documents, or in neither."""
    for document in ("oauth-authorization-server", "openid-configuration"):
        metadata = requests.get(f"{server.url}/.well-known/{document}", timeout=10).json()
        if listed:
            assert metadata["registration_endpoint"] == f"{server.url}/oauth/register", document
        else:
            assert "registration_endpoint" not in metadata, document


# -- RFC 7591: the policies ---------------------------------------------------------------------------------------


def test_open_registration_answers_every_client_information_member_and_no_secret(server):
    """RFC 7591 3.2.1: 201 with client_id, client_id_issued_at, the registered metadata, and (RFC 7592 3) a
    registration_access_token and registration_client_uri; a public client gets no client_secret. Never cached."""
    before = int(time.time())
    response = register(server, {**PUBLIC, "client_name": "  Agent  "})
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    info = response.json()
    client_id = info["client_id"]
    assert isinstance(client_id, str) and client_id
    assert before - 1 <= info["client_id_issued_at"] <= int(time.time()) + 1
    assert len(info["registration_access_token"]) >= 43
    assert info["registration_client_uri"] == f"{server.url}/oauth/register/{client_id}"
    assert "client_secret" not in info and "client_secret_expires_at" not in info
    assert info["redirect_uris"] == [LOOPBACK]
    assert info["token_endpoint_auth_method"] == "none"
    assert info["grant_types"] == ["authorization_code", "refresh_token"]
    assert info["response_types"] == ["code"]
    assert info["client_name"] == "Agent"
    assert info["client_uri"] == PUBLIC["client_uri"] and info["logo_uri"] == PUBLIC["logo_uri"]
    assert info["scope"] == "orders:read"
    second = registered(server)
    assert second["client_id"] != client_id
    assert second["registration_access_token"] != info["registration_access_token"]
    assert_advertised(server, True)  # RFC 8414 2: an open policy lists the endpoint


def test_an_openly_registered_public_client_completes_the_code_flow_with_pkce(server, browser, user):
    """RFC 7591 3 then RFC 6749 4.1 with RFC 7636 (PKCE required of it): what an MCP client does after registering
    itself."""
    info = registered(server)
    tokens = code_flow(server, browser, info["client_id"])
    assert tokens["scope"] == "orders:read" and tokens["refresh_token"]
    answer = orders(server, tokens["access_token"])
    assert answer.status_code == 200 and answer.json()["client_id"] == info["client_id"]
    # RFC 7636 / RFC 9700 2.1.1: without a code_challenge it is refused at its redirect URI
    without_pkce = browser.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": info["client_id"], "redirect_uri": LOOPBACK, "scope": "orders:read",
        "state": "st-1"}))
    assert without_pkce.status_code == 303
    assert query_of(without_pkce.headers["Location"])["error"] == "invalid_request"


@pytest.mark.passport_config(TOKEN_POLICY)
def test_token_policy_registers_a_confidential_client_that_gets_a_client_credentials_token(server):
    """RFC 7591 3 (initial access token) and 3.2.1: a client_secret, with client_secret_expires_at 0 (it does not
    expire); the client then authenticates with it (RFC 6749 4.4); a read (RFC 7592 2.1) shows no secret."""
    response = register(server, MACHINE, token=INITIAL_TOKEN)
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    info = response.json()
    assert len(info["client_secret"]) >= 43 and info["client_secret_expires_at"] == 0
    assert info["token_endpoint_auth_method"] == "client_secret_basic"
    assert info["grant_types"] == ["client_credentials"] and info["response_types"] == []
    assert "redirect_uris" not in info or info["redirect_uris"] == []
    token = server.token(info["client_id"], info["client_secret"], scope="orders:read")
    assert token.status_code == 200, token.text
    assert orders(server, token.json()["access_token"]).status_code == 200
    assert server.token(info["client_id"], "wrong").status_code == 401
    # RFC 7592 3: the secret is shown once; a read tells only that it does not expire
    read = manage("GET", info).json()
    assert "client_secret" not in read and read["client_secret_expires_at"] == 0
    assert read["token_endpoint_auth_method"] == "client_secret_basic"
    assert_advertised(server, True)  # RFC 8414 2: a token policy lists the endpoint


@pytest.mark.passport_config(TOKEN_POLICY)
def test_token_policy_refuses_a_missing_or_wrong_initial_access_token(server):
    """RFC 7591 3: the initial access token is a Bearer token (RFC 6750): none or a wrong one is 401 with a
    Bearer challenge, and nothing is registered."""
    missing = register(server, MACHINE)
    assert_error(missing, 401, "invalid_token")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = register(server, MACHINE, token=INITIAL_TOKEN + "x")
    assert_error(wrong, 401, "invalid_token")
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer") and 'error="invalid_token"' in \
        wrong.headers["WWW-Authenticate"]
    basic = requests.post(f"{server.url}/oauth/register", json=MACHINE, auth=("x", INITIAL_TOKEN), timeout=10)
    assert_error(basic, 401, "invalid_token")
    assert basic.headers["WWW-Authenticate"].startswith("Bearer")
    # the token policy takes public clients as well, with the token
    assert registered(server, PUBLIC, token=INITIAL_TOKEN)["token_endpoint_auth_method"] == "none"


@pytest.mark.passport_config(CLOSED)
def test_closed_registration_is_access_denied_and_not_advertised(server):
    """RFC 7591 3.2.2 / RFC 8414 2: a closed server refuses with 403 access_denied (with or without a token), and
    neither metadata document has a registration_endpoint."""
    assert_error(register(server, PUBLIC), 403, "access_denied")
    assert_error(register(server, MACHINE, token=INITIAL_TOKEN), 403, "access_denied")
    assert_advertised(server, False)


# -- RFC 7591 2 and 3.2.2: client metadata refused -----------------------------------------------------------------


def refused(server, cases: dict[str, tuple[dict, str]]) -> None:
    """Each case (a change to PUBLIC, the error it must get) is refused with that error, and registers nothing."""
    failures = []
    for label, (change, error) in cases.items():
        body = {k: v for k, v in {**PUBLIC, **change}.items() if v is not None}
        response = register(server, body)
        if response.status_code != 400 or response.json().get("error") != error:
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        else:
            assert_error(response, 400, error)
    assert not failures, "\n".join(failures)


def test_redirect_uris_must_be_https_loopback_or_private_use_absolute_without_fragment_or_userinfo(server):
    """RFC 7591 2 / 3.2.2 invalid_redirect_uri; RFC 6749 3.1.2 (absolute, no fragment); RFC 8252 7.3 (http only
    on loopback) and 7.1 (a private-use scheme, for a native app: OpenID Connect Dynamic Client Registration 1.0
    section 2's application_type); RFC 9700 2.1 / 4.1 (no open redirectors, no credentials in the URI). The
    rules of every client, however made (core/clients.py)."""
    def uris(*values: str) -> dict:
        return {"redirect_uris": list(values)}

    refused(server, {
        "http on a public host": (uris("http://agent.example.com/callback"), "invalid_redirect_uri"),
        "http on a look-alike host": (uris("http://127.0.0.1.evil.example/cb"), "invalid_redirect_uri"),
        "fragment": (uris("https://agent.example.com/callback#frag"), "invalid_redirect_uri"),
        "empty fragment": (uris("https://agent.example.com/callback#"), "invalid_redirect_uri"),
        "userinfo": (uris("https://user:pass@agent.example.com/callback"), "invalid_redirect_uri"),
        "user only": (uris("https://user@agent.example.com/callback"), "invalid_redirect_uri"),
        "relative": (uris("/callback"), "invalid_redirect_uri"),
        "scheme-relative": (uris("//agent.example.com/callback"), "invalid_redirect_uri"),
        "javascript": (uris("javascript:alert(document.cookie)"), "invalid_redirect_uri"),
        "data": (uris("data:text/html,<script>alert(1)</script>"), "invalid_redirect_uri"),
        "a private-use scheme for a web application": (uris("agent:/callback"), "invalid_redirect_uri"),
        "about: for a native app": ({**uris("about:blank"), "application_type": "native"}, "invalid_redirect_uri"),
        "a fragment for a native app": ({**uris("cursor://anysphere.cursor-retrieval/oauth/callback#x"),
                                         "application_type": "native"}, "invalid_redirect_uri"),
        "file": (uris("file:///etc/passwd"), "invalid_redirect_uri"),
        "port 0": (uris("http://127.0.0.1:0/callback"), "invalid_redirect_uri"),
        "userinfo before a loopback address": (uris("http://evil@127.0.0.1/callback"), "invalid_redirect_uri"),
        "https without a host": (uris("https:///callback"), "invalid_redirect_uri"),
        "a space": (uris("https://agent.example.com/call back"), "invalid_redirect_uri"),
        "one good, one bad": (uris(HTTPS, "http://agent.example.com/cb"), "invalid_redirect_uri"),
        "missing for the code flow": ({"redirect_uris": None}, "invalid_redirect_uri"),
        "empty for the code flow": (uris(), "invalid_redirect_uri"),
        "more than ten": (uris(*(f"https://agent.example.com/cb/{i}" for i in range(11))), "invalid_redirect_uri"),
        "not a list": ({"redirect_uris": HTTPS}, "invalid_client_metadata"),
        "not strings": ({"redirect_uris": [1]}, "invalid_client_metadata"),
    })
    accepted = registered(server, {**PUBLIC, "application_type": "native", "redirect_uris": [
        "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb?x=1", "http://[::1]:8080/cb", "http://localhost:3000/cb",
        "com.example.agent:/callback", "cursor://anysphere.cursor-retrieval/oauth/callback", HTTPS,
        *(f"https://agent.example.com/cb/{i}" for i in range(3))]})
    assert len(accepted["redirect_uris"]) == 10 and accepted["application_type"] == "native"


def test_token_endpoint_auth_methods_other_than_none_basic_post_and_private_key_jwt_are_refused(server):
    """RFC 7591 2 token_endpoint_auth_method: this server takes none, client_secret_basic, client_secret_post and
    private_key_jwt (RFC 8414 token_endpoint_auth_methods_supported); the open policy takes none, and
    private_key_jwt with its keys (test_private_key_jwt.py), never a method with a shared secret."""
    refused(server, {
        "private_key_jwt without keys": ({"token_endpoint_auth_method": "private_key_jwt"},
                                         "invalid_client_metadata"),
        "client_secret_jwt": ({"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"),
        "tls_client_auth": ({"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"),
        "self_signed_tls_client_auth": ({"token_endpoint_auth_method": "self_signed_tls_client_auth"},
                                        "invalid_client_metadata"),
        "garbage": ({"token_endpoint_auth_method": "<garbage>"}, "invalid_client_metadata"),
        "not a string": ({"token_endpoint_auth_method": ["none"]}, "invalid_client_metadata"),
        "client_secret_basic under the open policy": ({"token_endpoint_auth_method": "client_secret_basic"},
                                                      "invalid_client_metadata"),
        "client_secret_post under the open policy": ({"token_endpoint_auth_method": "client_secret_post"},
                                                     "invalid_client_metadata"),
    })
    # the default method (RFC 7591 2) is client_secret_basic: so is a body's that names none
    assert_error(register(server, {"redirect_uris": [LOOPBACK]}), 400, "invalid_client_metadata")
    assert_error(register(server, MACHINE), 400, "invalid_client_metadata")


def test_grant_and_response_types_are_limited_and_must_agree(server):
    """RFC 7591 2 and 2.1: grant_types within authorization_code, refresh_token (and client_credentials for a
    confidential client); response_types ["code"] exactly when the code grant is there."""
    refused(server, {
        "password": ({"grant_types": ["authorization_code", "password"]}, "invalid_client_metadata"),
        "implicit": ({"grant_types": ["implicit"], "response_types": ["token"]}, "invalid_client_metadata"),
        "device": ({"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"], "response_types": []},
                   "invalid_client_metadata"),
        "jwt bearer": ({"grant_types": ["urn:ietf:params:oauth:grant-type:jwt-bearer"]}, "invalid_client_metadata"),
        "client_credentials for a public client": ({"grant_types": ["client_credentials"], "response_types": []},
                                                   "invalid_client_metadata"),
        "response type token": ({"response_types": ["token"]}, "invalid_client_metadata"),
        "code and token": ({"response_types": ["code", "token"]}, "invalid_client_metadata"),
        "code id_token": ({"response_types": ["code id_token"]}, "invalid_client_metadata"),
        "code without the code grant": ({"grant_types": ["refresh_token"]}, "invalid_client_metadata"),
        "grant_types not a list": ({"grant_types": "authorization_code"}, "invalid_client_metadata"),
    })
    # both omitted: the defaults (RFC 7591 2) are authorization_code and code
    info = registered(server, {k: v for k, v in PUBLIC.items() if k not in ("grant_types", "response_types")})
    assert info["grant_types"] == ["authorization_code"] and info["response_types"] == ["code"]


def test_display_metadata_uris_names_and_scopes_are_checked(server):
    """RFC 7591 2 and 5 (client_uri, logo_uri shown to users: https only, never javascript: or data:);
    client_name short, without control characters; scope of defined scopes only."""
    refused(server, {
        "client_uri http": ({"client_uri": "http://agent.example.com"}, "invalid_client_metadata"),
        "client_uri javascript": ({"client_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        "client_uri relative": ({"client_uri": "/about"}, "invalid_client_metadata"),
        "logo_uri http": ({"logo_uri": "http://agent.example.com/logo.png"}, "invalid_client_metadata"),
        "logo_uri javascript": ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        "logo_uri data": ({"logo_uri": "data:image/png;base64,AAAA"}, "invalid_client_metadata"),
        "tos_uri http": ({"tos_uri": "http://agent.example.com/tos"}, "invalid_client_metadata"),
        "policy_uri javascript": ({"policy_uri": "javascript:x"}, "invalid_client_metadata"),
        "client_name too long": ({"client_name": "A" * 101}, "invalid_client_metadata"),
        "client_name with a newline": ({"client_name": "Agent\nApprove now"}, "invalid_client_metadata"),
        "client_name with DEL": ({"client_name": "Agent\x7f"}, "invalid_client_metadata"),
        "client_name not a string": ({"client_name": ["Agent"]}, "invalid_client_metadata"),
        "undefined scope": ({"scope": "orders:read orders:delete"}, "invalid_client_metadata"),
        "scope not a string": ({"scope": ["orders:read"]}, "invalid_client_metadata"),
    })
    info = registered(server, {**PUBLIC, "client_name": "A" * 100, "scope": "openid orders:read orders:write"})
    assert info["client_name"] == "A" * 100
    assert set(info["scope"].split()) == {"orders:read", "orders:write"}  # identity scopes limit no one


def test_the_body_must_be_a_json_object_of_at_most_16_kb(server):
    """RFC 7591 3.1: the request is application/json with the metadata as a JSON object."""
    url = f"{server.url}/oauth/register"
    as_json = {"Content-Type": "application/json"}
    cases = {
        "not JSON": requests.post(url, data=b"{", headers=as_json, timeout=10),
        "not UTF-8": requests.post(url, data=b'{"client_name": "\xff"}', headers=as_json, timeout=10),
        "an array": requests.post(url, json=[PUBLIC], timeout=10),
        "a string": requests.post(url, json="redirect_uris", timeout=10),
        "null": requests.post(url, data=b"null", headers=as_json, timeout=10),
        "a form": requests.post(url, data={"redirect_uris": LOOPBACK, "token_endpoint_auth_method": "none"},
                                timeout=10),
        "text/plain": requests.post(url, data=json.dumps(PUBLIC), headers={"Content-Type": "text/plain"},
                                    timeout=10),
        "no content type": requests.post(url, data=json.dumps(PUBLIC).encode(), timeout=10),
        "over 16 KB": requests.post(url, json={**PUBLIC, "padding": "a" * 16_500}, timeout=10),
    }
    for label, response in cases.items():
        assert response.status_code == 400, (label, response.text)
        assert response.json()["error"] == "invalid_client_metadata", (label, response.text)
    # a charset parameter is fine (RFC 8259: UTF-8 anyway)
    charset = requests.post(url, data=json.dumps(PUBLIC), timeout=10,
                            headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status_code == 201, charset.text


def test_unknown_metadata_members_are_ignored(server):
    """RFC 7591 2: "the authorization server MUST ignore any client metadata sent by the client that it does not
    understand"."""
    info = registered(server, {**PUBLIC, "software_id": "4NRB1-0XZABZI9E6-5SM3R", "software_version": "2.1",
                               "x_custom": {"nested": [1, 2]}, "contacts": ["ops@agent.example.com"]})
    assert not {"software_id", "software_version", "x_custom"} & set(info)
    assert manage("GET", info).status_code == 200


@pytest.mark.passport_config('[registration]\npolicy = "open"\nper_hour = 3\n')
def test_registrations_are_rate_limited_per_source_address(server):
    """RFC 7591 5 (denial of service by mass registration): at most per_hour registrations from one address;
    then 429 with Retry-After (RFC 6585 4) and the error slow_down."""
    for _ in range(3):
        registered(server)
    limited = register(server, PUBLIC)
    body = assert_error(limited, 429, "slow_down")
    assert int(limited.headers["Retry-After"]) > 0 and body["error_description"]


# -- what the user sees of a registered client ---------------------------------------------------------------------


def test_the_consent_page_escapes_a_registered_clients_name_and_uri_and_says_it_registered_itself(server, browser,
                                                                                                   app):
    """RFC 7591 5: the client's name and URI are its own claims; shown escaped, with a notice that nobody has
    checked them. A client made by the operator (the CLI) gets no such notice."""
    hostile_uri = 'https://agent.example.com/"><script>alert(2)</script>'
    info = registered(server, {**PUBLIC, "client_name": "<script>alert(1)</script> Agent", "client_uri": hostile_uri})
    _, challenge = pkce_pair()
    consent = authorize(browser, info["client_id"], LOOPBACK, challenge=challenge)
    assert consent.status_code == 200, consent.text
    page = consent.text
    assert "<script>alert" not in page and '"><script' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Agent" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "registered itself" in page and "nobody has checked that" in page
    approve, _ = browser.consent_forms(consent)  # the page still works
    assert approve.fields["client_id"] == info["client_id"]

    operator_made = browser.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "scope": "orders:read",
        "state": "s"}))
    assert operator_made.status_code == 200 and "Orders" in operator_made.text
    assert "registered itself" not in operator_made.text


def test_the_cli_lists_registered_clients_and_revokes_one_whose_tokens_then_stop(server, browser, app, capsys):
    """The issue's "registered clients are listed and revocable by the CLI": `passport client list --registered`
    shows only them (JSON "registered": true); `passport client revoke ID` ends the client, so its access token
    stops at the guard, its refresh token and its registration access token (RFC 7592) stop working."""
    from passport.cli import main

    info = registered(server)
    tokens = code_flow(server, browser, info["client_id"])
    assert orders(server, tokens["access_token"]).status_code == 200

    assert main(["client", "list", "--registered", "--json", "--aws"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["client_id"] for c in listed] == [info["client_id"]]
    assert listed[0]["registered"] is True and listed[0]["public"] is True and listed[0]["name"] == "Agent"

    assert main(["client", "list", "--json", "--aws"]) == 0
    everyone = {c["client_id"]: c for c in json.loads(capsys.readouterr().out)}
    assert everyone[app.client_id]["registered"] is False and everyone[info["client_id"]]["registered"] is True

    assert main(["client", "revoke", info["client_id"], "--json", "--aws"]) == 0
    assert json.loads(capsys.readouterr().out)["revoked"] is True
    assert orders(server, tokens["access_token"]).status_code == 401
    refreshed = requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": info["client_id"]})
    assert refreshed.status_code in (400, 401) and refreshed.json()["error"] in ("invalid_client", "invalid_grant")
    assert manage("GET", info).status_code == 401  # nor can it manage itself any more


# -- RFC 7592: read, replace, delete ---------------------------------------------------------------------------------


def test_read_with_the_registration_access_token_answers_the_metadata_without_secrets(server):
    """RFC 7592 2.1: GET with the registration access token answers the client information response (3): the
    registered metadata, no secret, the token not rotated (if it is there at all, it is the one presented), never
    cached."""
    info = registered(server)
    read = manage("GET", info)
    assert read.status_code == 200, read.text
    assert read.headers["Cache-Control"] == "no-store"
    body = read.json()
    token = info["registration_access_token"]
    assert body.pop("registration_access_token", token) == token and "client_secret" not in body
    assert body == {k: v for k, v in info.items() if k != "registration_access_token"}
    assert manage("GET", info).status_code == 200  # still the token


def test_a_wrong_missing_or_other_clients_registration_access_token_is_invalid_token(server, client):
    """RFC 7592 2.1 and RFC 6750 3.1: no valid registration access token for this client is 401 invalid_token
    with a Bearer challenge; the same for an unknown client, or one the CLI made (it has no such token)."""
    info, other = registered(server), registered(server)
    for label, token in (("wrong", info["registration_access_token"] + "x"),
                         ("another client's", other["registration_access_token"]),
                         ("an initial access token", INITIAL_TOKEN), ("none", None)):
        for method in ("GET", "PUT", "DELETE"):
            body = {**PUBLIC, "client_id": info["client_id"]} if method == "PUT" else None
            response = manage(method, info, token, body)
            assert_error(response, 401, "invalid_token")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (label, method)
    unknown = {**info, "registration_client_uri": f"{server.url}/oauth/register/{uuid.uuid4()}"}
    assert_error(manage("GET", unknown), 401, "invalid_token")
    cli_made = {**info, "registration_client_uri": f"{server.url}/oauth/register/{client.client_id}"}
    assert_error(manage("GET", cli_made), 401, "invalid_token")
    assert manage("GET", info).status_code == 200 and manage("GET", other).status_code == 200  # nothing changed


def test_replace_changes_redirect_uris_and_name_and_the_new_uri_works_at_authorize(server, browser):
    """RFC 7592 2.2: PUT replaces the metadata (200 with the new client information); the authorization endpoint
    then accepts the new redirect URI and refuses the old one (RFC 6749 3.1.2.3)."""
    info = registered(server)
    new_uri = "https://agent.example.com/new-callback"
    changed = {**PUBLIC, "client_id": info["client_id"], "redirect_uris": [new_uri], "client_name": "Agent v2"}
    response = manage("PUT", info, body=changed)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["redirect_uris"] == [new_uri] and body["client_name"] == "Agent v2"
    token = info["registration_access_token"]
    assert body["client_id"] == info["client_id"] and body.pop("registration_access_token", token) == token
    stored = manage("GET", info).json()  # stored, and the token still works
    stored.pop("registration_access_token", None)
    assert stored == body

    _, challenge = pkce_pair()
    consent = authorize(browser, info["client_id"], new_uri, challenge=challenge)
    assert consent.status_code == 200 and "Agent v2" in consent.text
    old = authorize(browser, info["client_id"], LOOPBACK, challenge=challenge)
    assert old.status_code == 400 and "Location" not in old.headers
    assert "Invalid redirect URI" in old.text
    tokens = code_flow(server, browser, info["client_id"], new_uri)
    assert tokens["access_token"]
    # the new metadata is checked as at registration (RFC 7591 2), with its errors, and nothing changes
    bad_uri = manage("PUT", info, body={**changed, "redirect_uris": ["http://agent.example.com/cb"]})
    assert_error(bad_uri, 400, "invalid_redirect_uri")
    assert_error(manage("PUT", info, body=PUBLIC), 400, "invalid_client_metadata")  # no client_id (2.2)
    assert manage("GET", info).json()["redirect_uris"] == [new_uri]


@pytest.mark.passport_config(TOKEN_POLICY)
def test_replace_cannot_change_identity_secret_auth_method_or_add_client_credentials(server):
    """RFC 7592 2.2: the client_id must be the client's own, a client_secret sent must match; this server also
    keeps the auth method and refuses new client credentials (registration-time decisions); 400
    invalid_client_metadata, and nothing changes."""
    code_client = {"redirect_uris": [HTTPS], "token_endpoint_auth_method": "client_secret_basic",
                   "grant_types": ["authorization_code"], "client_name": "Web app", "scope": "orders:read"}
    info = registered(server, code_client, token=INITIAL_TOKEN)
    other = registered(server, code_client, token=INITIAL_TOKEN)
    mine = {**code_client, "client_id": info["client_id"]}
    cases = {
        "another client_id": {**mine, "client_id": other["client_id"]},
        "a wrong client_secret": {**mine, "client_secret": info["client_secret"] + "x"},
        "another client's secret": {**mine, "client_secret": other["client_secret"]},
        "a client_secret not a string": {**mine, "client_secret": 1},
        "a changed auth method": {**mine, "token_endpoint_auth_method": "client_secret_post"},
        "a public auth method": {**mine, "token_endpoint_auth_method": "none"},
        "client_credentials added": {**mine, "grant_types": ["authorization_code", "client_credentials"]},
    }
    for label, body in cases.items():
        response = manage("PUT", info, body=body)
        assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata", \
            (label, response.text)
    assert manage("GET", info).json()["grant_types"] == ["authorization_code"]
    # the right secret, or none, is fine
    ok = manage("PUT", info, body={**mine, "client_secret": info["client_secret"], "client_name": "Web app 2"})
    assert ok.status_code == 200 and ok.json()["client_name"] == "Web app 2"
    assert "client_secret" not in ok.json() and ok.json()["client_secret_expires_at"] == 0


def test_delete_revokes_the_client_and_its_tokens(server, browser):
    """RFC 7592 2.3: DELETE answers 204; the registration access token is then invalid (401), the client's tokens
    stop at the guard, and its authorization requests meet the unknown-application page."""
    info = registered(server)
    tokens = code_flow(server, browser, info["client_id"])
    assert orders(server, tokens["access_token"]).status_code == 200

    deleted = manage("DELETE", info)
    assert deleted.status_code == 204 and not deleted.content
    assert_error(manage("GET", info), 401, "invalid_token")
    assert_error(manage("DELETE", info), 401, "invalid_token")
    assert_error(manage("PUT", info, body={**PUBLIC, "client_id": info["client_id"]}), 401, "invalid_token")

    refused_token = orders(server, tokens["access_token"])
    assert refused_token.status_code == 401
    _, challenge = pkce_pair()
    page = authorize(browser, info["client_id"], LOOPBACK, challenge=challenge)
    assert page.status_code == 400 and "Location" not in page.headers and "Unknown application" in page.text
    assert not [f for f in forms(page.text) if f.action == "/oauth/authorize"]
