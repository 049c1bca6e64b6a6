"""``/oauth/device`` and ``/oauth/device/authorize``: the signed-in user types the code a device shows and approves
or denies it (RFC 8628 3.3). Guessing codes is throttled per address and per user (RFC 8628 5.1).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from passport.core.authorization import PageError
from passport.core.device import display_user_code, normalize_user_code
from passport.core.errors import OAuthError
from passport.core.http import Request, Response, single
from passport.core.models import DEVICE_PENDING, DeviceAuthorization, Session, User
from passport.endpoints.browser import BrowserContext, same_secret, see_other
from passport.web.render import error_page, page

ScopeRows = Callable[[tuple[str, ...], User], dict[str, list[dict[str, str]]]]


class _DeviceRetry(Exception):
    """A typed user code that does not lead anywhere: the form again, with a message."""

    def __init__(self, message: str, status: int, wait: int) -> None:
        super().__init__(message)
        self.message, self.status, self.wait = message, status, wait


class DevicePages:
    def __init__(self, ctx: BrowserContext, scope_rows: ScopeRows) -> None:
        """``scope_rows``: the consent page's lists, as the authorization pages make them."""
        self.ctx = ctx
        self._scope_rows = scope_rows

    def handle(self, request: Request) -> Response:
        try:
            return self._device(request)
        except PageError as error:
            return error_page(error.title, error.message, error.status)
        except _DeviceRetry as retry:
            return self._device_form(error=retry.message, status=retry.status)
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def _device(self, request: Request) -> Response:
        signed_in = self.ctx.current(request)
        if signed_in is None:
            query = urlencode({k: v[0] for k, v in request.query.items() if v})
            here = self.ctx.url(request.path + (f"?{query}" if query else ""))
            return see_other(self.ctx.url("/login?" + urlencode({"next": here})))
        session, user = signed_in
        if request.path == "/oauth/device":
            code = single(request.query, "user_code")
            if code:
                return see_other(self.ctx.url("/oauth/device/authorize?" + urlencode({"user_code": code})))
            return self._device_form()
        if request.method == "GET":
            return self._device_confirm(request, single(request.query, "user_code"), session, user)
        form = request.form()
        if not same_secret(single(form, "_token"), session.csrf):
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
            document_host="", only_loopback=False,  # a device's client is never a metadata document's
            user_email=user.email, csrf=session.csrf, action=self.ctx.url("/oauth/device/authorize"),
            logout_action=self.ctx.url("/logout"), **self._scope_rows(device.scopes, user),
            # The code as typed (it found the record): the store keeps only its hash.
            params={"user_code": display_user_code(normalize_user_code(typed) or "")}, resources=[],
        )
