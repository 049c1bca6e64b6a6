"""The signed-in user's JSON API (SPEC section 4, Laravel Passport's JSON API): the defined scopes and the
user's personal access tokens. Authenticated by the browser session; every state-changing call must send
``X-XSRF-TOKEN`` equal to the ``XSRF-TOKEN`` cookie (Laravel's convention), which holds the session's CSRF
token, so another site cannot make the user's browser call it."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from passport.core.errors import OAuthError, StorageUnavailable
from passport.core.http import NO_STORE, Request, Response, json_response
from passport.core.models import AccessTokenRecord, Session, User
from passport.core.personal_access import NoPersonalAccessClient, PersonalAccessTokens

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status, NO_STORE)


def _token_json(record: AccessTokenRecord) -> dict[str, Any]:
    return {"token_id": record.jti, "name": record.name, "scopes": list(record.scopes),
            "created_at": record.issued_at, "expires_at": record.expires_at}


class AccountApi:
    def __init__(
        self, *, current: Callable[[Request], tuple[Session, User] | None], scopes: dict[str, str],
        personal: Callable[[], PersonalAccessTokens],
    ) -> None:
        self._current = current
        self._scopes = scopes
        self._personal = personal

    def handle(self, request: Request) -> Response:
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


def _body(request: Request) -> dict[str, Any]:
    """JSON (as Passport's Vue components send) or a form."""
    if request.media_type == "application/json":
        try:
            body = json.loads(request.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise OAuthError("invalid_request", "The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_request", "The body must be a JSON object.")
        return body
    form = request.form()
    return {"name": (form.get("name") or [""])[0], "scopes": form.get("scopes[]") or form.get("scopes") or []}
