"""Names in the tables that code without pynamodb needs too (the guard's signed revocation lookup): one
definition, imported by :mod:`passport.storage.models` and by :mod:`passport.storage.revocation`. And the
reading of an item's attributes as DynamoDB returns them (docs.aws.amazon.com/amazondynamodb/latest/APIReference/
API_AttributeValue.html), for the hot reads that skip building a pynamodb model.

Nothing here imports anything: the guard pays for this module on its first uncached decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: DynamoDB's TTL attribute of every item of the tokens table (epoch seconds).
TTL_ATTRIBUTE = "ttl"


def access_key(jti: str) -> str:
    """The tokens table's key of an access token's record."""
    return f"access#{jti}"


def text(item: Mapping[str, Any], name: str) -> str | None:
    """A string attribute (``S``); None when absent or null."""
    value = item.get(name)
    return value.get("S") if isinstance(value, dict) else None


def texts(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (``L`` of ``S``, as pynamodb's ``ListAttribute(of=UnicodeAttribute)`` writes it); empty
    when absent or null."""
    value = item.get(name)
    members = value.get("L") if isinstance(value, dict) else None
    return tuple(member["S"] for member in members) if members else ()


def flag(item: Mapping[str, Any], name: str) -> bool:
    """A boolean (``BOOL``); False when absent or null."""
    value = item.get(name)
    return bool(value.get("BOOL")) if isinstance(value, dict) else False


def number(item: Mapping[str, Any], name: str) -> int:
    """A whole number (``N``); 0 when absent or null."""
    value = item.get(name)
    digits = value.get("N") if isinstance(value, dict) else None
    if not digits:
        return 0
    return int(digits) if digits.isdigit() else int(float(digits))  # pynamodb reads "1e3" or "-1.0" too
