"""The browser side: ``/oauth/authorize`` (GET, POST approve, DELETE deny), ``/login`` and ``/logout``
(docs/http.md, RFC 6749 4.1.1-4.1.2, RFC 9207, RFC 9700 4.11 and 4.13).

Sessions are server-side (the cookie holds 256 random bits; the store holds their hash) and revocable.
Forms carry a CSRF token: the session's for signed-in forms, a double-submit cookie for the login form.
Every redirect after a form POST is a 303, so the browser never re-sends the form to the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

from passport.core.authorization import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    error_redirect,
    redirect_to,
    validate,
)
from passport.core.clients import LOOPBACK_HOSTS
from passport.core.device import display_user_code, normalize_user_code
from passport.core.errors import OAuthError, StorageUnavailable
from passport.core.hashing import hash_secret, new_secret
from passport.core.http import Request, Response, single
from passport.core.models import DEVICE_PENDING, AuthorizationCode, DeviceAuthorization, Session, User
from passport.core.oidc.claims import IDENTITY_SCOPES, shared_with, wants_id_token
from passport.core.oidc.logout import parse_logout
from passport.core.scopes import satisfies
from passport.core.tokens import AccessTokenIssuer
from passport.core.users import UserProvider, check_credentials
from passport.jws import TokenVerifier
from passport.ports import ClientStore, Consents, Devices, GrantStore, LoginThrottle, Sessions
from passport.web.render import error_page, page


class _DeviceRetry(Exception):
    """A typed user code that does not lead anywhere: the form again, with a message."""

    def __init__(self, message: str, status: int, wait: int) -> None:
        super().__init__(message)
        self.message, self.status, self.wait = message, status, wait


@dataclass
class BrowserContext:
    """What the pages need, composed once per container."""

    issuer: str
    app_name: str
    clients: ClientStore
    users: UserProvider
    sessions: Sessions
    consents: Consents
    grants: GrantStore
    throttle: LoginThrottle
    scopes: dict[str, str]
    scope_policy: object
    response_types: tuple[str, ...]
    code_lifetime: int
    session_lifetime: int
    inherit: bool = False
    #: The access token issuer, when the implicit grant is on (else None: no token leaves this function).
    implicit_issuer: AccessTokenIssuer | None = None
    devices: Devices | None = None
    #: Our ID tokens, to check the id_token_hint of RP-initiated logout (None: no hint is ever ours).
    id_tokens: TokenVerifier | None = None
    #: The resources an authorization request may name (RFC 8707): the deployment's API and the registered ones.
    resources: tuple[str, ...] = ()

    @property
    def secure_cookies(self) -> bool:
        """Secure everywhere but plain-http loopback, where browsers would drop a Secure cookie."""
        parts = urlsplit(self.issuer)
        return not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)

    @property
    def base_path(self) -> str:
        """The issuer's path: ``/prod`` on API Gateway's default URL, empty on a custom domain or locally. Links
        and redirects the pages make carry it, since the event's ``path`` does not."""
        return urlsplit(self.issuer).path.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_path + path

    @property
    def session_cookie(self) -> str:
        # __Host-: only over https, host-only, Path=/ (a subdomain cannot plant or shadow it).
        return "__Host-passport_session" if self.secure_cookies else "passport_session"

    @property
    def login_csrf_cookie(self) -> str:
        return "__Host-passport_login" if self.secure_cookies else "passport_login"


def _cookies(request: Request) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


XSRF_COOKIE = "XSRF-TOKEN"


def _cookie(ctx: BrowserContext, name: str, value: str, max_age: int, *, http_only: bool = True) -> str:
    secure = "; Secure" if ctx.secure_cookies else ""
    http = "; HttpOnly" if http_only else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}{http}; SameSite=Lax{secure}"


def _see_other(location: str, cookies: list[str] | None = None) -> Response:
    return Response(303, {"Location": location, "Cache-Control": "no-store"}, "", list(cookies or []))


def _same_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _session_csrf(sid: str) -> str:
    """The session's CSRF token, derived from the cookie value rather than kept in the store: the session record
    (and any DEBUG log of what is sent to DynamoDB) then holds only hashes, and the token, which pages show,
    cannot be turned back into the cookie."""
    digest = hmac.new(sid.encode("utf-8"), b"passport session csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _consented_resources(auth: AuthorizationRequest) -> tuple[str, ...]:
    """The resources a consent covers, kept beside its scopes as ``resource:<uri>`` (never a scope name: those
    cannot hold a colon followed by //)."""
    return tuple(f"resource:{resource}" for resource in auth.resources)


def _resource_pairs(auth: AuthorizationRequest) -> list[tuple[str, str]]:
    """RFC 8707's ``resource``, which may repeat: carried as one pair each."""
    return [("resource", resource) for resource in auth.resources]


def _local_path(value: str | None) -> str | None:
    """A path on this server, never another origin (no open redirect through ``next``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    # Printable ASCII only, as this server writes its own URLs: it becomes a Location header, where CR/LF would
    # inject headers, and a space, control or non-ASCII character makes the header invalid (browsers drop tabs
    # and newlines from URLs, so "/\t/evil.example" would be "//evil.example" to them).
    if any(not "\x21" <= c <= "\x7e" for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


class BrowserEndpoints:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx = ctx

    # -- sessions ------------------------------------------------------------------------------------------

    def current(self, request: Request) -> tuple[Session, User] | None:
        sid = _cookies(request).get(self.ctx.session_cookie)
        if not sid or len(sid) > 128:
            return None
        session = self.ctx.sessions.get(hash_secret(sid))
        if session is None:
            return None
        user = self.ctx.users.get(session.user_id)
        return (replace(session, csrf=_session_csrf(sid)), user) if user is not None else None

    # -- /oauth/authorize ----------------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                return self._authorize_get(request)
            form = request.form()
            deny = request.method == "DELETE" or single(form, "_method") in ("DELETE", "delete")
            return self._authorize_decision(request, form, approve=not deny)
        except PageError as error:
            return error_page(error.title, error.message, error.status)
        except RedirectError as failure:
            return _see_other(error_redirect(failure, self.ctx.issuer))
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def _validate(self, params: dict[str, list[str]]) -> AuthorizationRequest:
        return validate(
            params, clients=self.ctx.clients, scopes=self.ctx.scope_policy,  # type: ignore[arg-type]
            response_types=self.ctx.response_types, resources=self.ctx.resources,
        )

    def _authorize_get(self, request: Request) -> Response:
        auth = self._validate(dict(request.query))
        signed_in = self.current(request)
        if signed_in is None or self._sign_in_again(auth, signed_in[0]):
            # OpenID Connect Core 3.1.2.1: prompt=none never shows a page; the client hears why instead.
            if "none" in auth.prompt:
                raise RedirectError(auth, OAuthError("login_required", "The user must sign in."))
            return self._to_login(auth, forced=signed_in is not None)
        session, user = signed_in
        if self._consent_needed(auth, user):
            if "none" in auth.prompt:
                raise RedirectError(auth, OAuthError("consent_required", "The user has not approved this client."))
            return self._consent_page(auth, session, user)
        return self._approve(auth, session, user)

    @staticmethod
    def _sign_in_again(auth: AuthorizationRequest, session: Session) -> bool:
        """prompt=login or select_account, or a sign-in older than max_age (OpenID Connect Core 3.1.2.1)."""
        if auth.prompt & {"login", "select_account"}:
            return True
        if auth.max_age is None:
            return False
        # Errata set 2: "max_age=0 is equivalent to prompt=login" (auth_time has whole seconds, so a sign-in in
        # this very second would otherwise pass).
        return auth.max_age == 0 or int(time.time()) - session.auth_time > auth.max_age

    def _to_login(self, auth: AuthorizationRequest, *, forced: bool) -> Response:
        """To the sign-in page, then back to this request. The way back drops what the sign-in satisfies
        (prompt=login and select_account, max_age=0), or it would send the user to sign in again forever; a
        positive max_age stays, and a sign-in a moment ago meets it."""
        params = dict(auth.params)
        prompt = " ".join(sorted(auth.prompt - {"login", "select_account"}))
        if prompt:
            params["prompt"] = prompt
        else:
            params.pop("prompt", None)
        if auth.max_age == 0:
            params.pop("max_age", None)
        resume = self.ctx.url("/oauth/authorize?" + urlencode([*params.items(), *_resource_pairs(auth)]))
        login = {"next": resume, **({"prompt": "login"} if forced else {})}
        return _see_other(self.ctx.url("/login?" + urlencode(login)))

    def _consent_needed(self, auth: AuthorizationRequest, user: User) -> bool:
        if "consent" in auth.prompt:
            return True
        if auth.client.first_party:
            return False
        granted = self.ctx.consents.granted(user.id, auth.client.client_id)
        if granted is None or not all(satisfies(granted, s, inherit=self.ctx.inherit) for s in auth.scopes):
            return True
        # RFC 8707: consent to an API is not consent to another one the client names.
        return not all(entry in granted for entry in _consented_resources(auth))

    def _consent_page(self, auth: AuthorizationRequest, session: Session, user: User) -> Response:
        return page(
            "consent.html", app_name=self.ctx.app_name, client_name=auth.client.name, user_name=user.name,
            vetted=auth.client.vetted, registered=auth.client.registered, client_uri=auth.client.client_uri or "",
            user_email=user.email, csrf=session.csrf, action=self.ctx.url("/oauth/authorize"),
            logout_action=self.ctx.url("/logout"), **self._scope_rows(auth.scopes, user),
            # prompt and max_age were for this GET; the form's answer must not ask for them again
            params={k: v for k, v in auth.params.items() if k not in ("prompt", "max_age")},
            resources=list(auth.resources), form_redirect=auth.redirect_uri,
        )

    def _scope_rows(self, scopes: tuple[str, ...], user: User) -> dict[str, list[dict[str, str]]]:
        """The consent page's two lists: what the client learns about the user (the identity scopes, with the
        values it will get) and what it may do (every other scope, described)."""
        return {
            "identity": shared_with(user, scopes) if wants_id_token(scopes) else [],
            "scopes": [{"name": s, "description": self.ctx.scopes.get(s, s)} for s in scopes
                       if not (s in IDENTITY_SCOPES and s not in self.ctx.scopes)],
        }

    def _authorize_decision(self, request: Request, form: dict[str, list[str]], approve: bool) -> Response:
        signed_in = self.current(request)
        if signed_in is None:
            raise PageError("Signed out", "Your session ended before you answered. Go back to the app and start again.",
                            401)
        session, user = signed_in
        if not _same_equal(single(form, "_token"), session.csrf):
            raise PageError("Request refused", "The form expired or did not come from this site. Please try again.",
                            403)
        auth = self._validate({k: v for k, v in form.items() if k not in ("_token", "_method")})
        if not approve:
            raise RedirectError(auth, OAuthError("access_denied", "The user denied the request."))
        self.ctx.consents.remember(user.id, auth.client.client_id, auth.scopes + _consented_resources(auth))
        return self._approve(auth, session, user)

    def _approve(self, auth: AuthorizationRequest, session: Session, user: User) -> Response:
        if auth.response_type == "token":
            return self._implicit(auth, user)
        code = secrets.token_urlsafe(32)
        now = int(time.time())
        self.ctx.grants.save_code(AuthorizationCode(
            code_hash=hash_secret(code), client_id=auth.client.client_id, user_id=user.id,
            redirect_uri=auth.redirect_uri, redirect_uri_sent=auth.redirect_uri_sent, scopes=auth.scopes,
            expires_at=now + self.ctx.code_lifetime, auth_time=session.auth_time, challenge=auth.challenge,
            nonce=auth.nonce, resources=auth.resources,
        ))
        return _see_other(redirect_to(auth.redirect_uri, {"code": code, "state": auth.state, "iss": self.ctx.issuer}))

    def _implicit(self, auth: AuthorizationRequest, user: User) -> Response:
        """RFC 6749 4.2.2: the token in the fragment, never a refresh token. Off unless configured: RFC 9700
        2.1.2 says clients SHOULD NOT use it (the token sits in browser history and leaks to scripts)."""
        assert self.ctx.implicit_issuer is not None  # response_types offers "token" only when it is set
        issued = self.ctx.implicit_issuer.issue(
            client_id=auth.client.client_id, scopes=auth.scopes, grant_type="implicit", user_id=user.id,
            resources=auth.resources,
        )
        return _see_other(redirect_to(auth.redirect_uri, {
            "access_token": issued.access_token, "token_type": "Bearer", "expires_in": str(issued.expires_in),
            "scope": " ".join(issued.scopes), "state": auth.state, "iss": self.ctx.issuer,
        }, fragment=True))

    # -- /oauth/device: the user confirms a device (RFC 8628 3.3) -----------------------------------------------

    def device(self, request: Request) -> Response:
        signed_in = self.current(request)
        if signed_in is None:
            query = urlencode({k: v[0] for k, v in request.query.items() if v})
            here = self.ctx.url(request.path + (f"?{query}" if query else ""))
            return _see_other(self.ctx.url("/login?" + urlencode({"next": here})))
        session, user = signed_in
        if request.path == "/oauth/device":
            code = single(request.query, "user_code")
            if code:
                return _see_other(self.ctx.url("/oauth/device/authorize?" + urlencode({"user_code": code})))
            return self._device_form()
        if request.method == "GET":
            return self._device_confirm(request, single(request.query, "user_code"), session, user)
        form = request.form()
        if not _same_equal(single(form, "_token"), session.csrf):
            raise PageError("Request refused", "The form expired. Please enter the code again.", 403)
        deny = request.method == "DELETE" or single(form, "_method") in ("DELETE", "delete")
        device = self._device_for(request, single(form, "user_code"), user)
        assert self.ctx.devices is not None
        if not self.ctx.devices.decide(device.device_hash, approve=not deny, user_id=user.id,
                                       auth_time=session.auth_time):
            raise PageError("Code already used", "This code was already answered. Start again on your device.")
        if deny:
            return error_page("Request denied", "The device was not connected. You can close this page.", 200)
        return error_page("Device connected", "You are all set: return to your device. You can close this page.", 200)

    def _device_form(self, *, user_code: str = "", error: str | None = None, status: int = 200,
                     headers: dict[str, str] | None = None) -> Response:
        return page("device.html", status=status, headers=headers, app_name=self.ctx.app_name,
                    action=self.ctx.url("/oauth/device/authorize"), user_code=user_code, error=error)

    def _device_for(self, request: Request, typed: str | None, user: User) -> DeviceAuthorization:
        """The pending authorization for a typed code; guessing is throttled per address and per user."""
        assert self.ctx.devices is not None
        keys = (f"usercode:{request.source_ip}", f"usercode-user:{user.id}")
        wait, _ = self.ctx.throttle.check(keys)
        if wait > 0:
            raise _DeviceRetry(f"Too many wrong codes. Try again in {wait} seconds.", 429, wait)
        code = normalize_user_code(typed)
        device = self.ctx.devices.find_by_user_code(code) if code else None
        if device is None or device.status != DEVICE_PENDING:
            self.ctx.throttle.failed(keys)
            raise _DeviceRetry("That code is not valid or has expired. Check your device and try again.", 400, 0)
        return device

    def _device_confirm(self, request: Request, typed: str | None, session: Session, user: User) -> Response:
        try:
            device = self._device_for(request, typed, user)
        except _DeviceRetry as retry:
            headers = {"Retry-After": str(retry.wait)} if retry.wait else None
            return self._device_form(user_code=typed or "", error=retry.message, status=retry.status,
                                     headers=headers)
        client = self.ctx.clients.get(device.client_id)
        if client is None or client.revoked:
            raise PageError("Unknown application", "The device's application is no longer registered.")
        return page(
            "consent.html", app_name=self.ctx.app_name, client_name=client.name, user_name=user.name,
            vetted=client.vetted, registered=client.registered, client_uri=client.client_uri or "",
            user_email=user.email, csrf=session.csrf, action=self.ctx.url("/oauth/device/authorize"),
            logout_action=self.ctx.url("/logout"), **self._scope_rows(device.scopes, user),
            # The code as typed (it found the record): the store keeps only its hash.
            params={"user_code": display_user_code(normalize_user_code(typed) or "")}, resources=[],
        )

    # -- /login and /logout --------------------------------------------------------------------------------

    def login(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                forced = single(request.query, "prompt") == "login"
                return self._login_form(request, _local_path(single(request.query, "next")), forced=forced)
            return self._login_submit(request)
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def _login_form(self, request: Request, next_path: str | None, *, email: str = "", error: str | None = None,
                    status: int = 200, headers: dict[str, str] | None = None, forced: bool = False) -> Response:
        signed_in = self.current(request)
        if signed_in is not None and forced and not email:
            email = signed_in[1].email  # signing in again (prompt=login, max_age): most likely as the same user
        if signed_in is not None and error is None and not forced:
            if next_path:
                return _see_other(next_path)
            _, user = signed_in
            return error_page("Signed in", f"You are signed in as {user.email}.", 200)
        token = _cookies(request).get(self.ctx.login_csrf_cookie) or new_secret(24)
        return page(
            "login.html", status=status, headers=headers, app_name=self.ctx.app_name, action=self.ctx.url("/login"),
            next=next_path or "", csrf=token, email=email, error=error,
            cookies=[_cookie(self.ctx, self.ctx.login_csrf_cookie, token, 3600)],
            form_redirect=self._resumed_redirect(next_path),
        )

    def _resumed_redirect(self, next_path: str | None) -> str | None:
        """Where the sign-in can end when ``next`` is an authorization request: its redirect URI, once its client
        and that URI check out (the 303 after sign-in may go straight there, when consent is remembered or the
        request fails). Anything else ``next`` may be stays on this site."""
        if not next_path:
            return None
        parts = urlsplit(next_path)
        if parts.path != self.ctx.url("/oauth/authorize"):
            return None
        try:
            return self._validate(parse_qs(parts.query, keep_blank_values=True)).redirect_uri
        except RedirectError as failure:  # the client still hears of it at its (registered) redirect URI
            return failure.request.redirect_uri
        except (PageError, OAuthError):  # an unknown client or unregistered URI: no redirect to allow
            return None

    def _login_submit(self, request: Request) -> Response:
        form = request.form()
        next_path = _local_path(single(form, "next"))
        email = (single(form, "email") or "").strip()
        password = single(form, "password") or ""
        if not _same_equal(single(form, "_token"), _cookies(request).get(self.ctx.login_csrf_cookie)):
            return self._login_form(request, next_path, email=email, status=403,
                                    error="The form expired. Please sign in again.")
        keys = (f"account:{email.lower()}", f"address:{request.source_ip}")
        wait, recorded = self.ctx.throttle.check(keys)
        if wait > 0:
            return self._login_form(request, next_path, email=email, status=429, headers={"Retry-After": str(wait)},
                                    error=f"Too many failed sign-ins. Try again in {wait} seconds.")
        user = check_credentials(self.ctx.users, email, password)
        if user is None:
            self.ctx.throttle.failed(keys)
            return self._login_form(request, next_path, email=email, status=401,
                                    error="These credentials do not match our records.")
        # The address counter is kept: one good password must not reset a spray across many accounts.
        if keys[0] in recorded:
            self.ctx.throttle.succeeded(keys[:1])
        previous = _cookies(request).get(self.ctx.session_cookie)
        if previous and len(previous) <= 128:
            # Signed in again (prompt=login, max_age): one session per browser. Deleted by its key alone, with no
            # read of the session or its user first.
            self.ctx.sessions.delete(hash_secret(previous))
        sid = new_secret()
        now = int(time.time())
        csrf = _session_csrf(sid)
        # The store keeps the token's hash only (current() derives the token again from the cookie).
        self.ctx.sessions.create(Session(hash_secret(sid), user.id, now, now + self.ctx.session_lifetime,
                                         hash_secret(csrf)))
        cookies = [_cookie(self.ctx, self.ctx.session_cookie, sid, self.ctx.session_lifetime),
                   _cookie(self.ctx, self.ctx.login_csrf_cookie, "", 0),
                   # Laravel's convention for the JSON API: scripts read it and echo it as X-XSRF-TOKEN.
                   _cookie(self.ctx, XSRF_COOKIE, csrf, self.ctx.session_lifetime, http_only=False)]
        return _see_other(next_path or self.ctx.url("/login"), cookies)

    def logout(self, request: Request) -> Response:
        try:
            form = request.form()
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)
        signed_in = self.current(request)
        if signed_in is not None:
            session, _ = signed_in
            if not _same_equal(single(form, "_token"), session.csrf):
                return error_page("Request refused", "The form expired. Please try again.", 403)
            self.ctx.sessions.delete(session.session_hash)
        return page("logged_out.html", app_name=self.ctx.app_name, login_url=self.ctx.url("/login"),
                    cookies=[_cookie(self.ctx, self.ctx.session_cookie, "", 0),
                             _cookie(self.ctx, XSRF_COOKIE, "", 0, http_only=False)])

    # -- /oauth/logout: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ------------------------

    def end_session(self, request: Request) -> Response:
        """2-3: with an ID token of this user as the hint, the session ends at once; otherwise the user confirms
        (a page with a CSRF-bound form), as the spec requires, so no third party can sign anyone out. Then to the
        client's registered post_logout_redirect_uri (with its state), or this server's signed-out page."""
        try:
            form = request.form() if request.method == "POST" else {}
            params = form if request.method == "POST" else dict(request.query)
            logout = parse_logout({k: v for k, v in params.items() if k != "_token"}, clients=self.ctx.clients,
                                  id_tokens=self.ctx.id_tokens)
        except PageError as error:
            return error_page(error.title, error.message, error.status)
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)
        signed_in = self.current(request)
        if signed_in is not None:
            session, user = signed_in
            confirmed = request.method == "POST" and _same_equal(single(form, "_token"), session.csrf)
            if not confirmed and logout.subject != user.id:
                return page("logout_confirm.html", app_name=self.ctx.app_name, user_email=user.email,
                            client_name=logout.client.name if logout.client else "", csrf=session.csrf,
                            action=self.ctx.url("/oauth/logout"), params=logout.params,
                            form_redirect=logout.redirect)
            self.ctx.sessions.delete(session.session_hash)
        cookies = [_cookie(self.ctx, self.ctx.session_cookie, "", 0),
                   _cookie(self.ctx, XSRF_COOKIE, "", 0, http_only=False)]
        if logout.redirect:
            return _see_other(logout.redirect, cookies)
        return page("logged_out.html", app_name=self.ctx.app_name, login_url=self.ctx.url("/login"), cookies=cookies)

    def handle(self, request: Request) -> Response:
        try:
            if request.path == "/oauth/logout":
                return self.end_session(request)
            if request.path.startswith("/oauth/device"):
                try:
                    return self.device(request)
                except PageError as error:
                    return error_page(error.title, error.message, error.status)
                except _DeviceRetry as retry:
                    return self._device_form(error=retry.message, status=retry.status)
                except OAuthError as error:
                    return error_page("Invalid request", error.description, 400)
            if request.path == "/oauth/authorize":
                return self.authorize(request)
            if request.path == "/login":
                return self.login(request)
            return self.logout(request)
        except StorageUnavailable:
            response = error_page("Temporarily unavailable", "Please try again in a moment.", 503)
            response.headers["Retry-After"] = "1"
            return response
