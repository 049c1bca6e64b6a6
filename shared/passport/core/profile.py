"""Security profiles: what a client is held to beyond the RFCs' defaults.

- ``baseline``: OAuth 2.0 with RFC 9700's advice as the rest of the server applies it (PKCE for public clients,
  exact redirect URIs, refresh-token rotation), and per client what it registered: ``require_pushed_authorization
  _requests`` (RFC 9126 6), ``dpop_bound_access_tokens`` (RFC 9449 5.2).
- ``fapi2``: the FAPI 2.0 Security Profile (final), its authorization server requirements (5.3.2) as this server
  meets them: pushed authorization requests only, with a ``redirect_uri``; PKCE with S256 for every client;
  ``private_key_jwt`` and nothing weaker (``tls_client_auth`` is not offered); tokens sender-constrained by DPoP;
  ``iss`` in the authorization response (RFC 9207, always sent here); codes living at most 60 s; only the code,
  refresh and client-credentials grants (no implicit, no password grant). docs/security.md lists what it holds
  and where this server differs.

A client's own ``profile`` wins over the server's ``security_profile``, so one client can be held to FAPI 2.0 on
a baseline server and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from passport.core.models import Client

FAPI2 = "fapi2"
BASELINE = "baseline"
PROFILES = (BASELINE, FAPI2)
#: FAPI 2.0 Security Profile 5.3.2.2 point 5: "shall ... authorization code lifetime of at most 60 seconds".
FAPI2_CODE_LIFETIME = 60
#: The grants a FAPI 2.0 client may use.
FAPI2_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
#: FAPI 2.0 Security Profile 5.3.2.1 point 4 (of what this server offers).
FAPI2_AUTH_METHODS = ("private_key_jwt",)


@dataclass(frozen=True)
class ClientPolicy:
    """What one client is held to, resolved from its own settings and the server's."""

    profile: str
    par_required: bool
    dpop_required: bool
    #: The token endpoint authentication methods it may use; empty: any it registered.
    auth_methods: tuple[str, ...]
    #: PKCE for every authorization request, with S256 only.
    pkce_s256_required: bool
    #: The longest a code may live; 0: the server's lifetime.
    code_lifetime: int
    #: The grants it may use; empty: any it registered.
    grants: tuple[str, ...]

    @property
    def fapi2(self) -> bool:
        return self.profile == FAPI2

    def allows_grant(self, grant_type: str) -> bool:
        return not self.grants or grant_type in self.grants

    def allows_auth_method(self, method: str) -> bool:
        return not self.auth_methods or method in self.auth_methods


#: Every policy there is, made once: a token request asks for its client's policy, and a frozen dataclass costs
#: microseconds to build (indexed by profile, then, for baseline, by PAR required and DPoP required).
_FAPI2_POLICY = ClientPolicy(FAPI2, True, True, FAPI2_AUTH_METHODS, True, FAPI2_CODE_LIFETIME, FAPI2_GRANTS)
_BASELINE_POLICIES = {(par, dpop): ClientPolicy(BASELINE, par, dpop, (), False, 0, ())
                      for par in (False, True) for dpop in (False, True)}


def client_policy(client: Client, *, server_profile: str = BASELINE, par_required: bool = False) -> ClientPolicy:
    """The policy of ``client`` on a server whose ``security_profile`` is ``server_profile`` and whose ``[par]
    required`` is ``par_required``."""
    if (client.profile or server_profile) == FAPI2:
        return _FAPI2_POLICY
    return _BASELINE_POLICIES[(par_required or client.require_par, client.dpop_bound)]
