"""One set of client rules for every way a client comes to exist or changes (core/clients.py), through the
local gateway and the CLI: the operator's CLI (``passport client create|update``), the signed-in user's JSON API
(``POST /oauth/clients``, ``PUT /oauth/clients/{id}``) and dynamic registration (RFC 7591 ``POST /oauth/register``,
RFC 7592 ``PUT /oauth/register/{id}``). Bounded sizes, display names without hidden characters, redirect URIs
judged by one function; a permanent refusal is a 400 (422 in the JSON API), never a 503. And the consent page
tells a user when nobody vetted the client asking."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, pkce_pair
from tests.integration.conftest import PASSWORD

pytestmark = pytest.mark.passport_config('[registration]\npolicy = "open"\nper_hour = 1000\n')

GOOD_URI = "https://app.example.com/cb"
LOOPBACK = "http://127.0.0.1:7777/cb"


def new_user():
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"r{uuid.uuid4().hex[:8]}@example.com", name="Rae",
                       password=PASSWORD)


def signed_in(server) -> Browser:
    browser = Browser(server.url)
    assert browser.login(new_user().email, PASSWORD).status_code == 303
    return browser


def xsrf(browser: Browser) -> dict[str, str]:
    return {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}


# -- the three doors, each given a name and redirect URIs ---------------------------------------------------------
#
# Each answers (accepted, the status or exit code) for a client with this name and these redirect URIs, made or
# changed. An accepted change is read back, so "accepted" means stored.


def cli(server, name: str, uris: list[str], *, change: bool, kind: str = "web") -> tuple[bool, int]:
    from passport.cli import main

    options = ["--name", name, *(arg for uri in uris for arg in ("--redirect-uri", uri)), "--application-type", kind]
    if change:
        made = make_client(server.env, name="Before", grant_types=("authorization_code",), redirect_uris=(GOOD_URI,))
        code = main(["client", "update", made.client_id, *options, "--json", "--aws"])
    else:
        code = main(["client", "create", *options, "--grant", "authorization_code", "--json", "--aws"])
    return code == 0, code


def json_api(server, name: str, uris: list[str], *, change: bool, kind: str = "web") -> tuple[bool, int]:
    browser = signed_in(server)
    body = {"name": name, "redirect_uris": uris, "application_type": kind}
    if change:
        made = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser),
                                 json={"name": "Before", "redirect_uris": [GOOD_URI]}, timeout=30)
        assert made.status_code == 201, made.text
        answer = browser.http.put(f"{server.url}/oauth/clients/{made.json()['id']}", headers=xsrf(browser),
                                  json=body, timeout=30)
    else:
        answer = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser), json=body, timeout=30)
    assert answer.status_code in (200, 201, 422), (answer.status_code, answer.text[:300])
    if answer.status_code == 422:
        assert answer.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri"), answer.text
    return answer.status_code < 300, answer.status_code


def registration(server, name: str, uris: list[str], *, change: bool, kind: str = "web") -> tuple[bool, int]:
    body = {"client_name": name, "redirect_uris": uris, "token_endpoint_auth_method": "none",
            "application_type": kind}
    if change:
        info = requests.post(f"{server.url}/oauth/register", timeout=30, json={
            "client_name": "Before", "redirect_uris": [GOOD_URI], "token_endpoint_auth_method": "none"}).json()
        answer = requests.put(info["registration_client_uri"], json={**body, "client_id": info["client_id"]},
                              headers={"Authorization": f"Bearer {info['registration_access_token']}"}, timeout=30)
    else:
        answer = requests.post(f"{server.url}/oauth/register", json=body, timeout=30)
    assert answer.status_code in (200, 201, 400), (answer.status_code, answer.text[:300])
    if answer.status_code == 400:
        assert answer.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri"), answer.text
    return answer.status_code < 300, answer.status_code


DOORS: dict[str, Callable[..., tuple[bool, int]]] = {"cli": cli, "json api": json_api, "registration": registration}

REFUSED_NAMES = {
    "101 characters": "A" * 101,
    "a right-to-left override": "Goo\u202egle",
    "a zero-width space": "Goo\u200bgle",
    "a byte order mark": "\ufeffGoogle",
    "a left-to-right isolate": "\u2066Google\u2069",
    "the Arabic letter mark": "Google\u061c",
    "a word joiner": "Goo\u2060gle",
    "a newline": "Google\nApprove me",
    "a line separator": "Google\u2028Approve me",
    "DEL": "Google\x7f",
}
REFUSED_URIS = {
    "plain http on a public host": ["http://app.example.com/cb"],
    "javascript:": ["javascript:alert(1)"],
    "data:": ["data:text/html,x"],
    "file:": ["file:///etc/passwd"],
    "a fragment": ["https://app.example.com/cb#x"],
    "credentials": ["https://user:pw@app.example.com/cb"],
    "userinfo before a loopback address": ["http://evil@127.0.0.1/cb"],
    "relative": ["/cb"],
    "not ASCII": ["https://app.example.com/\u00e9"],
    "port 0": ["http://127.0.0.1:0/cb"],
    "an empty port": ["https://app.example.com:/cb"],
    "513 characters": ["https://app.example.com/" + "a" * 489],
    "eleven": [f"https://app.example.com/cb/{i}" for i in range(11)],
    "a private-use scheme for a web application": ["cursor://anysphere.cursor-retrieval/oauth/callback"],
}
#: Refused for a native app too (RFC 8252 7.1, 7.2, 8.4).
REFUSED_NATIVE_URIS = {
    "javascript:": ["javascript:alert(1)"],
    "about:": ["about:blank"],
    "a browser extension's scheme": ["chrome-extension://abcdef/cb"],
    "a fragment after a private-use scheme": ["cursor://anysphere.cursor-retrieval/oauth/callback#x"],
    "https on localhost": ["https://localhost:8443/cb"],
}
ACCEPTED = {
    "a 100-character name": ("A" * 100, [GOOD_URI], "web"),
    "a name in another script": ("تطبيق Zoë 東京", [GOOD_URI], "web"),
    "a loopback redirect URI": ("Native", [LOOPBACK, "http://[::1]:8080/cb"], "web"),
    "a native app's loopback redirect URI": ("Native", [LOOPBACK, "http://localhost:3000/cb"], "native"),
    "a reverse-domain private-use scheme (RFC 8252 7.1)": ("Native", ["com.example.app:/oauth2redirect"], "native"),
    "Cursor's redirect URI": ("Cursor", ["cursor://anysphere.cursor-retrieval/oauth/callback"], "native"),
    "VS Code's redirect URIs": ("VS Code", ["vscode://vscode.github-authentication/did-authenticate",
                                            "http://127.0.0.1:33418/", "https://vscode.dev/redirect"], "native"),
    "ten redirect URIs of 512 characters": ("Many", [f"https://app.example.com/{i}/" + "a" * 486 for i in range(10)],
                                            "web"),
}


@pytest.mark.parametrize("change", [False, True], ids=["create", "change"])
@pytest.mark.parametrize("door", sorted(DOORS))
def test_every_door_holds_a_client_to_the_same_rules(server, door, change, capsys):
    """The same names and redirect URIs are refused, and the same accepted, whichever way the client is made or
    changed: by the operator's CLI, a user's JSON API call or dynamic registration (RFC 7591 2 and 7592 2.2,
    RFC 6749 3.1.2, RFC 8252 7.1 to 7.3, RFC 9700 2.1), a native app's (OpenID Connect Dynamic Client
    Registration 1.0 section 2, application_type) as a web application's."""
    make = DOORS[door]
    wrong = []
    for label, name in REFUSED_NAMES.items():
        accepted, status = make(server, name, [GOOD_URI], change=change)
        if accepted:
            wrong.append(f"name with {label} accepted ({status})")
    for label, uris in REFUSED_URIS.items():
        accepted, status = make(server, "App", uris, change=change)
        if accepted:
            wrong.append(f"redirect URI with {label} accepted ({status})")
    for label, uris in REFUSED_NATIVE_URIS.items():
        accepted, status = make(server, "App", uris, change=change, kind="native")
        if accepted:
            wrong.append(f"native redirect URI with {label} accepted ({status})")
    for label, (name, uris, kind) in ACCEPTED.items():
        accepted, status = make(server, name, uris, change=change, kind=kind)
        if not accepted:
            wrong.append(f"{label} refused ({status}): {capsys.readouterr().err[-300:]}")
    assert not wrong, "\n".join(wrong)


def test_the_json_api_refuses_huge_names_and_redirect_uri_lists_with_422_and_never_503(server):
    """A 390 KB name and 20,000 redirect URIs were stored; a 420 KB name reached DynamoDB, whose refusal of an
    item over 400 KB came back as 503 "try again". Each is a permanent refusal: 422, no Retry-After, nothing
    stored."""
    browser = signed_in(server)
    cases = {
        "a 390 KB name": {"name": "A" * 390_000, "redirect_uris": [GOOD_URI]},
        "a 420 KB name": {"name": "A" * 420_000, "redirect_uris": [GOOD_URI]},
        "20,000 redirect URIs": {"name": "Many", "redirect_uris": [f"https://a.example/{i}" for i in range(20_000)]},
        "a 420 KB redirect URI": {"name": "Long", "redirect_uris": ["https://a.example/" + "a" * 420_000]},
    }
    made = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser),
                             json={"name": "Mine", "redirect_uris": [GOOD_URI]}, timeout=30).json()
    for label, body in cases.items():
        for method, url in (("POST", f"{server.url}/oauth/clients"),
                            ("PUT", f"{server.url}/oauth/clients/{made['id']}")):
            answer = browser.http.request(method, url, headers=xsrf(browser), json=body, timeout=60)
            assert answer.status_code == 422, (label, method, answer.status_code, answer.text[:200])
            assert "Retry-After" not in answer.headers
            assert answer.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    listed = browser.http.get(f"{server.url}/oauth/clients", timeout=30).json()
    assert [(c["name"], c["redirect_uris"]) for c in listed] == [("Mine", [GOOD_URI])]


def test_storage_calls_an_item_dynamodb_refuses_a_permanent_error_not_unavailable(env):
    """Below the core's bounds: DynamoDB's ValidationException (an item over 400 KB) is not "temporarily
    unavailable" (a 503 with Retry-After, which invites the same request again), but StorageRejected, which
    the endpoints answer as the server error it is."""
    from dataclasses import replace

    from passport.core.clients import new_client
    from passport.core.errors import StorageUnavailable
    from passport.storage.errors import StorageRejected
    from passport.storage.repositories import DynamoClientStore

    made = new_client(name="x", grant_types=("client_credentials",), defined_scopes=env.settings.scopes)
    oversized = replace(made.client, name="A" * 420_000)
    with pytest.raises(StorageRejected) as raised:
        DynamoClientStore().create(oversized)
    assert not isinstance(raised.value, StorageUnavailable)
    assert DynamoClientStore().get(made.client.client_id) is None


NESTED = b"[" * 5000 + b"]" * 5000


def test_a_deeply_nested_json_body_is_refused_in_each_endpoints_own_style(server):
    """RFC 8259 bodies nested deep enough to exhaust the parser's recursion: registration answers RFC 7591
    3.2.2's 400 invalid_client_metadata (POST and PUT), the JSON API its 422 (clients and personal access
    tokens), never a 500."""
    as_json = {"Content-Type": "application/json"}
    info = requests.post(f"{server.url}/oauth/register", timeout=30, json={
        "client_name": "Agent", "redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none"}).json()
    registration_answers = [
        requests.post(f"{server.url}/oauth/register", data=NESTED, headers=as_json, timeout=30),
        requests.put(info["registration_client_uri"], data=b'{"client_id": ' + NESTED + b"}", timeout=30,
                     headers={**as_json, "Authorization": f"Bearer {info['registration_access_token']}"}),
    ]
    for answer in registration_answers:
        assert answer.status_code == 400, answer.text[:300]
        assert answer.json()["error"] == "invalid_client_metadata"
    browser = signed_in(server)
    made = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser),
                             json={"name": "Mine", "redirect_uris": [GOOD_URI]}, timeout=30).json()
    headers = {**xsrf(browser), **as_json}
    api_answers = [
        browser.http.post(f"{server.url}/oauth/clients", data=NESTED, headers=headers, timeout=30),
        browser.http.put(f"{server.url}/oauth/clients/{made['id']}", data=NESTED, headers=headers, timeout=30),
        browser.http.post(f"{server.url}/oauth/personal-access-tokens", data=NESTED, headers=headers, timeout=30),
        browser.http.post(f"{server.url}/oauth/clients", data=b'{"name": ' + NESTED + b"}", headers=headers,
                          timeout=30),
    ]
    for answer in api_answers:
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["error"] == "invalid_request"


# -- the consent page's notice --------------------------------------------------------------------------------------


def consent_page(browser: Browser, client_id: str, redirect_uri: str, **extra: str) -> str:
    answer = browser.get("/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s", **extra}))
    assert answer.status_code == 200, answer.text[:500]
    return " ".join(answer.text.split())


USER_MADE = "was created by a user of this server, not by its operators: nobody has checked"
SELF_REGISTERED = "registered itself with this server"


def test_a_client_a_user_created_is_shown_to_other_users_with_the_unvetted_notice(server, env):
    """A signed-in user can make a client called "Google" with their own redirect URI through the JSON API;
    another user asked to approve it must be told that nobody vetted it (RFC 7591 5, RFC 6749 10.2), as for a
    client that registered itself. The operator's client carries no such notice."""
    attacker = signed_in(server)
    phish = attacker.http.post(f"{server.url}/oauth/clients", headers=xsrf(attacker), timeout=30,
                               json={"name": "Google", "redirect_uris": ["https://attacker.example/cb"]}).json()
    victim = signed_in(server)
    page = consent_page(victim, phish["id"], "https://attacker.example/cb", scope="orders:read")
    assert "<strong>Google</strong> is requesting permission" in page
    assert f"Google {USER_MADE}" in page and SELF_REGISTERED not in page

    registered = requests.post(f"{server.url}/oauth/register", timeout=30, json={
        "client_name": "Agent", "redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none"}).json()
    _, challenge = pkce_pair()
    page = consent_page(victim, registered["client_id"], LOOPBACK, code_challenge=challenge,
                        code_challenge_method="S256")
    assert f"Agent {SELF_REGISTERED}" in page and USER_MADE not in page

    operator = make_client(env, name="Orders", grant_types=("authorization_code",), redirect_uris=(GOOD_URI,))
    page = consent_page(victim, operator.client_id, GOOD_URI)
    assert "nobody has checked" not in page and "unvetted" not in page


def test_the_device_consent_page_carries_the_notice_too(server, env):
    """The device flow's consent page (RFC 8628 3.3) is the same page, judged by the same property."""
    from passport.core.clients import DEVICE_CODE

    for owner, notice in ((None, False), ("some-user", True)):
        tv = make_client(env, name="Living-room TV", grant_types=(DEVICE_CODE,), public=True, user_id=owner)
        grant = requests.post(f"{server.url}/oauth/device/code", data={"client_id": tv.client_id}, timeout=30)
        assert grant.status_code == 200, grant.text
        browser = signed_in(server)
        confirm = browser.get("/oauth/device/authorize", user_code=grant.json()["user_code"])
        assert confirm.status_code == 200, confirm.text[:500]
        assert (USER_MADE in " ".join(confirm.text.split())) is notice


def test_a_client_limited_to_identity_scopes_by_the_cli_or_the_json_api_gets_them_and_only_them(server, capsys):
    """Discovery lists openid, profile, email and offline_access among the scopes (RFC 8414 2), so a client may
    be limited to them like any other scope; once its list names one, the list limits them (RFC 6749 3.3)."""
    import json

    from passport.cli import main

    code = main(["client", "create", "--name", "RP", "--grant", "authorization_code", "--redirect-uri", GOOD_URI,
                 "--scope", "openid", "--scope", "profile", "--scope", "orders:read", "--json", "--aws"])
    assert code == 0, capsys.readouterr().err
    made = json.loads(capsys.readouterr().out)
    assert made["scopes"] == ["openid", "profile", "orders:read"]
    browser = signed_in(server)
    answer = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf(browser), timeout=30,
                               json={"name": "Mine", "redirect_uris": [GOOD_URI], "scopes": ["openid", "email"]})
    assert answer.status_code == 201 and answer.json()["scopes"] == ["openid", "email"], answer.text
    _, challenge = pkce_pair()
    for client_id, asked, allowed in ((made["client_id"], "openid profile orders:read", True),
                                      (made["client_id"], "openid email", False),
                                      (answer.json()["client_id"], "openid email", True),
                                      (answer.json()["client_id"], "openid profile", False)):
        reply = browser.authorize(response_type="code", client_id=client_id, redirect_uri=GOOD_URI, scope=asked,
                                  state="s", code_challenge=challenge, code_challenge_method="S256")
        if allowed:
            assert reply.status_code == 200, (asked, reply.status_code)
            approve, _ = browser.consent_forms(reply)
            assert approve.fields["scope"] == asked
        else:
            assert reply.status_code in (302, 303), (asked, reply.status_code)
            assert "error=invalid_scope" in reply.headers["Location"], reply.headers["Location"]
