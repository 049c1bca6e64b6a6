"""Names in the tables that code without pynamodb needs too (the guard's signed revocation lookup): one
definition, imported by :mod:`passport.storage.models` and by :mod:`passport.storage.revocation`.

Nothing here imports anything: the guard pays for this module on its first uncached decision.
"""

from __future__ import annotations

#: DynamoDB's TTL attribute of every item of the tokens table (epoch seconds).
TTL_ATTRIBUTE = "ttl"


def access_key(jti: str) -> str:
    """The tokens table's key of an access token's record."""
    return f"access#{jti}"
