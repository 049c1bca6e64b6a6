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

#: The optional profile claims of 5.1 a user may have (``User`` fields of the same names, None when unset).
PROFILE_FIELDS = ("given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
                  "website", "gender", "birthdate", "zoneinfo", "locale")

#: 5.4: the claims each scope asks for (of those this server knows about its users).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", *PROFILE_FIELDS, "updated_at"),
    "email": ("email", "email_verified"),
}

#: The user claims a request may name one by one (5.5): those of the scopes.
USER_CLAIMS = frozenset(claim for claims in SCOPE_CLAIMS.values() for claim in claims)

#: 2 and 3.1.2.1: the one Authentication Context Class Reference this server satisfies (docs/concepts.md): the
#: user signed in with a password (amr "pwd", RFC 8176), no second factor.
PASSWORD_ACR = "urn:passport:acr:password"

#: Discovery's claims_supported: the ID token's claims and userinfo's.
CLAIMS_SUPPORTED = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "amr", "acr",
    *(claim for claims in SCOPE_CLAIMS.values() for claim in claims),
)

#: What the consent page calls each claim a request names one by one.
CLAIM_DESCRIPTIONS: dict[str, str] = {
    "name": "Your name", "given_name": "Your given name", "family_name": "Your family name",
    "middle_name": "Your middle name", "nickname": "Your nickname", "preferred_username": "Your username",
    "profile": "Your profile page", "picture": "Your picture", "website": "Your website", "gender": "Your gender",
    "birthdate": "Your birthdate", "zoneinfo": "Your time zone", "locale": "Your locale",
    "updated_at": "When your profile last changed", "email": "Your email address",
    "email_verified": "Whether your email address is verified",
}


def wants_id_token(scopes: Iterable[str]) -> bool:
    """3.1.2.1: "OpenID Connect requests MUST contain the openid scope value"; without it this is plain OAuth."""
    return OPENID in scopes


def offline_allowed(scopes: Sequence[str]) -> bool:
    """11: for an OpenID Connect request, a refresh token only when offline_access was asked (and granted). Plain
    OAuth requests keep OAuth's rule: the client's grant types decide."""
    return OPENID not in scopes or OFFLINE_ACCESS in scopes


def claim_values(user: User) -> dict[str, Any]:
    """Every user claim of 5.1 the user has a value for."""
    values: dict[str, Any] = {
        "name": user.name,
        "updated_at": user.updated_at or user.created_at,
        "email": user.email,
        "email_verified": user.email_verified,
    }
    values.update({name: value for name in PROFILE_FIELDS if (value := getattr(user, name, None))})
    return values


def user_claims(user: User, scopes: Iterable[str], requested: Iterable[str] = ()) -> dict[str, Any]:
    """5.3.2: ``sub`` always, then the claims of each identity scope granted, then those ``requested`` one by one
    (the claims parameter, 5.5) that the user has: a claim the user has no value for is left out (5.3.2, 5.5.1:
    never an error, essential or not)."""
    granted = set(scopes)
    values = claim_values(user)
    names = [name for scope, claims in SCOPE_CLAIMS.items() if scope in granted for name in claims]
    names.extend(name for name in requested if name in USER_CLAIMS)
    claims: dict[str, Any] = {"sub": user.id}
    claims.update({name: values[name] for name in names if name in values})
    return claims


def covered(scopes: Iterable[str]) -> set[str]:
    """The user claims the identity scopes among ``scopes`` release (5.4)."""
    granted = set(scopes)
    return {name for scope, claims in SCOPE_CLAIMS.items() if scope in granted for name in claims}


def shared_with(user: User, scopes: Iterable[str], requested: Iterable[str] = ()) -> list[dict[str, str]]:
    """What the consent page says the client will learn about the user, scope by scope, with the values, then
    each claim ``requested`` one by one (5.5) that no scope covers and the user has."""
    granted = set(scopes)
    values = claim_values(user)
    shown = []
    if OPENID in granted:
        shown.append({"name": OPENID, "description": f"Sign you in as {user.email}", "value": ""})
    if "profile" in granted:
        extra = [name for name in PROFILE_FIELDS if name in values]
        description = f"Your name and profile ({', '.join(extra)})" if extra else "Your name"
        shown.append({"name": "profile", "description": description, "value": user.name})
    if "email" in granted:
        verified = "verified" if user.email_verified else "not verified"
        shown.append({"name": "email", "description": "Your email address", "value": f"{user.email} ({verified})"})
    if OFFLINE_ACCESS in granted:
        shown.append({"name": OFFLINE_ACCESS, "description": IDENTITY_SCOPES[OFFLINE_ACCESS], "value": ""})
    scoped = covered(granted)
    for name in dict.fromkeys(requested):
        if name in USER_CLAIMS and name not in scoped and name in values:
            shown.append({"name": name, "description": CLAIM_DESCRIPTIONS[name], "value": str(values[name])})
    return shown
