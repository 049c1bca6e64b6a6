"""Stores in memory for the issuance figure, installed through compose's storage seam
(:func:`passport.compose.using_storage`): the token function's handler runs unchanged, without DynamoDB."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from passport.compose import DynamoStorage
from passport.core.clients import PERSONAL_ACCESS
from passport.core.models import AccessTokenRecord, Client
from passport.ports import AccessTokenStore, ClientStore


class MemoryClientStore:
    """A :class:`passport.ports.ClientStore` over a dict."""

    def __init__(self, *clients: Client) -> None:
        self._clients = {client.client_id: client for client in clients}

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def create(self, client: Client) -> None:
        self._clients[client.client_id] = client

    def all(self) -> Iterable[Client]:
        return list(self._clients.values())

    def revoke(self, client_id: str) -> bool:
        return self._replace(client_id, None, revoked=True)

    def owned_by(self, user_id: str) -> list[Client]:
        return [client for client in self._clients.values() if client.user_id == user_id]

    def update(
        self, client_id: str, owner: str | None, *, name: str, redirect_uris: tuple[str, ...],
        scopes: tuple[str, ...] | None = None, first_party: bool | None = None,
        post_logout_redirect_uris: tuple[str, ...] | None = None, introspection: bool | None = None,
        application_type: str | None = None, require_par: bool | None = None,
        dpop_bound: bool | None = None, profile: str | None = None,
    ) -> bool:
        changes = {"scopes": scopes, "first_party": first_party, "post_logout_redirect_uris": post_logout_redirect_uris,
                   "introspection": introspection, "application_type": application_type, "require_par": require_par,
                   "dpop_bound": dpop_bound, "profile": profile}
        return self._replace(client_id, owner, name=name, redirect_uris=redirect_uris,
                             **{k: v for k, v in changes.items() if v is not None})

    def save_document_client(self, client: Client) -> Client:
        kept = self._clients.get(client.client_id)
        if kept is not None and not kept.from_document:
            from passport.core.client_documents import DocumentRefused

            raise DocumentRefused("this client ID is another client's")
        stored = dataclasses.replace(client, revoked=kept is not None and kept.revoked,
                                     created_at=kept.created_at if kept else client.created_at)
        self._clients[client.client_id] = stored
        return stored

    def set_secret(self, client_id: str, secret_hash: str, owner: str | None = None) -> bool:
        return self._replace(client_id, owner, secret_hash=secret_hash)

    def set_keys(self, client_id: str, jwks: str | None, jwks_uri: str | None, signing_alg: str = "",
                 owner: str | None = None) -> bool:
        client = self._clients.get(client_id)
        if client is None or client.revoked or not client.has_keys:
            return False
        return self._replace(client_id, owner, jwks=jwks, jwks_uri=jwks_uri, auth_signing_alg=signing_alg)

    def _replace(self, client_id: str, owner: str | None, **changes: object) -> bool:
        client = self._clients.get(client_id)
        if client is None or (owner is not None and client.user_id != owner):
            return False
        self._clients[client_id] = dataclasses.replace(client, **changes)  # type: ignore[arg-type]
        return True


class MemoryAccessTokenStore:
    """A :class:`passport.ports.AccessTokenStore` over a dict."""

    def __init__(self) -> None:
        self.records: dict[str, AccessTokenRecord] = {}

    def save(self, record: AccessTokenRecord) -> None:
        self.records[record.jti] = record

    def get(self, jti: str) -> AccessTokenRecord | None:
        return self.records.get(jti)

    def revoke(self, jti: str) -> None:
        if jti in self.records:
            self.records[jti] = dataclasses.replace(self.records[jti], revoked=True)

    def personal(self, user_id: str) -> list[AccessTokenRecord]:
        now = int(time.time())
        return [r for r in self.records.values()
                if r.user_id == user_id and r.grant_type == PERSONAL_ACCESS and not r.revoked and r.expires_at > now]


class SpentOnce:
    """Values spent once, in memory: the ports :class:`passport.core.dpop.ProofReplay` (a DPoP proof's ``jti``
    within its key) and :class:`passport.core.client_assertions.AssertionReplay` (an assertion's ``jti`` within its
    client). ``spent``: each (scope, jti) spent, and until when."""

    def __init__(self) -> None:
        self.spent: dict[tuple[str, str], int] = {}

    def spend(self, scope: str, jti: str, expires_at: int) -> bool:
        if (scope, jti) in self.spent:
            return False
        self.spent[scope, jti] = expires_at
        return True


class MemoryStorage(DynamoStorage):
    """Clients and access tokens in memory: the stores a client_credentials request touches. The other adapters are
    DynamoDB's, built with the wiring and never called (the bench counts DynamoDB requests while it times, and
    fails if it sees one)."""

    def __init__(self, *clients: Client) -> None:
        self.client_store = MemoryClientStore(*clients)
        self.token_store = MemoryAccessTokenStore()

    def clients(self) -> ClientStore:
        return self.client_store

    def access_tokens(self) -> AccessTokenStore:
        return self.token_store
