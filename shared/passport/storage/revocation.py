"""The guard's revocation lookup: the token record and its client in one ``BatchGetItem``.

pynamodb's batch reads are one model at a time; the two tables are read together in one request, so the guard
makes one round trip for an uncached decision, not two. The request and the reading of its answer are
:class:`BatchRevocationLookup`'s; two transports carry it:

- :class:`SignedRevocationLookup`, the guard's: :class:`passport.aws_json.SignedClient` of DynamoDB, on the
  standard library, so the guard's cold start imports neither botocore nor pynamodb (the table names come from
  the settings);
- :class:`DynamoRevocationLookup`: the botocore client the models share (the table names from the models, as
  :func:`passport.storage.models.bind` set them). The guard's fallback where the signed client cannot serve, and
  introspection's lookup (passport.compose), which runs beside the models anyway.

This module imports pynamodb only when a :class:`DynamoRevocationLookup` is made.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from passport.aws_json import DYNAMODB, SignedClient
from passport.core.errors import StorageUnavailable
from passport.storage.items import TTL_ATTRIBUTE, access_key

if TYPE_CHECKING:
    from passport.config import Storage


class BatchRevocationLookup(ABC):
    """(token is live, client is live) from one ``BatchGetItem``; the transport is the subclass's."""

    @abstractmethod
    def _tables(self) -> tuple[str, str]:
        """(tokens table, clients table)."""

    @abstractmethod
    def _batch_get_item(self, request_items: dict[str, Any]) -> dict[str, Any]:
        """DynamoDB's answer to ``BatchGetItem`` with these ``RequestItems``; StorageUnavailable when none."""

    def lookup(self, jti: str | None, client_id: str | None) -> tuple[bool | None, bool | None]:
        if jti is None and client_id is None:
            return None, None  # nothing asked: DynamoDB refuses a BatchGetItem of no keys (ValidationException)
        tokens_table, clients_table = self._tables()
        answer = self._batch_get_item(request_items(tokens_table, clients_table, jti, client_id))
        return read_answer(answer, tokens_table, clients_table, jti, client_id)


def request_items(
    tokens_table: str, clients_table: str, jti: str | None, client_id: str | None
) -> dict[str, Any]:
    """``BatchGetItem``'s ``RequestItems``: the parts asked, only the attributes the answer needs."""
    request: dict[str, Any] = {}
    if jti is not None:
        request[tokens_table] = {
            "Keys": [{"pk": {"S": access_key(jti)}}],
            "ProjectionExpression": "pk, revoked, #ttl",
            "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
        }
    if client_id is not None:
        request[clients_table] = {
            "Keys": [{"client_id": {"S": client_id}}],
            "ProjectionExpression": "client_id, revoked",
        }
    return request


def read_answer(
    answer: dict[str, Any], tokens_table: str, clients_table: str, jti: str | None, client_id: str | None
) -> tuple[bool | None, bool | None]:
    """(token is live, client is live) for the parts asked. Keys handed back unprocessed (DynamoDB throttling
    part of a batch) are a failure, not a retry loop: the guard fails closed, the caller may ask again."""
    if answer.get("UnprocessedKeys"):
        raise StorageUnavailable("revocation lookup was throttled")
    try:
        found = answer.get("Responses") or {}
        token_live = client_live = None
        if jti is not None:
            token_live = any(_token_live(item) for item in found.get(tokens_table, []))
        if client_id is not None:
            client_live = any(not _flag(item, "revoked") for item in found.get(clients_table, []))
    except (AttributeError, TypeError, ValueError) as exc:  # not the shape DynamoDB answers in
        raise StorageUnavailable("revocation lookup answer is malformed") from exc
    return token_live, client_live


def _flag(item: dict[str, Any], name: str) -> bool:
    return bool(item.get(name, {}).get("BOOL", False))


def _token_live(item: dict[str, Any]) -> bool:
    expires = int(item.get(TTL_ATTRIBUTE, {}).get("N", "0"))
    return not _flag(item, "revoked") and expires > time.time()


class SignedRevocationLookup(BatchRevocationLookup):
    """The lookup over a :class:`SignedClient` of DynamoDB: no botocore, no pynamodb."""

    def __init__(self, client: SignedClient, tokens_table: str, clients_table: str) -> None:
        self._client = client
        self._table_names = (tokens_table, clients_table)

    @classmethod
    def configured(cls, storage: Storage) -> SignedRevocationLookup | None:
        """The lookup for ``[storage]``, or None where only botocore can serve this environment as botocore
        would (then :class:`DynamoRevocationLookup` does)."""
        client = SignedClient.configured(DYNAMODB, storage)
        return None if client is None else cls(client, storage.tokens_table, storage.clients_table)

    def _tables(self) -> tuple[str, str]:
        return self._table_names

    def _batch_get_item(self, request_items: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._client.call("BatchGetItem", {"RequestItems": request_items})
        except StorageUnavailable as exc:
            raise StorageUnavailable(f"revocation lookup failed: {exc}") from exc


class DynamoRevocationLookup(BatchRevocationLookup):
    """The lookup over the models' client (passport.storage.connection.item_client; the models bound first:
    passport.storage.models.bind)."""

    def __init__(self) -> None:
        # Here, not at the top: importing this module must not import pynamodb (the guard's signed path).
        from passport.storage.connection import call
        from passport.storage.models import AccessTokenModel, ClientModel

        self._call = call
        self._models = (AccessTokenModel, ClientModel)

    def _tables(self) -> tuple[str, str]:
        tokens, clients = self._models
        return tokens.Meta.table_name, clients.Meta.table_name

    def _batch_get_item(self, request_items: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._call("BatchGetItem", {"RequestItems": request_items}, self._models[0].Meta.region)
        except Exception as exc:  # throttled, timed out, unreachable: the guard fails closed
            raise StorageUnavailable(f"revocation lookup failed: {type(exc).__name__}") from exc
