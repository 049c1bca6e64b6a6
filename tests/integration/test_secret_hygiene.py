"""Secret hygiene in the logs (docs/operations.md: "no secret, token, code or password in them").

Every flow runs through the local gateway with every logger at DEBUG (the root logger, ``passport``,
``passport.audit``, ``passport.gateway``, botocore, urllib3, pynamodb and whatever else exists), captured by a
handler on the root logger, together with the process's stdout and stderr. The DynamoDB client at DEBUG logs each
request body it sends (``passport.aws_json``, or botocore where botocore serves, which also logs each response
body), so these tests also prove that only hashes reach the store.
Each test collects every secret value the flow saw (client secrets, passwords, access tokens and their
signatures, refresh tokens and their secret half, codes, device codes, user codes, PKCE verifiers, session
cookies, CSRF tokens) and asserts that none of them appears in any captured line.

The one thing left out of the capture is the test's own HTTP client (requests/urllib3 in the test, standing in
for browsers and apps), whose DEBUG lines name the URLs it fetched: that is the caller's log, not the server's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser, forms, pkce_pair, query_of

pytestmark = pytest.mark.passport_config(
    "[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"
    "[grants]\npassword = true\nimplicit = true\n"
)

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "Tr0ub4dor&3 wrong guess"
REDIRECT = "https://app.example.com/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: The loggers the product, its libraries and moto (the tests' Secrets Manager) write to; all of them go to DEBUG.
NAMED_LOGGERS = ("passport", "passport.audit", "passport.gateway", "botocore", "boto3", "urllib3", "pynamodb",
                 "moto", "werkzeug", "jwt", "passport_functions")


@dataclass
class Capture:
    """Every log record emitted while a flow runs, and the secrets the flow handled."""

    records: list[logging.LogRecord] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    client_addresses: tuple[str, ...] = ()
    test_thread: int = 0
    capfd: object = None
    checked: bool = False
    formatter: logging.Formatter = field(default_factory=lambda: logging.Formatter(
        "%(name)s %(levelname)s %(threadName)s %(message)s"))

    def secret(self, label: str, value: str | None) -> str | None:
        """Remember a secret value (and return it); too short to be meaningful is a test bug."""
        if value is None:
            return None
        assert len(value) >= 8, f"{label} is too short to search for: {value!r}"
        self.secrets[f"{label} #{len(self.secrets)}"] = value
        return value

    def token_response(self, label: str, body: dict) -> dict:
        """The secrets of a token endpoint answer: the JWT, its signature alone, the refresh token and its
        secret half."""
        access = self.secret(f"{label} access token", body["access_token"])
        assert access is not None
        self.secret(f"{label} access token signature", access.rsplit(".", 1)[1])
        if body.get("refresh_token"):
            refresh = body["refresh_token"]
            self.secret(f"{label} refresh token", refresh)
            self.secret(f"{label} refresh token secret half", refresh.split(".", 1)[1])
        return body

    def browser(self, label: str, browser: Browser) -> None:
        """The cookies a browser holds: the session id, the XSRF cookie, the login form's CSRF token."""
        for cookie in browser.http.cookies:
            if cookie.value:
                self.secret(f"{label} cookie {cookie.name}", cookie.value)

    def assert_no_secret_logged(self) -> None:
        """No secret in any captured line, nor in what the process wrote to stdout or stderr."""
        self.checked = True
        out, err = self.capfd.readouterr()  # type: ignore[attr-defined]
        lines = self.lines()
        # The capture works: the request bodies sent to DynamoDB (by the signed client or botocore) and the gateway's
        # access lines are in it.
        assert any(line.startswith(("passport.aws_json", "botocore")) and "Making request" in line
                   for line in lines), "no request body"
        assert any(line.startswith("passport.gateway") for line in lines), "no gateway access log"
        leaks = [(label, line) for label, value in self.secrets.items() for line in [*lines, out, err]
                 if value in line]
        assert not leaks, "secrets in the logs:\n" + "\n".join(f"{label}: {line[:400]}" for label, line in leaks[:10])

    def lines(self) -> list[str]:
        return [self.formatter.format(record) for record in self.records if not self._own_client(record)]

    def _own_client(self, record: logging.LogRecord) -> bool:
        """A line of the test's HTTP client about a request it sent to the gateway."""
        return (record.name.startswith("urllib3") and record.thread == self.test_thread
                and any(address in record.getMessage() for address in self.client_addresses))


class _Collect(logging.Handler):
    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.DEBUG)
        self._capture = capture
        self._lock_list = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_list:
            self._capture.records.append(record)


@pytest.fixture
def logs(server, capfd) -> Iterator[Capture]:
    """Every logger at DEBUG into one capture; after the test, no secret in any line nor in stdout/stderr."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    capture = Capture(client_addresses=(f"{host}:{port}",), test_thread=threading.get_ident(), capfd=capfd)
    handler = _Collect(capture)
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in set(NAMED_LOGGERS) | set(logging.root.manager.loggerDict)]
    saved = [(logger, logger.level, logger.disabled) for logger in [root, *loggers]]
    # A logger that does not propagate gets the handler itself.
    own = [logger for logger in loggers if not logger.propagate]
    for logger in [root, *loggers]:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    for logger in [root, *own]:
        logger.addHandler(handler)
    try:
        yield capture
    finally:
        for logger in [root, *own]:
            logger.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
    if not capture.checked:  # every test ends with the check; this catches one that forgot it
        capture.assert_no_secret_logged()


# -- helpers ----------------------------------------------------------------------------------------------------


def make_user(logs: Capture, password: str = PASSWORD):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    logs.secret("password", password)
    return create_user(DynamoUserStore(), email=f"h{uuid.uuid4().hex[:8]}@example.com", name="Hygiene User",
                       password=password)


def signed_in(server, logs: Capture, user) -> Browser:
    browser = Browser(server.url)
    page = browser.get("/login")
    login = next(f for f in forms(page.text) if f.action == "/login")
    logs.secret("login csrf token", login.fields["_token"])
    assert browser.submit(login, email=user.email, password=PASSWORD).status_code == 303
    logs.browser("signed in", browser)
    return browser


def app_client(env, logs: Capture, **options):
    options.setdefault("grant_types", ("authorization_code", "refresh_token", "implicit"))
    options.setdefault("redirect_uris", (REDIRECT,))
    options.setdefault("scopes", ("orders:read", "orders:write"))
    made = make_client(env, name="Hygiene App", **options)
    logs.secret("client secret", made.secret)
    return made


def post_token(server, client, **form: str) -> requests.Response:
    auth = (client.client_id, client.secret) if client.secret else None
    data = form if client.secret else {**form, "client_id": client.client_id}
    return requests.post(f"{server.url}/oauth/token", auth=auth, data=data, timeout=10)


def bearer(server, token: str, path: str = "/api/user") -> requests.Response:
    return requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


# -- the flows ------------------------------------------------------------------------------------------------------


def test_client_credentials_revoke_introspect_and_the_guard_log_no_secret(env, server, logs):
    """Client credentials (RFC 6749 4.4), a refused secret, introspection (RFC 7662), revocation (RFC 7009) and
    the guard allowing then refusing the token: no client secret or token in any line."""
    machine = make_client(env, scopes=("orders:read",))
    logs.secret("client secret", machine.secret)
    issued = logs.token_response("client credentials", server.token(machine.client_id, machine.secret,
                                                                    scope="orders:read").json())
    wrong = logs.secret("wrong client secret", "not-the-secret-" + uuid.uuid4().hex)
    assert server.token(machine.client_id, wrong or "").status_code == 401
    assert bearer(server, issued["access_token"], "/api/orders").status_code == 200
    intro = requests.post(f"{server.url}/oauth/introspect", auth=(machine.client_id, machine.secret),
                          data={"token": issued["access_token"]}, timeout=10)
    assert intro.status_code == 200 and intro.json()["active"] is True
    revoked = requests.post(f"{server.url}/oauth/revoke", auth=(machine.client_id, machine.secret),
                            data={"token": issued["access_token"]}, timeout=10)
    assert revoked.status_code == 200
    assert bearer(server, issued["access_token"], "/api/orders").status_code == 401
    tampered = issued["access_token"][:-4] + "AAAA"
    logs.secret("tampered token", tampered)
    assert bearer(server, tampered, "/api/orders").status_code == 401
    logs.assert_no_secret_logged()


def test_the_code_flow_with_pkce_consent_refresh_and_reuse_logs_no_secret(env, server, logs):
    """Authorization code + PKCE (RFC 6749 4.1, RFC 7636), consent, refresh rotation and reuse detection
    (RFC 9700 4.14.2), a replayed code: no code, verifier, token, cookie or CSRF token in any line."""
    app = app_client(env, logs)
    user = make_user(logs)
    browser = signed_in(server, logs, user)
    verifier, challenge = pkce_pair()
    logs.secret("pkce verifier", verifier)
    consent = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT,
                                scope="orders:read", state="state-hygiene", code_challenge=challenge,
                                code_challenge_method="S256")
    assert consent.status_code == 200, consent.text
    approve, _ = browser.consent_forms(consent)
    logs.secret("consent csrf token", approve.fields["_token"])
    answer = browser.submit(approve)
    code = logs.secret("authorization code", query_of(answer.headers["Location"])["code"])
    first = logs.token_response("code", post_token(server, app, grant_type="authorization_code", code=code,
                                                   redirect_uri=REDIRECT, code_verifier=verifier).json())
    assert bearer(server, first["access_token"]).status_code == 200
    second = logs.token_response("refresh", post_token(server, app, grant_type="refresh_token",
                                                       refresh_token=first["refresh_token"]).json())
    for token in (second["access_token"], second["refresh_token"]):
        intro = requests.post(f"{server.url}/oauth/introspect", auth=(app.client_id, app.secret),
                              data={"token": token}, timeout=10)
        assert intro.json()["active"] is True
    reused = post_token(server, app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.json()["error"] == "invalid_grant"
    assert post_token(server, app, grant_type="refresh_token",
                      refresh_token=second["refresh_token"]).json()["error"] == "invalid_grant"
    assert requests.post(f"{server.url}/oauth/revoke", auth=(app.client_id, app.secret),
                         data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
                         timeout=10).status_code == 200
    replay = post_token(server, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                        code_verifier=verifier)
    assert replay.json()["error"] == "invalid_grant"
    wrong_verifier, _ = pkce_pair()
    logs.secret("wrong pkce verifier", wrong_verifier)
    again = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT,
                              scope="orders:read", state="s2", code_challenge=challenge,
                              code_challenge_method="S256")
    code2 = logs.secret("authorization code", query_of(again.headers["Location"])["code"])
    assert post_token(server, app, grant_type="authorization_code", code=code2, redirect_uri=REDIRECT,
                      code_verifier=wrong_verifier).json()["error"] == "invalid_grant"
    logout = next(f for f in forms(consent.text) if f.action == "/logout")
    assert browser.submit(logout).status_code == 200
    logs.assert_no_secret_logged()


def test_openid_connect_sign_in_userinfo_and_logout_log_no_token(env, server, logs):
    """OpenID Connect: the ID token (from the exchange and the refresh), the access token at userinfo and the
    id_token_hint of logout never reach a log line. The nonce is not a secret (it travels in the URL, as state
    does, and is stored with the code to be echoed), so it is not searched for."""
    app = app_client(env, logs, post_logout_redirect_uris=("https://app.example.com/bye",))
    user = make_user(logs)
    browser = signed_in(server, logs, user)
    verifier, challenge = pkce_pair()
    logs.secret("pkce verifier", verifier)
    nonce = "nonce-" + pkce_pair()[0]
    consent = browser.authorize(response_type="code", client_id=app.client_id, redirect_uri=REDIRECT,
                                scope="openid profile email offline_access", state="state-oidc", nonce=nonce,
                                code_challenge=challenge, code_challenge_method="S256")
    approve, _ = browser.consent_forms(consent)
    logs.secret("consent csrf token", approve.fields["_token"])
    code = logs.secret("authorization code", query_of(browser.submit(approve).headers["Location"])["code"])
    first = logs.token_response("code", post_token(server, app, grant_type="authorization_code", code=code,
                                                   redirect_uri=REDIRECT, code_verifier=verifier).json())
    id_token = logs.secret("id token", first["id_token"])
    logs.secret("id token signature", id_token.rsplit(".", 1)[1])
    second = logs.token_response("refresh", post_token(server, app, grant_type="refresh_token",
                                                       refresh_token=first["refresh_token"]).json())
    logs.secret("refreshed id token", second["id_token"])
    for token in (first["access_token"], "not-a-token-at-all"):
        requests.get(f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    requests.post(f"{server.url}/oauth/userinfo", data={"access_token": second["access_token"]}, timeout=10)
    out = browser.get("/oauth/logout", id_token_hint=id_token, post_logout_redirect_uri="https://app.example.com/bye",
                      state="state-bye")
    assert out.status_code == 303
    assert browser.get("/oauth/logout", id_token_hint=id_token[:-4] + "AAAA").status_code == 400
    logs.assert_no_secret_logged()


def test_the_device_flow_logs_no_device_code_or_user_code(env, server, logs):
    """The device grant (RFC 8628): the device code, the user code (as shown and as typed), the tokens."""
    tv = make_client(env, name="Hygiene TV", grant_types=(DEVICE_GRANT, "refresh_token"), public=True)
    user = make_user(logs)
    grant = requests.post(f"{server.url}/oauth/device/code", data={"client_id": tv.client_id, "scope": "orders:read"},
                          timeout=10).json()
    logs.secret("device code", grant["device_code"])
    logs.secret("user code", grant["user_code"])
    logs.secret("user code as stored", grant["user_code"].replace("-", ""))
    logs.secret("verification_uri_complete", grant["verification_uri_complete"])
    assert post_token(server, tv, grant_type=DEVICE_GRANT,
                      device_code=grant["device_code"]).json()["error"] == "authorization_pending"
    browser = signed_in(server, logs, user)
    assert browser.get("/oauth/device", user_code=grant["user_code"]).status_code == 303
    confirm = browser.get("/oauth/device/authorize", user_code=grant["user_code"].replace("-", "").lower())
    assert confirm.status_code == 200, confirm.text
    approve, _ = browser.consent_forms_at(confirm, "/oauth/device/authorize")
    assert browser.submit(approve).status_code == 200
    assert browser.get("/oauth/device/authorize", user_code="BCDF-GHJK").status_code == 400  # a wrong code
    # Polled right after its approval; the interval only counts between polls.
    tokens = post_token(server, tv, grant_type=DEVICE_GRANT, device_code=grant["device_code"])
    if tokens.status_code == 400 and tokens.json()["error"] == "slow_down":
        pytest.fail("polled too fast")
    logs.token_response("device", tokens.json())
    assert post_token(server, tv, grant_type=DEVICE_GRANT,
                      device_code=grant["device_code"]).json()["error"] == "invalid_grant"
    logs.assert_no_secret_logged()


def test_the_password_and_implicit_grants_log_no_password_or_token(env, server, logs):
    """The password grant (RFC 6749 4.3) right and wrong, and the implicit grant (4.2) with its token in the
    fragment: neither the password nor the token in any line."""
    user = make_user(logs)
    pw_client = make_client(env, grant_types=("password", "refresh_token"), scopes=("orders:read",))
    logs.secret("client secret", pw_client.secret)
    logs.token_response("password grant", post_token(server, pw_client, grant_type="password",
                                                     username=user.email, password=PASSWORD).json())
    logs.secret("wrong password", WRONG_PASSWORD)
    assert post_token(server, pw_client, grant_type="password", username=user.email,
                      password=WRONG_PASSWORD).json()["error"] == "invalid_grant"
    assert post_token(server, pw_client, grant_type="password", username="nobody@example.com",
                      password=WRONG_PASSWORD).json()["error"] == "invalid_grant"
    app = app_client(env, logs, first_party=True)
    browser = signed_in(server, logs, user)
    answer = browser.authorize(response_type="token", client_id=app.client_id, redirect_uri=REDIRECT,
                               scope="orders:read", state="implicit-state")
    assert answer.status_code == 303, answer.text
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).fragment).items()}
    logs.token_response("implicit", fragment)
    assert bearer(server, fragment["access_token"]).status_code == 200
    logs.assert_no_secret_logged()


def test_personal_access_tokens_and_client_secrets_from_the_json_api_log_no_secret(env, server, logs):
    """The signed-in user's JSON API and account page (Passport's): a personal access token made, used and
    revoked; a client made and its secret rotated, through the API and through the page's forms."""
    from passport import admin
    from passport.compose import settings
    from passport.storage.repositories import DynamoClientStore

    settings()
    for made in admin.install(env.settings, DynamoClientStore()).clients:
        logs.secret("installed client secret", made.secret)
    user = make_user(logs)
    browser = signed_in(server, logs, user)
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    pat = browser.http.post(f"{server.url}/oauth/personal-access-tokens", json={"name": "deploy",
                            "scopes": ["orders:read"]}, headers=xsrf, timeout=10).json()
    logs.secret("personal access token", pat["access_token"])
    logs.secret("personal access token signature", pat["access_token"].rsplit(".", 1)[1])
    assert bearer(server, pat["access_token"], "/api/orders").status_code == 200
    assert browser.http.delete(f"{server.url}/oauth/personal-access-tokens/{pat['token_id']}", headers=xsrf,
                               timeout=10).status_code == 204
    made = browser.http.post(f"{server.url}/oauth/clients", json={"name": "mine", "redirect": REDIRECT},
                             headers=xsrf, timeout=10).json()
    logs.secret("api client secret", made["client_secret"])
    rotated = browser.http.post(f"{server.url}/oauth/clients/{made['id']}/secret", headers=xsrf, timeout=10).json()
    logs.secret("rotated client secret", rotated["client_secret"])
    # The account page's forms do the same through POST /account.
    page = browser.get("/account")
    create = next(f for f in forms(page.text) if f.fields.get("action") == "create_token")
    shown = browser.submit(create, name="from the page", scopes="orders:read")
    assert shown.status_code == 200
    logs.secret("page personal access token", _shown_secret(shown.text))
    rotate = next(f for f in forms(shown.text) if f.fields.get("action") == "rotate_secret")
    rotated_on_page = browser.submit(rotate)
    logs.secret("page rotated client secret", _shown_secret(rotated_on_page.text))
    logs.assert_no_secret_logged()


def _shown_secret(html: str) -> str:
    start = html.index('<code class="secret">') + len('<code class="secret">')
    return html[start:html.index("</code>", start)]


def test_failed_sign_ins_and_a_throttled_account_log_no_password(env, server, logs):
    """Wrong passwords, an unknown account, a forged CSRF token, then the throttle: no password, no token."""
    user = make_user(logs)
    logs.secret("wrong password", WRONG_PASSWORD)
    browser = Browser(server.url)
    for email in (user.email, "nobody@example.com"):
        for _ in range(3):
            assert browser.login(email, WRONG_PASSWORD).status_code == 401
    for _ in range(3):
        browser.login(user.email, WRONG_PASSWORD)
    assert browser.login(user.email, PASSWORD).status_code == 429
    logs.browser("failed sign-ins", browser)
    forged = browser.http.post(f"{server.url}/login", data={"email": user.email, "password": PASSWORD,
                                                             "_token": "forged-token-value"}, timeout=10)
    assert forged.status_code == 403
    logs.assert_no_secret_logged()


def test_signing_keys_read_from_secrets_manager_never_reach_a_log_line(env, server, logs):
    """docs/keys.md: deployed, the private key lives in a Secrets Manager secret. botocore at DEBUG logs the
    body of every call, so writing the secret (install) and reading it (each cold start) would log the PEM;
    the product filters those lines (passport.keys.redaction)."""
    from passport import admin
    from passport.keys import secret as secret_keys

    settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=f"passport-keys-{uuid.uuid4().hex[:8]}")
    server.gateway.settings = settings
    assert admin.create_keys(settings) is not None
    pem = secret_keys.read_secret(settings.keys.secret_name)["current"]["private_key"]
    for line in pem.splitlines():
        if "-----" not in line and len(line) >= 16:
            logs.secret("private key line", line)
    machine = make_client(env, scopes=("orders:read",))
    logs.secret("client secret", machine.secret)
    issued = logs.token_response("client credentials", server.token(machine.client_id, machine.secret).json())
    assert bearer(server, issued["access_token"], "/api/ping").status_code == 200
    assert any("[redacted: this line held a private key]" in line for line in logs.lines())
    logs.assert_no_secret_logged()


def test_a_pushed_authorization_request_logs_no_request_uri_secret_or_code(env, server, logs):
    """RFC 9126: the push (client_secret_post, so the secret is in the form the server reads), the authorization
    request naming it, consent and the exchange; then the request_uri used again. The request_uri is stored as its
    hash only, as codes are, and the pushed form is stored without the credentials."""
    app = app_client(env, logs)
    user = make_user(logs)
    browser = signed_in(server, logs, user)
    verifier, challenge = pkce_pair()
    logs.secret("pkce verifier", verifier)
    pushed = requests.post(f"{server.url}/oauth/par", timeout=10, data={
        "response_type": "code", "client_id": app.client_id, "client_secret": app.secret, "redirect_uri": REDIRECT,
        "scope": "orders:read", "state": "state-hygiene", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert pushed.status_code == 201, pushed.text
    request_uri = logs.secret("request_uri", pushed.json()["request_uri"])
    logs.secret("request_uri random part", (request_uri or "").rsplit(":", 1)[1])
    consent = browser.authorize(client_id=app.client_id, request_uri=request_uri or "")
    assert consent.status_code == 200, consent.text
    approve, _ = browser.consent_forms(consent)
    logs.secret("consent csrf token", approve.fields["_token"])
    answer = browser.submit(approve)
    code = logs.secret("authorization code", query_of(answer.headers["Location"])["code"])
    logs.token_response("code", post_token(server, app, grant_type="authorization_code", code=code,
                                           redirect_uri=REDIRECT, code_verifier=verifier).json())
    assert browser.authorize(client_id=app.client_id, request_uri=request_uri or "").status_code == 400
    logs.assert_no_secret_logged()
