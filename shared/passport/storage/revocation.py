"""The guard's revocation lookup: the token record and its client in one ``BatchGetItem``.

pynamodb's batch reads are one model at a time; the two tables are read together through the botocore client
the models share, so the guard makes one round trip for an uncached decision, not two.
"""

from __future__ import annotations

import time
from typing import Any

from passport.core.errors import StorageUnavailable
from passport.storage.connection import dynamodb_client
from passport.storage.models import AccessTokenModel, ClientModel, access_key


class DynamoRevocationLookup:
    def __init__(self) -> None:
        self._client = dynamodb_client(AccessTokenModel.Meta.region)

    def lookup(self, jti: str | None, client_id: str | None) -> tuple[bool | None, bool | None]:
        tokens_table, clients_table = AccessTokenModel.Meta.table_name, ClientModel.Meta.table_name
        request: dict[str, Any] = {}
        if jti is not None:
            request[tokens_table] = {
                "Keys": [{"pk": {"S": access_key(jti)}}],
                "ProjectionExpression": "pk, revoked, #ttl",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
            }
        if client_id is not None:
            request[clients_table] = {
                "Keys": [{"client_id": {"S": client_id}}],
                "ProjectionExpression": "client_id, revoked",
            }
        try:
            answer = self._client.batch_get_item(RequestItems=request)
        except Exception as exc:  # throttled, timed out, unreachable: the guard fails closed
            raise StorageUnavailable(f"revocation lookup failed: {type(exc).__name__}") from exc
        if answer.get("UnprocessedKeys"):
            raise StorageUnavailable("revocation lookup was throttled")
        found = answer.get("Responses", {})
        token_live = client_live = None
        if jti is not None:
            token_live = any(_token_live(item) for item in found.get(tokens_table, []))
        if client_id is not None:
            client_live = any(not _flag(item, "revoked") for item in found.get(clients_table, []))
        return token_live, client_live


def _flag(item: dict[str, Any], name: str) -> bool:
    return bool(item.get(name, {}).get("BOOL", False))


def _token_live(item: dict[str, Any]) -> bool:
    expires = int(item.get("ttl", {}).get("N", "0"))
    return not _flag(item, "revoked") and expires > time.time()
