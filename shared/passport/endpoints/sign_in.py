"""``/login``: the sign-in form and its answer, which starts a session (docs/http.md; RFC 9700 4.11, 4.13).

Failed sign-ins are throttled per account and per address; the address counter survives a good password, so one
success cannot reset a spray across many accounts. ``next`` is reduced to a path on this site.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from passport.core.authorization import AuthorizationRequest, PageError, RedirectError
from passport.core.errors import OAuthError
from passport.core.hashing import hash_secret, new_secret
from passport.core.http import Request, Response, single
from passport.core.models import Session
from passport.core.users import check_credentials
from passport.endpoints.browser import (
    MAX_SESSION_ID,
    XSRF_COOKIE,
    BrowserContext,
    cookies,
    local_path,
    same_secret,
    see_other,
    session_csrf,
)
from passport.web.render import error_page, page

Validate = Callable[[dict[str, list[str]]], AuthorizationRequest]


class SignInPages:
    def __init__(self, ctx: BrowserContext, validate: Validate) -> None:
        """``validate``: the authorization request's checks, to know where a sign-in that resumes one may end."""
        self.ctx = ctx
        self._validate = validate

    def login(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                forced = single(request.query, "prompt") == "login"
                return self._login_form(request, local_path(single(request.query, "next")), forced=forced)
            return self._login_submit(request)
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def _login_form(self, request: Request, next_path: str | None, *, email: str = "", error: str | None = None,
                    status: int = 200, headers: dict[str, str] | None = None, forced: bool = False) -> Response:
        signed_in = self.ctx.current(request)
        if signed_in is not None and forced and not email:
            email = signed_in[1].email  # signing in again (prompt=login, max_age): most likely as the same user
        if signed_in is not None and error is None and not forced:
            if next_path:
                return see_other(next_path)
            _, user = signed_in
            return error_page("Signed in", f"You are signed in as {user.email}.", 200)
        token = cookies(request).get(self.ctx.login_csrf_cookie) or new_secret(24)
        return page(
            "login.html", status=status, headers=headers, app_name=self.ctx.app_name, action=self.ctx.url("/login"),
            next=next_path or "", csrf=token, email=email, error=error,
            cookies=[self.ctx.cookie(self.ctx.login_csrf_cookie, token, 3600)],
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
        next_path = local_path(single(form, "next"))
        email = (single(form, "email") or "").strip()
        password = single(form, "password") or ""
        if not same_secret(single(form, "_token"), cookies(request).get(self.ctx.login_csrf_cookie)):
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
        previous = cookies(request).get(self.ctx.session_cookie)
        if previous and len(previous) <= MAX_SESSION_ID:
            # Signed in again (prompt=login, max_age): one session per browser. Deleted by its key alone, with no
            # read of the session or its user first.
            self.ctx.sessions.delete(hash_secret(previous))
        sid = new_secret()
        now = int(time.time())
        csrf = session_csrf(sid)
        # The store keeps the token's hash only (BrowserContext.current() derives the token again from the cookie).
        self.ctx.sessions.create(Session(hash_secret(sid), user.id, now, now + self.ctx.session_lifetime,
                                         hash_secret(csrf)))
        set_cookies = [self.ctx.cookie(self.ctx.session_cookie, sid, self.ctx.session_lifetime),
                       self.ctx.cookie(self.ctx.login_csrf_cookie, "", 0),
                       self.ctx.cookie(XSRF_COOKIE, csrf, self.ctx.session_lifetime, http_only=False)]
        return see_other(next_path or self.ctx.url("/login"), set_cookies)
