"""OpenID Connect: the identity layer on the code and device flows (OpenID Connect Core 1.0, Discovery 1.0 and
RP-Initiated Logout 1.0)."""
