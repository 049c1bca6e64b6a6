"""Resource indicators (RFC 8707): which protected resource (API) a token is for, named by the client with the
``resource`` parameter on the authorization and token requests, and written as the access token's ``aud``.

Only registered resources can be named: the deployment's own API (its token audience) and those ``resources``
lists in the settings (other APIs protected by the guard). A token request may narrow what the authorization
granted, never widen it (2.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from passport.core.errors import OAuthError

#: Longest resource URI accepted (it is stored with codes and families, and written in tokens).
MAX_RESOURCE = 512


def invalid_target(description: str) -> OAuthError:
    """RFC 8707 2: "the requested resource is invalid, missing, unknown, or malformed"."""
    return OAuthError("invalid_target", description)


def requested_resources(params: Mapping[str, list[str]], registered: Sequence[str]) -> tuple[str, ...]:
    """The ``resource`` values of a request (the parameter may repeat), each an absolute URI without a fragment
    (2) that this server knows."""
    given = params.get("resource")
    if not given:
        return ()
    values = tuple(dict.fromkeys(given))
    for value in values:
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is None or not parts.scheme or not parts.netloc or "#" in value or len(value) > MAX_RESOURCE:
            raise invalid_target("Each resource must be an absolute URI without a fragment.")
        if value not in registered:
            raise invalid_target(f"The resource {value} is not one this server issues tokens for.")
    return values


def narrowed(requested: tuple[str, ...], granted: tuple[str, ...], default: str) -> tuple[str, ...]:
    """2.2: the resources of a token request within those the grant covers (the default audience when it named
    none); none requested keeps the grant's."""
    covered = granted or (default,)
    wider = [r for r in requested if r not in covered]
    if wider:
        raise invalid_target(f"The grant does not cover the resource {wider[0]}.")
    return requested or granted


def audience(resources: Sequence[str], default: str) -> str | list[str]:
    """The ``aud`` claim: the one resource, a list of several, or the deployment's own API when none was named."""
    if not resources:
        return default
    return resources[0] if len(resources) == 1 else list(resources)


def token_request_resources(form: Mapping[str, list[str]], resources: Sequence[str],
                            granted: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """RFC 8707 2.2 at the token endpoint: the resources a token request names, each among ``resources`` (the
    deployment's API first, then the registered ones: ``AccessTokenIssuer.resources``), and within what the grant
    covers when it is one (``granted``: the authorization's resources; empty, the deployment's API)."""
    requested = requested_resources(form, resources)
    return requested if granted is None else narrowed(requested, granted, resources[0])
