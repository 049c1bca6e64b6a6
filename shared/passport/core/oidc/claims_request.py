"""The ``claims`` parameter (OpenID Connect Core 1.0 5.5) and the Authentication Context Class Reference a request
asks for (``acr_values``, 3.1.2.1; the ``acr`` claim, 5.5.1.1).

Release rule (docs/concepts.md): a user claim requested by name, essential or voluntary, is released when the user
has a value for it and the user approved it; the consent page lists it beside the scopes. ``value`` and ``values``
of an ordinary claim do not filter it (5.5.1: they ask, they do not condition), except for ``sub`` and ``acr``,
whose rules 5.5.1 and 5.5.1.1 spell out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from passport.core.errors import OAuthError, invalid_request
from passport.core.oidc.claims import PASSWORD_ACR, USER_CLAIMS

#: The longest claims parameter read (its JSON text): it travels in the consent form and the sign-in's way back.
MAX_CLAIMS_REQUEST = 4096
#: The longest acr_values read.
MAX_ACR_VALUES = 1024
#: The members of 5.5 that say where a claim goes.
_TARGETS = ("userinfo", "id_token")


@dataclass(frozen=True)
class ClaimsRequest:
    """5.5, parsed: for each target, the claims asked for, each with its request (None: the default manner)."""

    userinfo: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    id_token: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def user_claims(self, target: str) -> tuple[str, ...]:
        """The user claims (5.1) asked of ``target``, in the order asked; names this server does not know are
        ignored (5.5: "Claims that are not understood ... MUST be ignored")."""
        return tuple(name for name in getattr(self, target) if name in USER_CLAIMS)

    @property
    def names(self) -> tuple[str, ...]:
        """Every user claim asked, of either target: what the consent page shows."""
        return tuple(dict.fromkeys((*self.user_claims("id_token"), *self.user_claims("userinfo"))))


def _claim_request(target: str, name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_request(f"The claims parameter's {target}.{name} must be null or a JSON object.")
    if "essential" in value and not isinstance(value["essential"], bool):
        raise invalid_request(f"The claims parameter's {target}.{name}.essential must be true or false.")
    if "values" in value and not isinstance(value["values"], list):
        raise invalid_request(f"The claims parameter's {target}.{name}.values must be an array.")
    return value


def parse_claims(text: str) -> ClaimsRequest:
    """5.5: a JSON object whose ``userinfo`` and ``id_token`` members, when present, are objects of claim name to
    null or a request (``essential``, ``value``, ``values``); other members are ignored. Anything else is
    invalid_request (3.1.2.6)."""
    if len(text) > MAX_CLAIMS_REQUEST:
        raise invalid_request("The claims parameter is too long.")
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid_request("The claims parameter is not JSON.") from None
    if not isinstance(decoded, dict):
        raise invalid_request("The claims parameter must be a JSON object.")
    targets: dict[str, dict[str, dict[str, Any] | None]] = {}
    for target in _TARGETS:
        members = decoded.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise invalid_request(f"The claims parameter's {target} member must be a JSON object.")
        targets[target] = {name: _claim_request(target, name, value) for name, value in members.items()}
    return ClaimsRequest(**targets)


def _allowed_values(request: dict[str, Any] | None) -> list[Any] | None:
    if request is None:
        return None
    if "value" in request:
        return [request["value"]]
    return request.get("values")


def requested_sub(claims: ClaimsRequest | None) -> str | None:
    """5.5.1: a ``sub`` asked with a value in the ID token: the answer may only be about that user."""
    if claims is None:
        return None
    allowed = _allowed_values(claims.id_token.get("sub"))
    return str(allowed[0]) if allowed else None


def resolve_acr(acr_values: str | None, claims: ClaimsRequest | None) -> str | None:
    """The acr the ID token carries (2), or None when the request asked for none. This server satisfies one
    class, :data:`PASSWORD_ACR`. acr_values are voluntary (3.1.2.1: "in order of preference"; 5.5.1.1 treats them
    as a voluntary acr claim), so they are answered with the class the sign-in met, listed or not. An essential
    ``acr`` whose value or values exclude it cannot be met: 5.5.1.1 says to treat that "as a failed
    authentication attempt", which is OpenID's ``unmet_authentication_requirements`` error."""
    if acr_values is not None and len(acr_values) > MAX_ACR_VALUES:
        raise invalid_request("The acr_values parameter is too long.")
    asked = claims.id_token.get("acr", False) if claims is not None else False
    if asked is not False and asked is not None and asked.get("essential"):
        allowed = _allowed_values(asked)
        if allowed is not None and PASSWORD_ACR not in allowed:
            raise OAuthError("unmet_authentication_requirements",
                             "The essential acr asked for is not one this server can satisfy.")
    if acr_values is None and asked is False:
        return None
    return PASSWORD_ACR
