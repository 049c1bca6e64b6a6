"""The demo protected API behind the guard (docs/http.md): a template for users' own backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from passport.core.http import Request, Response, json_response
from passport.guard.context import TokenContext

if TYPE_CHECKING:
    from passport.core.users import UserProvider

#: The demo orders: ``GET /api/orders`` and the demo MCP server's ``list_orders`` tool answer with these.
ORDERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("id", "ord_1001"), ("item", "Espresso machine"), ("status", "shipped")),
    (("id", "ord_1002"), ("item", "Coffee beans, 1 kg"), ("status", "processing")),
)


def orders() -> list[dict[str, str]]:
    """The demo orders, as fresh dicts (a caller may change what it gets)."""
    return [dict(order) for order in ORDERS]


class DemoApi:
    """The demo API's three routes; ``users`` gives the user provider (read only by ``/api/user``)."""

    def __init__(self, users: Callable[[], UserProvider]) -> None:
        self._users = users

    def handle(self, request: Request, event: dict[str, Any]) -> Response:
        """``event``: the proxy event, whose authorizer context says who called (:class:`TokenContext`)."""
        token = TokenContext.from_event(event)
        if request.path == "/api/user":
            user = self._users().get(token.user_id) if token.user_id else None
            if user is None:
                return json_response({"error": "not_found", "message": "The token's user no longer exists."}, 404)
            return json_response({
                "id": user.id, "email": user.email, "name": user.name,
                "client_id": token.client_id, "scopes": list(token.scopes), "token_id": token.jti,
            })
        if request.path == "/api/orders":
            return json_response({"orders": orders(), "client_id": token.client_id})
        return json_response({"sub": token.sub, "client_id": token.client_id, "scopes": list(token.scopes)})
