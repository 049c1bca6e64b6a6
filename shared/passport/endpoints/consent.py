"""``/oauth/authorize``: the authorization request, the consent page and the user's answer (RFC 6749 4.1.1-4.1.2,
4.2.2; RFC 9207; RFC 8707; OpenID Connect Core 3.1.2.1). GET shows consent (or signs the user in first, or answers
at once when consent is remembered); POST approves, DELETE (or ``_method=DELETE``) denies.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

from passport.core.authorization import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    error_redirect,
    redirect_to,
    validate,
)
from passport.core.errors import OAuthError
from passport.core.hashing import hash_secret
from passport.core.http import Request, Response, single
from passport.core.models import AuthorizationCode, Session, User
from passport.core.oidc.claims import IDENTITY_SCOPES, shared_with, wants_id_token
from passport.core.scopes import satisfies
from passport.endpoints.browser import BrowserContext, same_secret, see_other
from passport.web.render import error_page, page


def consented_resources(auth: AuthorizationRequest) -> tuple[str, ...]:
    """The resources a consent covers, kept beside its scopes as ``resource:<uri>`` (never a scope name: those
    cannot hold a colon followed by //)."""
    return tuple(f"resource:{resource}" for resource in auth.resources)


def resource_pairs(auth: AuthorizationRequest) -> list[tuple[str, str]]:
    """RFC 8707's ``resource``, which may repeat: carried as one pair each."""
    return [("resource", resource) for resource in auth.resources]


class AuthorizationPages:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx = ctx

    def authorize(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                return self._authorize_get(request)
            form = request.form()
            deny = request.method == "DELETE" or single(form, "_method") in ("DELETE", "delete")
            return self._decision(request, form, approve=not deny)
        except PageError as error:
            return error_page(error.title, error.message, error.status)
        except RedirectError as failure:
            return see_other(error_redirect(failure, self.ctx.issuer))
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def validate(self, params: dict[str, list[str]]) -> AuthorizationRequest:
        return validate(
            params, clients=self.ctx.clients, scopes=self.ctx.scope_policy,  # type: ignore[arg-type]
            response_types=self.ctx.response_types, resources=self.ctx.resources,
        )

    def scope_rows(self, scopes: tuple[str, ...], user: User) -> dict[str, list[dict[str, str]]]:
        """The consent page's two lists: what the client learns about the user (the identity scopes, with the
        values it will get) and what it may do (every other scope, described)."""
        return {
            "identity": shared_with(user, scopes) if wants_id_token(scopes) else [],
            "scopes": [{"name": s, "description": self.ctx.scopes.get(s, s)} for s in scopes
                       if not (s in IDENTITY_SCOPES and s not in self.ctx.scopes)],
        }

    def _authorize_get(self, request: Request) -> Response:
        auth = self.validate(dict(request.query))
        signed_in = self.ctx.current(request)
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
        resume = self.ctx.url("/oauth/authorize?" + urlencode([*params.items(), *resource_pairs(auth)]))
        login = {"next": resume, **({"prompt": "login"} if forced else {})}
        return see_other(self.ctx.url("/login?" + urlencode(login)))

    def _consent_needed(self, auth: AuthorizationRequest, user: User) -> bool:
        if "consent" in auth.prompt:
            return True
        if auth.client.first_party:
            return False
        granted = self.ctx.consents.granted(user.id, auth.client.client_id)
        if granted is None or not all(satisfies(granted, s, inherit=self.ctx.inherit) for s in auth.scopes):
            return True
        # RFC 8707: consent to an API is not consent to another one the client names.
        return not all(entry in granted for entry in consented_resources(auth))

    def _consent_page(self, auth: AuthorizationRequest, session: Session, user: User) -> Response:
        return page(
            "consent.html", app_name=self.ctx.app_name, client_name=auth.client.name, user_name=user.name,
            vetted=auth.client.vetted, registered=auth.client.registered, client_uri=auth.client.client_uri or "",
            user_email=user.email, csrf=session.csrf, action=self.ctx.url("/oauth/authorize"),
            logout_action=self.ctx.url("/logout"), **self.scope_rows(auth.scopes, user),
            # prompt and max_age were for this GET; the form's answer must not ask for them again
            params={k: v for k, v in auth.params.items() if k not in ("prompt", "max_age")},
            resources=list(auth.resources), form_redirect=auth.redirect_uri,
        )

    def _decision(self, request: Request, form: dict[str, list[str]], approve: bool) -> Response:
        signed_in = self.ctx.current(request)
        if signed_in is None:
            raise PageError("Signed out", "Your session ended before you answered. Go back to the app and start again.",
                            401)
        session, user = signed_in
        if not same_secret(single(form, "_token"), session.csrf):
            raise PageError("Request refused", "The form expired or did not come from this site. Please try again.",
                            403)
        auth = self.validate({k: v for k, v in form.items() if k not in ("_token", "_method")})
        if not approve:
            raise RedirectError(auth, OAuthError("access_denied", "The user denied the request."))
        self.ctx.consents.remember(user.id, auth.client.client_id, auth.scopes + consented_resources(auth))
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
        return see_other(redirect_to(auth.redirect_uri, {"code": code, "state": auth.state, "iss": self.ctx.issuer}))

    def _implicit(self, auth: AuthorizationRequest, user: User) -> Response:
        """RFC 6749 4.2.2: the token in the fragment, never a refresh token. Off unless configured: RFC 9700
        2.1.2 says clients SHOULD NOT use it (the token sits in browser history and leaks to scripts)."""
        assert self.ctx.implicit_issuer is not None  # response_types offers "token" only when it is set
        issued = self.ctx.implicit_issuer.issue(
            client_id=auth.client.client_id, scopes=auth.scopes, grant_type="implicit", user_id=user.id,
            resources=auth.resources,
        )
        return see_other(redirect_to(auth.redirect_uri, {
            "access_token": issued.access_token, "token_type": "Bearer", "expires_in": str(issued.expires_in),
            "scope": " ".join(issued.scopes), "state": auth.state, "iss": self.ctx.issuer,
        }, fragment=True))
