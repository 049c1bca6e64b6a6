"""Signing out: ``/logout`` (the account's own form) and ``/oauth/logout``, RP-initiated logout (OpenID Connect
RP-Initiated Logout 1.0).
"""

from __future__ import annotations

from passport.core.authorization import PageError
from passport.core.errors import OAuthError
from passport.core.http import Request, Response, single
from passport.core.oidc.logout import parse_logout
from passport.endpoints.browser import BrowserContext, same_secret, see_other
from passport.web.render import error_page, page


class LogoutPages:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx = ctx

    def logout(self, request: Request) -> Response:
        """``POST /logout``: ends this browser's session (the form carries its CSRF token)."""
        try:
            form = request.form()
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)
        signed_in = self.ctx.current(request)
        if signed_in is not None:
            session, _ = signed_in
            if not same_secret(single(form, "_token"), session.csrf):
                return error_page("Request refused", "The form expired. Please try again.", 403)
            self.ctx.sessions.delete(session.session_hash)
        return self._signed_out(self.ctx.signed_out_cookies())

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
        signed_in = self.ctx.current(request)
        if signed_in is not None:
            session, user = signed_in
            confirmed = request.method == "POST" and same_secret(single(form, "_token"), session.csrf)
            if not confirmed and logout.subject != user.id:
                return page("logout_confirm.html", app_name=self.ctx.app_name, user_email=user.email,
                            client_name=logout.client.name if logout.client else "", csrf=session.csrf,
                            action=self.ctx.url("/oauth/logout"), params=logout.params,
                            form_redirect=logout.redirect)
            self.ctx.sessions.delete(session.session_hash)
        set_cookies = self.ctx.signed_out_cookies()
        if logout.redirect:
            return see_other(logout.redirect, set_cookies)
        return self._signed_out(set_cookies)

    def _signed_out(self, set_cookies: list[str]) -> Response:
        return page("logged_out.html", app_name=self.ctx.app_name, login_url=self.ctx.url("/login"),
                    cookies=set_cookies)
