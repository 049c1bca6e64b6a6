"""OAuth 2.0 Protected Resource Metadata (RFC 9728): what a protected API tells a client that has nothing but
its URL (and a 401): which authorization server issues its tokens, and the scopes it understands."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def protected_resource_metadata(
    *, resource: str, authorization_server: str, scopes: Iterable[str], name: str = "",
    dpop_algorithms: Iterable[str] = (),
) -> dict[str, Any]:
    """Section 2: ``resource`` (REQUIRED) is the identifier tokens name in their ``aud`` (RFC 8707), so a client
    asks for that resource and gets a token this API accepts."""
    metadata: dict[str, Any] = {
        "resource": resource,
        "authorization_servers": [authorization_server],
        "scopes_supported": list(dict.fromkeys(scopes)),
        # Section 2: how the token may be sent; the guard reads the Authorization header only.
        "bearer_methods_supported": ["header"],
    }
    if name:
        metadata["resource_name"] = name
    if dpop_algorithms:
        # Section 2: the resource accepts DPoP-bound tokens (RFC 9449 7) with proofs of these algorithms; Bearer
        # tokens too, so DPoP is not required.
        metadata["dpop_signing_alg_values_supported"] = list(dpop_algorithms)
        metadata["dpop_bound_access_tokens_required"] = False
    return metadata
