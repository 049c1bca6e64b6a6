"""Values spent once, deployment-wide: DPoP proofs (RFC 9449 11.1) and client assertions (RFC 7523 3 point 7,
OpenID Connect Core 1.0 section 9).

A replayed proof or assertion may reach any container, so what was spent lives in the tokens table: one
``PutItem`` conditional on the item's absence, so of two concurrent spends exactly one wins. The key is a hash of
the ``jti`` within its scope (the proof's key, the assertion's client), never the value itself; the item's TTL is
the moment the value would be refused as too old anyway. DynamoDB deletes by TTL late, never early, and DynamoDB
Local not at all (``passport purge`` does), so an item past its TTL counts as absent: the condition is "absent
or expired".

The call is raw DynamoDB JSON over whichever transport the caller holds: the guard's standard-library signed
client (:class:`passport.aws_json.SignedClient`, no pynamodb, no botocore) or the models' client
(:func:`passport.storage.connection.call`). Importing this module imports neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from passport.core.errors import StorageUnavailable
from passport.core.hashing import scoped_digest
from passport.storage.items import TTL_ATTRIBUTE

#: ``(operation, parameters) -> answer``: a DynamoDB call.
Call = Callable[[str, dict[str, Any]], dict[str, Any]]

DPOP_PREFIX = "dpop#"
ASSERTION_PREFIX = "assertion#"
_LOST_CONDITION = "ConditionalCheckFailedException"


def _error_code(error: Exception) -> str | None:
    """The error code of a failed call, from either transport: ``passport.aws_json.ServiceError.code``, or
    botocore's ``ClientError.response["Error"]["Code"]`` (read without importing botocore)."""
    code = getattr(error, "code", None)
    if isinstance(code, str):
        return code
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        found = response.get("Error", {}).get("Code")
        return found if isinstance(found, str) else None
    return None


class Ledger:
    """Spends keys of one kind (``prefix``) in ``table``."""

    def __init__(self, call: Call, table: Callable[[], str] | str, prefix: str) -> None:
        self._call = call
        self._table = table
        self._prefix = prefix

    def _spend(self, scope: str, value: str, expires_at: int) -> bool:
        table = self._table() if callable(self._table) else self._table
        now = int(time.time())
        request = {
            "TableName": table,
            "Item": {"pk": {"S": self._prefix + scoped_digest(scope, value)},
                     TTL_ATTRIBUTE: {"N": str(max(int(expires_at), now + 1))}},
            "ConditionExpression": "attribute_not_exists(pk) OR #ttl <= :now",
            "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
        try:
            self._call("PutItem", request)
        except Exception as error:  # either transport's error type; only a lost condition is an answer
            if _error_code(error) == _LOST_CONDITION:
                return False
            if isinstance(error, StorageUnavailable):
                raise
            raise StorageUnavailable(f"PutItem: {type(error).__name__}") from error
        return True


class ProofLedger(Ledger):
    """:class:`passport.core.dpop.ProofReplay`: a proof's ``jti`` spent within its key's thumbprint."""

    def __init__(self, call: Call, table: Callable[[], str] | str) -> None:
        super().__init__(call, table, DPOP_PREFIX)

    def spend(self, jkt: str, jti: str, expires_at: int) -> bool:
        return self._spend(jkt, jti, expires_at)


class AssertionLedger(Ledger):
    """:class:`passport.core.client_assertions.AssertionReplay`: an assertion's ``jti`` spent within its client."""

    def __init__(self, call: Call, table: Callable[[], str] | str) -> None:
        super().__init__(call, table, ASSERTION_PREFIX)

    def spend(self, client_id: str, jti: str, expires_at: int) -> bool:
        return self._spend(client_id, jti, expires_at)


def models_call() -> Call:
    """The models' client as a :data:`Call` (the models bound first: passport.storage.models.bind)."""
    from passport.storage.connection import call
    from passport.storage.models import TokenModel

    return lambda operation, parameters: call(operation, parameters, TokenModel.Meta.region)


def tokens_table() -> str:
    from passport.storage.models import TokenModel

    return TokenModel.Meta.table_name
