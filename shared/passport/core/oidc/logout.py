"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): which client asks, whether the ID token it
hints with is ours, and where the browser may go afterwards. The pages and the session are the browser side's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from passport.core.authorization import PageError, check_echoable_state, redirect_to
from passport.core.client_documents import page_client
from passport.core.http import single
from passport.core.models import Client
from passport.jws import InvalidToken, TokenVerifier
from passport.ports import ClientStore

#: The parameters a confirmation form carries back (2: id_token_hint, logout_hint, client_id,
#: post_logout_redirect_uri, state, ui_locales).
CARRIED = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")


@dataclass(frozen=True)
class LogoutRequest:
    """An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 2), validated."""

    #: The user the hint names (None without a valid hint).
    subject: str | None
    client: Client | None
    #: Where to send the browser once signed out (None: this server's own page).
    redirect: str | None
    params: dict[str, str]


def hinted_claims(token: str, id_tokens: TokenVerifier | None) -> dict | None:
    """An ID token this server issued, expired or not (2: "the OP ... SHOULD accept ID Tokens ... when the
    RP identified by the ID Token's aud Claim ... has a current session or had a recent session"). ``id_tokens``
    serves any audience: the caller checks that the hint names the client that sent it."""
    if id_tokens is None:
        return None
    try:
        return id_tokens.verify(token, check_expiry=False)
    except InvalidToken:
        return None


def parse_logout(
    params: Mapping[str, list[str]], *, clients: ClientStore, id_tokens: TokenVerifier | None
) -> LogoutRequest:
    """Section 2 and 3: a bad hint or an unregistered post_logout_redirect_uri is an error page, never a
    redirect (the URI could be an attacker's)."""
    def one(name: str) -> str | None:
        try:
            return single(params, name)
        except Exception:
            raise PageError("Invalid request", f"The {name} parameter is repeated.") from None

    hint, client_id, target, state = (one(name) for name in CARRIED)
    subject = None
    if hint:
        claims = hinted_claims(hint, id_tokens)
        if claims is None:
            raise PageError("Invalid request", "The id_token_hint is not an ID token from this server.")
        audience = claims["aud"]
        hinted_client = audience if isinstance(audience, str) else (audience[0] if len(audience) == 1 else None)
        if hinted_client is None or (client_id and client_id != hinted_client):
            raise PageError("Invalid request", "The id_token_hint was not issued to this client.")
        client_id, subject = hinted_client, str(claims["sub"])
    client = page_client(clients, client_id)
    if client_id and (client is None or client.revoked):
        raise PageError("Unknown application", "The application that sent you here is not registered.")
    redirect = None
    if target:
        if client is None:
            raise PageError("Invalid request", "post_logout_redirect_uri needs the client_id or an id_token_hint.")
        if target not in client.post_logout_redirect_uris:
            raise PageError("Invalid redirect URI", "The application asked to send you to an address it has not "
                            "registered, so you were not sent there.")
        check_echoable_state(state)  # 3: it goes back to the client as it came, or the browser goes nowhere
        redirect = redirect_to(target, {"state": state}) if state else target
    carried = {name: value for name, value in zip(CARRIED, (hint, client_id, target, state), strict=True) if value}
    return LogoutRequest(subject, client, redirect, carried)
