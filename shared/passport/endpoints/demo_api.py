"""The demo protected API behind the guard (docs/http.md): a template for users' own backends."""

from __future__ import annotations

from typing import Any

from passport.compose import settings
from passport.core.http import Request, Response, json_response
from passport.guard.context import TokenContext

#: The demo orders: ``GET /api/orders`` and the demo MCP server's ``list_orders`` tool answer with these.
ORDERS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("id", "ord_1001"), ("item", "Espresso machine"), ("status", "shipped")),
    (("id", "ord_1002"), ("item", "Coffee beans, 1 kg"), ("status", "processing")),
)


def orders() -> list[dict[str, str]]:
    """The demo orders, as fresh dicts (a caller may change what it gets)."""
    return [dict(order) for order in ORDERS]


def handle(request: Request, event: dict[str, Any]) -> Response:
    token = TokenContext.from_event(event)
    if request.path == "/api/user":
        from passport.compose import user_provider

        user = user_provider(settings()).get(token.user_id) if token.user_id else None
        if user is None:
            return json_response({"error": "not_found", "message": "The token's user no longer exists."}, 404)
        return json_response({
            "id": user.id, "email": user.email, "name": user.name,
            "client_id": token.client_id, "scopes": list(token.scopes), "token_id": token.jti,
        })
    if request.path == "/api/orders":
        return json_response({"orders": orders(), "client_id": token.client_id})
    return json_response({"sub": token.sub, "client_id": token.client_id, "scopes": list(token.scopes)})
