"""What every page flow shares (docs/http.md): the composed context, cookies, the signed-in session, CSRF, and
redirects.

Sessions are server-side (the cookie holds 256 random bits; the store holds their hash) and revocable. Forms carry
a CSRF token: the session's for signed-in forms, a double-submit cookie for the login form. Every redirect after a
form POST is a 303 (RFC 9700 4.12), so the browser never re-sends the form to the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from passport.core.clients import LOOPBACK_HOSTS
from passport.core.hashing import hash_secret
from passport.core.http import Request, Response
from passport.core.models import Session, User
from passport.core.tokens import AccessTokenIssuer
from passport.core.users import UserProvider
from passport.jws import TokenVerifier
from passport.ports import ClientStore, Consents, Devices, GrantStore, LoginThrottle, Sessions

if TYPE_CHECKING:
    from passport.core.par import PushedAuthorizations

#: Laravel's convention for the JSON API: scripts read it and echo it as X-XSRF-TOKEN.
XSRF_COOKIE = "XSRF-TOKEN"
#: Longer session cookies are no cookie of ours: never looked up.
MAX_SESSION_ID = 128


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
    #: Pushed authorization requests (RFC 9126 4): their request_uri, who must push, spending them once.
    pushed: PushedAuthorizations | None = None
    #: The server's ``security_profile`` (passport.core.profile): with a client's own, what it is held to.
    security_profile: str = "baseline"

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

    def cookie(self, name: str, value: str, max_age: int, *, http_only: bool = True) -> str:
        """A ``Set-Cookie`` value: host-wide, Lax, Secure unless on plain-http loopback."""
        secure = "; Secure" if self.secure_cookies else ""
        http = "; HttpOnly" if http_only else ""
        return f"{name}={value}; Path=/; Max-Age={max_age}{http}; SameSite=Lax{secure}"

    def signed_out_cookies(self) -> list[str]:
        """The session and XSRF cookies, cleared."""
        return [self.cookie(self.session_cookie, "", 0), self.cookie(XSRF_COOKIE, "", 0, http_only=False)]

    def current(self, request: Request) -> tuple[Session, User] | None:
        """The signed-in session and its user, or None; the session carries its CSRF token (derived again from
        the cookie: the store keeps only hashes)."""
        sid = cookies(request).get(self.session_cookie)
        if not sid or len(sid) > MAX_SESSION_ID:
            return None
        session = self.sessions.get(hash_secret(sid))
        if session is None:
            return None
        user = self.users.get(session.user_id)
        return (replace(session, csrf=session_csrf(sid)), user) if user is not None else None


def cookies(request: Request) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def see_other(location: str, set_cookies: list[str] | None = None) -> Response:
    """303 (RFC 9700 4.12: never 307, which would re-post the form), never cached."""
    return Response(303, {"Location": location, "Cache-Control": "no-store"}, "", list(set_cookies or []))


def same_secret(a: str | None, b: str | None) -> bool:
    """Both given and equal, compared in constant time."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def session_csrf(sid: str) -> str:
    """The session's CSRF token, derived from the cookie value rather than kept in the store: the session record
    (and any DEBUG log of what is sent to DynamoDB) then holds only hashes, and the token, which pages show,
    cannot be turned back into the cookie."""
    digest = hmac.new(sid.encode("utf-8"), b"passport session csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def local_path(value: str | None) -> str | None:
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
