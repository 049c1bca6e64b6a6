"""The browser pages of the ``authorize`` function, by path, each flow in a module of its own: authorization and
consent (:mod:`~passport.endpoints.consent`), sign-in (:mod:`~passport.endpoints.sign_in`), sign-out and
RP-initiated logout (:mod:`~passport.endpoints.logout`), device confirmation
(:mod:`~passport.endpoints.device_pages`), on what they share (:mod:`~passport.endpoints.browser`).
"""

from __future__ import annotations

from passport.core.errors import StorageUnavailable
from passport.core.http import Request, Response
from passport.core.models import Session, User
from passport.endpoints.browser import BrowserContext
from passport.endpoints.consent import AuthorizationPages
from passport.endpoints.device_pages import DevicePages
from passport.endpoints.logout import LogoutPages
from passport.endpoints.sign_in import SignInPages
from passport.web.render import error_page


class BrowserEndpoints:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx = ctx
        self.authorization = AuthorizationPages(ctx)
        self.sign_in = SignInPages(ctx, self.authorization.validate)
        self.logout = LogoutPages(ctx)
        self.devices = DevicePages(ctx, self.authorization.scope_rows)

    def current(self, request: Request) -> tuple[Session, User] | None:
        """The signed-in session and its user (the account API reads it too)."""
        return self.ctx.current(request)

    def handle(self, request: Request) -> Response:
        try:
            if request.path == "/oauth/logout":
                return self.logout.end_session(request)
            if request.path.startswith("/oauth/device"):
                return self.devices.handle(request)
            if request.path == "/oauth/authorize":
                return self.authorization.authorize(request)
            if request.path == "/login":
                return self.sign_in.login(request)
            return self.logout.logout(request)
        except StorageUnavailable:
            response = error_page("Temporarily unavailable", "Please try again in a moment.", 503)
            response.headers["Retry-After"] = "1"
            return response
