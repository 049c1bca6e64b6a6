"""The signed-in user's JSON API (Laravel Passport's JSON API; docs/http.md): the defined scopes, the user's
personal access tokens, the apps they authorized and the clients they made. Authenticated by the browser
session; every state-changing call must send ``X-XSRF-TOKEN`` equal to the ``XSRF-TOKEN`` cookie (Laravel's
convention), which holds the session's CSRF token, so another site cannot make the user's browser call it."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from passport.core.clients import InvalidClientMetadata, InvalidRedirectUri, changed_client, new_client
from passport.core.errors import OAuthError, StorageUnavailable
from passport.core.hashing import hash_secret, new_secret
from passport.core.http import NO_STORE, Headers, MalformedJson, Request, Response, json_response, parse_json
from passport.core.models import AccessTokenRecord, Client, Session, User
from passport.core.personal_access import NoPersonalAccessClient, PersonalAccessTokens
from passport.ports import ClientStore, Consents, GrantStore

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status, NO_STORE)


def _refused(error: InvalidClientMetadata) -> Response:
    """A client the rules refuse (:mod:`passport.core.clients`, the same for every way a client is made): 422
    with RFC 7591 3.2.2's error code, as the JSON API answers what it cannot do as asked."""
    code = "invalid_redirect_uri" if isinstance(error, InvalidRedirectUri) else "invalid_client_metadata"
    return _error(422, code, str(error))


def _token_json(record: AccessTokenRecord) -> dict[str, Any]:
    return {"token_id": record.jti, "name": record.name, "scopes": list(record.scopes),
            "created_at": record.issued_at, "expires_at": record.expires_at}


class AccountApi:
    def __init__(
        self, *, current: Callable[[Request], tuple[Session, User] | None], scopes: dict[str, str],
        personal: Callable[[], PersonalAccessTokens], clients: ClientStore, grants: GrantStore, consents: Consents,
        app_name: str = "lambda-passport", base_path: str = "",
    ) -> None:
        self._current = current
        self._scopes = scopes
        self._personal = personal
        self._clients = clients
        self._grants = grants
        self._consents = consents
        self._app_name = app_name
        self._base_path = base_path

    def handle(self, request: Request) -> Response:
        if request.path == "/account":
            return self._page(request)
        try:
            signed_in = self._current(request)
            if signed_in is None:
                return _error(401, "unauthenticated", "Sign in first.")
            session, user = signed_in
            if request.method not in SAFE_METHODS:
                sent = request.headers.get("x-xsrf-token", "")
                if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                    return _error(403, "xsrf_token_mismatch", "Send the XSRF-TOKEN cookie's value as X-XSRF-TOKEN.")
            if request.path == "/oauth/scopes":
                return json_response([{"id": k, "description": v} for k, v in self._scopes.items()], headers=NO_STORE)
            if request.path.startswith("/oauth/tokens"):
                return self._authorized_apps(request, user)
            if request.path.startswith("/oauth/clients"):
                return self._my_clients(request, user)
            return self._personal_tokens(request, user)
        except OAuthError as error:
            return _error(422 if error.error in ("invalid_request", "invalid_scope") else error.status,
                          error.error, error.description)
        except NoPersonalAccessClient as error:
            return _error(500, "server_error", str(error))
        except StorageUnavailable:
            response = _error(503, "temporarily_unavailable", "Try again in a moment.")
            response.headers["Retry-After"] = "1"
            return response

    # -- /account: the HTML page over this API (no script: forms, each with the session's CSRF token) ------------

    def _page(self, request: Request) -> Response:
        from passport.web.render import error_page, page

        try:
            signed_in = self._current(request)
            if signed_in is None:
                return Response(303, {"Location": self._url("/login?next=" + quote(self._url("/account"), safe="")),
                                      "Cache-Control": "no-store"})
            session, user = signed_in
            shown: dict[str, str] = {}
            if request.method == "POST":
                form = request.form()
                if not hmac.compare_digest(((form.get("_token") or [""])[0]).encode(), session.csrf.encode()):
                    return error_page("Request refused", "The form expired. Please try again.", 403)
                answer = self._page_action(form, user)
                if answer.status >= 400:
                    return error_page("Could not do that", json.loads(answer.body).get("error_description", ""),
                                      answer.status)
                if answer.status != 201:
                    return Response(303, {"Location": self._url("/account"), "Cache-Control": "no-store"})
                made = json.loads(answer.body)
                shown = ({"label": "Your new personal access token", "value": made["access_token"]}
                         if "access_token" in made else
                         {"label": f"The secret of {made['name']}", "value": made.get("client_secret") or ""})

            def listed(handler: Callable[[Request, User], Response], path: str) -> list[dict[str, Any]]:
                return json.loads(handler(Request("GET", path), user).body)

            return page(
                "account.html", app_name=self._app_name, user_name=user.name, user_email=user.email,
                csrf=session.csrf, action=self._url("/account"), logout_action=self._url("/logout"),
                apps=listed(self._authorized_apps, "/oauth/tokens"),
                tokens=listed(self._personal_tokens, "/oauth/personal-access-tokens"),
                clients=listed(self._my_clients, "/oauth/clients"),
                scopes=[{"name": k, "description": v} for k, v in self._scopes.items()], shown=shown,
            )
        except OAuthError as error:
            return error_page("Invalid request", error.description, 400)
        except NoPersonalAccessClient as error:
            return error_page("Not set up", str(error), 500)
        except StorageUnavailable:
            response = error_page("Temporarily unavailable", "Please try again in a moment.", 503)
            response.headers["Retry-After"] = "1"
            return response

    def _page_action(self, form: dict[str, list[str]], user: User) -> Response:
        """A form's action, carried out by the JSON API's own handler."""
        action = (form.get("action") or [""])[0]
        target = (form.get("id") or [""])[0]
        body = json.dumps({
            "name": (form.get("name") or [""])[0], "scopes": form.get("scopes") or [],
            "redirect": (form.get("redirect") or [""])[0],
        }).encode()
        json_headers = Headers({"content-type": "application/json"})
        if action == "revoke_app":
            return self._authorized_apps(Request("DELETE", "/oauth/tokens", path_params={"token_id": target}), user)
        if action == "revoke_token":
            return self._personal_tokens(
                Request("DELETE", "/oauth/personal-access-tokens", path_params={"token_id": target}), user)
        if action == "create_token":
            return self._personal_tokens(Request("POST", "/oauth/personal-access-tokens", json_headers, body=body),
                                         user)
        if action == "create_client":
            return self._my_clients(Request("POST", "/oauth/clients", json_headers, body=body), user)
        if action == "delete_client":
            return self._my_clients(Request("DELETE", "/oauth/clients", path_params={"client_id": target}), user)
        if action == "rotate_secret":
            return self._my_clients(
                Request("POST", "/oauth/clients/secret", path_params={"client_id": target}), user)
        if action == "update_client":
            return self._my_clients(
                Request("PUT", "/oauth/clients", json_headers, body=body, path_params={"client_id": target}), user)
        return _error(400, "invalid_request", "Unknown action.")

    def _url(self, path: str) -> str:
        return self._base_path + path

    # -- the apps the user authorized (a token family each) ---------------------------------------------------

    def _authorized_apps(self, request: Request, user: User) -> Response:
        if request.method == "DELETE":
            family = self._grants.get_family(request.path_params.get("token_id", "")[:64])
            if family is None or family.user_id != user.id:
                return _error(404, "not_found", "No such authorization.")
            self._grants.revoke_family(family.family_id, family)
            self._consents.forget(user.id, family.client_id)  # the app must ask again
            return Response(204, dict(NO_STORE))
        listed = []
        names: dict[str, str] = {}
        for family in self._grants.families_of(user.id):
            if family.client_id not in names:
                client = self._clients.get(family.client_id)
                names[family.client_id] = client.name if client and not client.revoked else ""
            if names[family.client_id]:
                listed.append({
                    "id": family.family_id, "client_id": family.client_id,
                    "client": {"id": family.client_id, "name": names[family.client_id]},
                    "scopes": list(family.scopes), "created_at": family.auth_time, "expires_at": family.expires_at,
                })
        return json_response(listed, headers=NO_STORE)

    # -- the clients the user made ------------------------------------------------------------------------------

    def _my_clients(self, request: Request, user: User) -> Response:
        client_id = request.path_params.get("client_id", "")
        if request.method == "GET":
            return json_response([_client_json(c) for c in self._clients.owned_by(user.id) if not c.revoked],
                                 headers=NO_STORE)
        if request.method == "POST" and not client_id:
            body = _body(request)
            try:
                made = new_client(
                    name=_text(body, "name"), grant_types=("authorization_code", "refresh_token"),
                    redirect_uris=_uris(body), public=body.get("confidential") is False, user_id=user.id,
                    defined_scopes=self._scopes, application_type=body.get("application_type", "web"),
                    scopes=_scope_list(body) or (),
                )
            except InvalidClientMetadata as error:
                return _refused(error)
            self._clients.create(made.client)
            return json_response({**_client_json(made.client), "client_secret": made.secret}, 201, NO_STORE)
        current = self._clients.get(client_id[:128]) if client_id else None
        if current is None or current.user_id != user.id or current.revoked:
            return _error(404, "not_found", "No such client.")
        if request.method == "DELETE":
            self._clients.revoke(client_id)
            return Response(204, dict(NO_STORE))
        if request.path.endswith("/secret"):
            if current.public:
                return _error(422, "invalid_request", "A public client has no secret.")
            secret = new_secret()
            if not self._clients.set_secret(client_id, hash_secret(secret), owner=user.id):
                return _error(404, "not_found", "No such client.")
            return json_response({**_client_json(current), "client_secret": secret}, 201, NO_STORE)
        body = _body(request)
        try:
            # Passport's form sends every field: an empty one keeps what the client has.
            changed = changed_client(current, name=_text(body, "name") or None, redirect_uris=_uris(body) or None,
                                     defined_scopes=self._scopes, application_type=body.get("application_type"),
                                     scopes=_scope_list(body))
        except InvalidClientMetadata as error:
            return _refused(error)
        if not self._clients.update(client_id, user.id, name=changed.name, redirect_uris=changed.redirect_uris,
                                    scopes=changed.scopes, application_type=changed.application_type):
            return _error(404, "not_found", "No such client.")
        return json_response(_client_json(changed), headers=NO_STORE)

    def _personal_tokens(self, request: Request, user: User) -> Response:
        tokens = self._personal()
        if request.method == "GET":
            return json_response([_token_json(r) for r in tokens.list(user.id)], headers=NO_STORE)
        if request.method == "DELETE":
            token_id = request.path_params.get("token_id", "")
            if not tokens.revoke(user.id, token_id):
                return _error(404, "not_found", "No such personal access token.")
            return Response(204, dict(NO_STORE))
        body = _body(request)
        scopes = body.get("scopes") or []
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            return _error(422, "invalid_request", "scopes must be a list of scope names.")
        issued = tokens.create(user.id, str(body.get("name") or ""), scopes)
        return json_response({
            "access_token": issued.access_token, "token_id": issued.record.jti, "name": issued.record.name,
            "scopes": list(issued.scopes), "expires_at": issued.record.expires_at,
        }, 201, NO_STORE)


def _client_json(client: Client) -> dict[str, Any]:
    return {"id": client.client_id, "client_id": client.client_id, "name": client.name,
            "redirect_uris": list(client.redirect_uris), "public": client.public, "revoked": client.revoked,
            "created_at": client.created_at, "scopes": list(client.scopes),
            "application_type": client.application_type}


def _scope_list(body: dict[str, Any]) -> tuple[str, ...] | None:
    """The scopes a client is limited to: a ``scopes`` list or a space-separated ``scope`` (RFC 6749 3.3);
    None when neither is sent (the client's list is kept)."""
    value = body.get("scopes", body.get("scope"))
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OAuthError("invalid_request", "scopes must be a list of scope names.")
    return tuple(value)


def _uris(body: dict[str, Any]) -> tuple[str, ...]:
    """Passport's ``redirect`` (comma-separated) or a ``redirect_uris`` list."""
    value = body.get("redirect_uris", body.get("redirect", []))
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OAuthError("invalid_request", "redirect_uris must be a list of URIs.")
    return tuple(value)


def _text(body: dict[str, Any], name: str) -> str:
    """A text member ("" when absent or null); anything else is a 422, never turned into text."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OAuthError("invalid_request", f"{name} must be a string.")
    return value


def _body(request: Request) -> dict[str, Any]:
    """JSON (as Passport's Vue components send) or a form."""
    if request.media_type == "application/json":
        try:
            body = parse_json(request.body or b"{}")
        except MalformedJson as error:
            raise OAuthError("invalid_request", f"The body is not valid JSON: {error}.") from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_request", "The body must be a JSON object.")
        return body
    form = request.form()
    body: dict[str, Any] = {k: v[0] for k, v in form.items() if v and not k.endswith("[]")}
    body["scopes"] = form.get("scopes[]") or form.get("scopes") or []
    if "redirect_uris[]" in form:
        body["redirect_uris"] = form["redirect_uris[]"]
    return body
