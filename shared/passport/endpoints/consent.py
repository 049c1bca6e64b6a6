"""``/oauth/authorize``: the authorization request, the consent page and the user's answer (RFC 6749 4.1.1-4.1.2,
4.2.2; RFC 9207; RFC 8707; OpenID Connect Core 3.1.2.1). GET shows consent (or signs the user in first, or answers
at once when consent is remembered). POST is either (3.1.2.1: the endpoint "MUST support the use of the HTTP GET
and POST methods"): the consent form's answer, recognised by the fields only that form carries (its CSRF token
``_token``, and ``_method``) and refused without the session's token, or else a relying party's authorization
request, its form body read exactly as a GET's query. DELETE (or ``_method=DELETE``) denies.

The answer goes back in the response mode asked: a 303 to the redirect URI with the query or the fragment, or an
HTML page that posts it (OAuth 2.0 Form Post Response Mode 2).
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

from passport.core.authorization import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    error_parameters,
    redirect_to,
    validate,
)
from passport.core.errors import OAuthError
from passport.core.hashing import hash_secret
from passport.core.http import Request, Response, single
from passport.core.models import AuthorizationCode, Client, Session, User
from passport.core.oidc.claims import IDENTITY_SCOPES, claim_values, covered, shared_with, wants_id_token
from passport.core.scopes import satisfies
from passport.endpoints.browser import BrowserContext, same_secret, see_other
from passport.web.render import error_page, page


def consented_resources(auth: AuthorizationRequest) -> tuple[str, ...]:
    """The resources a consent covers, kept beside its scopes as ``resource:<uri>`` (never a scope name: those
    cannot hold a colon followed by //)."""
    return tuple(f"resource:{resource}" for resource in auth.resources)


def consented_claims(auth: AuthorizationRequest) -> tuple[str, ...]:
    """The claims a consent covers beyond its identity scopes (OpenID Connect Core 5.5), kept as ``claim:<name>``
    as resources are."""
    if auth.claims is None or not wants_id_token(auth.scopes):
        return ()
    scoped = covered(auth.scopes)
    return tuple(f"claim:{name}" for name in auth.claims.names if name not in scoped)


def resource_pairs(auth: AuthorizationRequest) -> list[tuple[str, str]]:
    """RFC 8707's ``resource``, which may repeat: carried as one pair each."""
    return [("resource", resource) for resource in auth.resources]


class AuthorizationPages:
    def __init__(self, ctx: BrowserContext) -> None:
        self.ctx = ctx

    def authorize(self, request: Request) -> Response:
        try:
            if request.method == "GET":
                return self._authorize_get(request, dict(request.query))
            form = request.form()
            if request.method == "POST" and "_token" not in form and "_method" not in form:
                # OpenID Connect Core 3.1.2.1: an authorization request sent by POST. It can do nothing a GET with
                # the same parameters cannot; what approves is only ever a form carrying the session's token.
                return self._authorize_get(request, form)
            deny = request.method == "DELETE" or single(form, "_method") in ("DELETE", "delete")
            return self._decision(request, form, approve=not deny)
        except PageError as error:
            return error_page(error.title, error.message, error.status)
        except RedirectError as failure:
            try:
                self._spend(failure.request)  # an error or a denial decides a pushed request too (RFC 9126 4)
            except PageError as error:
                return error_page(error.title, error.message, error.status)
            return self._respond(failure.request, error_parameters(failure, self.ctx.issuer))
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)

    def validate(self, params: dict[str, list[str]]) -> AuthorizationRequest:
        return validate(
            params, clients=self.ctx.clients, scopes=self.ctx.scope_policy,  # type: ignore[arg-type]
            response_types=self.ctx.response_types, resources=self.ctx.resources, issuer=self.ctx.issuer,
            pushed=self.ctx.pushed, server_profile=self.ctx.security_profile,
        )

    def _spend(self, auth: AuthorizationRequest) -> None:
        """A pushed request is decided once (RFC 9126 4): spent as its answer goes to the client, so a second
        answer, or a second authorization with the same request_uri, is refused; until then the consent page can
        be reloaded."""
        if auth.request_uri is not None and self.ctx.pushed is not None:
            self.ctx.pushed.spend(auth)

    def _respond(self, auth: AuthorizationRequest, params: dict[str, str | None]) -> Response:
        """The authorization response (or error) in the request's response mode: a 303 with the query or the
        fragment (Multiple Response Type Encoding Practices 2.1), or form_post's page (Form Post Response Mode 2:
        a form of the parameters, "auto-submitted" to the redirect URI, with a button where scripts do not run)."""
        if auth.response_mode != "form_post":
            return see_other(redirect_to(auth.redirect_uri, params, fragment=auth.fragment))
        fields = {name: value for name, value in params.items() if value is not None}
        return page("form_post.html", app_name=self.ctx.app_name, client_name=auth.client.name,
                    action=auth.redirect_uri, fields=fields, form_redirect=auth.redirect_uri, script=True)

    def scope_rows(
        self, scopes: tuple[str, ...], user: User, claims: tuple[str, ...] = ()
    ) -> dict[str, list[dict[str, str]]]:
        """The consent page's two lists: what the client learns about the user (the identity scopes, with the
        values it will get, and the claims asked one by one, OpenID Connect Core 5.5) and what it may do (every
        other scope, described)."""
        return {
            "identity": shared_with(user, scopes, claims) if wants_id_token(scopes) else [],
            "scopes": [{"name": s, "description": self.ctx.scopes.get(s, s)} for s in scopes
                       if not (s in IDENTITY_SCOPES and s not in self.ctx.scopes)],
        }

    def _authorize_get(self, request: Request, params: dict[str, list[str]]) -> Response:
        auth = self.validate(params)
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
        """prompt=login or select_account, or a sign-in older than max_age (OpenID Connect Core 3.1.2.1). The way
        back from the sign-in page cannot drop them from a pushed request (RFC 9126 4: its parameters are the
        pushed ones), so there a sign-in after the push is the one they asked for. auth_time has whole seconds: a
        sign-in within the second of the push does not count (it may have come first), and is asked again."""
        signed_in_since_push = auth.request_uri is not None and session.auth_time > auth.pushed_at
        if auth.prompt & {"login", "select_account"} and not signed_in_since_push:
            return True
        if auth.max_age is None:
            return False
        # Errata set 2: "max_age=0 is equivalent to prompt=login" (auth_time has whole seconds, so a sign-in in
        # this very second would otherwise pass).
        if auth.max_age == 0:
            return not signed_in_since_push
        return int(time.time()) - session.auth_time > auth.max_age

    def _to_login(self, auth: AuthorizationRequest, *, forced: bool) -> Response:
        """To the sign-in page, then back to this request. The way back drops what the sign-in satisfies
        (prompt=login and select_account, max_age=0), or it would send the user to sign in again forever; a
        positive max_age stays, and a sign-in a moment ago meets it. A pushed request's way back is its client_id
        and request_uri (RFC 9126 4)."""
        if auth.request_uri is not None:
            resume = self.ctx.url("/oauth/authorize?" + urlencode(auth.params))
            login = {"next": resume, **({"prompt": "login"} if forced else {})}
            return see_other(self.ctx.url("/login?" + urlencode(login)))
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
        # RFC 8707: consent to an API is not consent to another one the client names; nor consent to some claims
        # consent to others (OpenID Connect Core 5.5).
        return not all(entry in granted for entry in consented_resources(auth) + consented_claims(auth))

    def _new_rows(self, auth: AuthorizationRequest, user: User) -> dict[str, list[dict[str, str]]]:
        """The consent page's lists without the scopes the user already granted this client: a client asking again
        for more (a step-up, with the scopes it holds) is asked only about what is new, prompt=consent included
        (which MCP clients send with offline_access, OpenID Connect Core 11). With nothing new (prompt=consent
        alone, or a new resource alone), every scope is shown."""
        rows = self.scope_rows(auth.scopes, user, auth.claims.names if auth.claims else ())
        granted = self.ctx.consents.granted(user.id, auth.client.client_id) or ()
        old = {s for s in auth.scopes if satisfies(granted, s, inherit=self.ctx.inherit)}
        if not old or old == set(auth.scopes):
            return rows
        return {name: [row for row in listed if row["name"] not in old] for name, listed in rows.items()}

    def _consent_page(self, auth: AuthorizationRequest, session: Session, user: User) -> Response:
        return page(
            "consent.html", app_name=self.ctx.app_name, client_name=auth.client.name, user_name=user.name,
            vetted=auth.client.vetted, registered=auth.client.registered, client_uri=auth.client.client_uri or "",
            **document_notice(auth.client),
            user_email=user.email, csrf=session.csrf, action=self.ctx.url("/oauth/authorize"),
            logout_action=self.ctx.url("/logout"), **self._new_rows(auth, user),
            # prompt and max_age were for this GET; the form's answer must not ask for them again
            params={k: v for k, v in auth.params.items() if k not in ("prompt", "max_age")},
            resources=list(auth.resources), form_redirect=auth.redirect_uri,
            # A pushed request's form carries client_id and request_uri only (RFC 9126 4), and still says where
            # the answer goes.
            pushed=auth.request_uri is not None,
            sent_back_to=auth.redirect_uri if auth.redirect_uri_sent else "",
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
        self.ctx.consents.remember(user.id, auth.client.client_id,
                                   auth.scopes + consented_resources(auth) + consented_claims(auth))
        return self._approve(auth, session, user)

    def _approve(self, auth: AuthorizationRequest, session: Session, user: User) -> Response:
        if auth.claims is not None:
            from passport.core.oidc.claims_request import requested_sub

            wanted = requested_sub(auth.claims)
            if wanted is not None and wanted != user.id:
                # OpenID Connect Core 5.5.1: never an answer about another user than the sub asked for.
                raise RedirectError(auth, OAuthError("login_required", "The signed-in user is not the one asked for."))
        self._spend(auth)  # before anything is issued: of two answers to one pushed request, one issues
        if auth.response_type == "token":
            return self._implicit(auth, user)
        code = secrets.token_urlsafe(32)
        now = int(time.time())
        userinfo_claims: tuple[str, ...] = ()
        id_token_claims: dict[str, object] = {}
        if auth.claims is not None and wants_id_token(auth.scopes):
            # 5.5: claims asked of the ID token are read now, at approval (the token function reads no user);
            # those asked of userinfo by name only, read when userinfo is called.
            userinfo_claims = auth.claims.user_claims("userinfo")
            values = claim_values(user)
            id_token_claims = {name: values[name] for name in auth.claims.user_claims("id_token") if name in values}
        self.ctx.grants.save_code(AuthorizationCode(
            code_hash=hash_secret(code), client_id=auth.client.client_id, user_id=user.id,
            redirect_uri=auth.redirect_uri, redirect_uri_sent=auth.redirect_uri_sent, scopes=auth.scopes,
            expires_at=now + min(self.ctx.code_lifetime, auth.code_lifetime or self.ctx.code_lifetime),
            auth_time=session.auth_time, challenge=auth.challenge, nonce=auth.nonce, resources=auth.resources,
            userinfo_claims=userinfo_claims, id_token_claims=id_token_claims, acr=auth.acr, dpop_jkt=auth.dpop_jkt,
        ))
        return self._respond(auth, {"code": code, "state": auth.state, "iss": self.ctx.issuer})

    def _implicit(self, auth: AuthorizationRequest, user: User) -> Response:
        """RFC 6749 4.2.2: the token in the fragment, never a refresh token. Off unless configured: RFC 9700
        2.1.2 says clients SHOULD NOT use it (the token sits in browser history and leaks to scripts)."""
        assert self.ctx.implicit_issuer is not None  # response_types offers "token" only when it is set
        issued = self.ctx.implicit_issuer.issue(
            client_id=auth.client.client_id, scopes=auth.scopes, grant_type="implicit", user_id=user.id,
            resources=auth.resources,
        )
        return self._respond(auth, {
            "access_token": issued.access_token, "token_type": "Bearer", "expires_in": str(issued.expires_in),
            "scope": " ".join(issued.scopes), "state": auth.state, "iss": self.ctx.issuer,
        })


def document_notice(client: Client) -> dict[str, object]:
    """What the consent page says of a client that a metadata document describes (the MCP authorization spec,
    Security Considerations, "Localhost Redirect URI Risks": the redirect URI's host shown clearly, and a warning
    when every redirect URI is on this device, where any app can listen)."""
    if not client.from_document:
        return {"document_host": "", "only_loopback": False}
    from urllib.parse import urlsplit

    from passport.core.client_documents import only_loopback

    return {"document_host": urlsplit(client.client_id).hostname or "",
            "only_loopback": only_loopback(client.redirect_uris)}
