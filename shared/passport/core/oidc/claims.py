"""The identity scopes (OpenID Connect Core 1.0 sections 5.4 and 11) and the claims they release."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the guard imports this module (through scopes): no need for the models' dataclasses there
    from passport.core.models import User

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"

#: Always defined, whatever the settings define: the scopes of sign-in. A client's scope list limits its API
#: scopes, not these; only the grants a user takes part in (authorization code, device) may ask for them.
IDENTITY_SCOPES: dict[str, str] = {
    OPENID: "Sign you in with your account",
    "profile": "Your name",
    "email": "Your email address",
    OFFLINE_ACCESS: "Stay connected while you are away",
}

#: 5.4: the claims each scope asks for (of those this server knows about its users).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "updated_at"),
    "email": ("email", "email_verified"),
}

#: Discovery's claims_supported: the ID token's claims and userinfo's.
CLAIMS_SUPPORTED = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "amr",
    *(claim for claims in SCOPE_CLAIMS.values() for claim in claims),
)


def wants_id_token(scopes: Iterable[str]) -> bool:
    """3.1.2.1: "OpenID Connect requests MUST contain the openid scope value"; without it this is plain OAuth."""
    return OPENID in scopes


def offline_allowed(scopes: Sequence[str]) -> bool:
    """11: for an OpenID Connect request, a refresh token only when offline_access was asked (and granted). Plain
    OAuth requests keep OAuth's rule: the client's grant types decide."""
    return OPENID not in scopes or OFFLINE_ACCESS in scopes


def user_claims(user: User, scopes: Iterable[str]) -> dict[str, Any]:
    """5.3.2: ``sub`` always, then the claims of each identity scope granted."""
    granted = set(scopes)
    values: dict[str, Any] = {
        "name": user.name,
        "updated_at": user.updated_at or user.created_at,
        "email": user.email,
        "email_verified": user.email_verified,
    }
    claims: dict[str, Any] = {"sub": user.id}
    for scope, names in SCOPE_CLAIMS.items():
        if scope in granted:
            claims.update({name: values[name] for name in names})
    return claims


def shared_with(user: User, scopes: Iterable[str]) -> list[dict[str, str]]:
    """What the consent page says the client will learn about the user, scope by scope, with the values."""
    granted = set(scopes)
    shown = []
    if OPENID in granted:
        shown.append({"name": OPENID, "description": f"Sign you in as {user.email}", "value": ""})
    if "profile" in granted:
        shown.append({"name": "profile", "description": "Your name", "value": user.name})
    if "email" in granted:
        verified = "verified" if user.email_verified else "not verified"
        shown.append({"name": "email", "description": "Your email address", "value": f"{user.email} ({verified})"})
    if OFFLINE_ACCESS in granted:
        shown.append({"name": OFFLINE_ACCESS, "description": IDENTITY_SCOPES[OFFLINE_ACCESS], "value": ""})
    return shown
