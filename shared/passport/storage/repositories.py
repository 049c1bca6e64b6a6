"""The pynamodb adapters behind the ports of :mod:`passport.ports`. Conditional writes live here, named for
the rule they enforce."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from passport.core.clients import PERSONAL_ACCESS
from passport.core.models import AccessTokenRecord, Client, User
from passport.core.oidc.claims import PROFILE_FIELDS
from passport.core.users import EmailTaken
from passport.storage.connection import shared_connection, table_connection
from passport.storage.errors import ConditionFailed, fresh_item, retried_on_conflict, storage_call
from passport.storage.items import flag, number, text, texts
from passport.storage.models import (
    AccessTokenModel,
    ClientModel,
    UserEmailModel,
    UserModel,
    access_key,
    email_key,
    pat_owner,
    user_key,
)


def _now() -> int:
    return int(time.time())


class DynamoClientStore:
    def get(self, client_id: str) -> Client | None:
        # Every token request reads its client: read straight from the item DynamoDB returns, without building a
        # model (pynamodb's deserialization cost about as much CPU as the round trip itself).
        with storage_call():
            answer = table_connection(ClientModel).get_item(client_id)
        item = answer.get("Item")
        return None if item is None else client_from_item(item)

    def create(self, client: Client) -> None:
        now = _now()
        item = ClientModel(
            client.client_id, name=client.name, secret_hash=client.secret_hash,
            redirect_uris=list(client.redirect_uris), grant_types=list(client.grant_types),
            scopes=list(client.scopes), first_party=client.first_party, revoked=client.revoked,
            user_id=client.user_id, created_at=client.created_at or now, updated_at=now,
            post_logout_redirect_uris=list(client.post_logout_redirect_uris) or None,
            client_uri=client.client_uri, logo_uri=client.logo_uri,
            registration_token_hash=client.registration_token_hash, auth_method=client.auth_method or None,
            introspection=client.introspection or None, application_type=client.application_type,
            jwks=client.jwks, jwks_uri=client.jwks_uri, auth_signing_alg=client.auth_signing_alg or None,
            require_par=client.require_par or None,
            dpop_bound=client.dpop_bound or None, profile=client.profile or None,
        )
        with storage_call():
            # Never overwrite an existing client, even on a (practically impossible) UUID clash.
            item.save(condition=ClientModel.client_id.does_not_exist())

    def all(self) -> Iterator[Client]:
        with storage_call():
            clients = [client_from_model(item) for item in ClientModel.scan()]
        return iter(sorted(clients, key=lambda c: (c.created_at, c.client_id)))

    def owned_by(self, user_id: str) -> list[Client]:
        with storage_call():
            return [client_from_model(item) for item in ClientModel.user_index.query(user_id)]

    def update(
        self, client_id: str, owner: str | None, *, name: str, redirect_uris: tuple[str, ...],
        scopes: tuple[str, ...] | None = None, first_party: bool | None = None,
        post_logout_redirect_uris: tuple[str, ...] | None = None, introspection: bool | None = None,
        application_type: str | None = None, require_par: bool | None = None,
        dpop_bound: bool | None = None, profile: str | None = None,
    ) -> bool:
        """Change a live client (only the owner's own, when ``owner`` is given; any, for the administrator's
        CLI); scopes, first_party, post-logout URIs, the introspection right, ``dpop_bound`` and ``profile`` change
        only when given (``profile`` "": the server's again). False when it is not theirs, revoked or gone."""
        actions = [ClientModel.name.set(name), ClientModel.redirect_uris.set(list(redirect_uris)),
                   ClientModel.updated_at.set(_now())]
        if post_logout_redirect_uris is not None:
            actions.append(ClientModel.post_logout_redirect_uris.set(list(post_logout_redirect_uris)))
        if scopes is not None:
            actions.append(ClientModel.scopes.set(list(scopes)))
        if first_party is not None:
            actions.append(ClientModel.first_party.set(first_party))
        if introspection is not None:
            actions.append(ClientModel.introspection.set(introspection))
        if application_type is not None:
            actions.append(ClientModel.application_type.set(application_type))
        if require_par is not None:  # RFC 9126 6
            actions.append(ClientModel.require_par.set(True) if require_par else ClientModel.require_par.remove())
        if dpop_bound is not None:  # RFC 9449 5.2
            actions.append(ClientModel.dpop_bound.set(True) if dpop_bound else ClientModel.dpop_bound.remove())
        if profile is not None:  # passport.core.profile
            actions.append(ClientModel.profile.set(profile) if profile else ClientModel.profile.remove())
        condition = ClientModel.client_id.exists() & (ClientModel.revoked == False)  # noqa: E712 (DynamoDB)
        if owner is not None:
            condition &= ClientModel.user_id == owner
        return _changed(client_id, actions, condition)

    def save_document_client(self, client: Client) -> Client:
        """A client ID metadata document's client kept under its URL (passport.core.client_documents): its
        fields as the document says, ``revoked`` as the operator left it, never over a client of another kind
        (client ids made here are UUIDs, so this is belt and braces)."""
        fields = (
            (ClientModel.name, client.name), (ClientModel.redirect_uris, list(client.redirect_uris)),
            (ClientModel.grant_types, list(client.grant_types)), (ClientModel.scopes, list(client.scopes)),
            (ClientModel.post_logout_redirect_uris, list(client.post_logout_redirect_uris) or None),
            (ClientModel.client_uri, client.client_uri), (ClientModel.logo_uri, client.logo_uri),
            (ClientModel.auth_method, "none"), (ClientModel.application_type, client.application_type),
            (ClientModel.document_expires_at, client.document_expires_at), (ClientModel.updated_at, _now()),
        )
        actions = [attribute.set(value) if value is not None else attribute.remove() for attribute, value in fields]
        actions.append(ClientModel.created_at.set(ClientModel.created_at | client.created_at))
        condition = ClientModel.client_id.does_not_exist() | ClientModel.document_expires_at.exists()
        item = ClientModel(client.client_id)
        try:
            with storage_call():
                item.update(actions=actions, condition=condition)  # the item as stored now (ALL_NEW)
        except ConditionFailed:
            from passport.core.client_documents import DocumentRefused

            raise DocumentRefused("this client ID is another client's") from None
        return client_from_model(item)

    def replace_registered(self, client: Client) -> bool:
        """RFC 7592 2.2: a registered client's metadata replaced, only while it is live and its registration
        access token is the one the caller proved (so a concurrent DELETE wins). False otherwise."""
        actions = [
            ClientModel.name.set(client.name), ClientModel.redirect_uris.set(list(client.redirect_uris)),
            ClientModel.grant_types.set(list(client.grant_types)), ClientModel.scopes.set(list(client.scopes)),
            ClientModel.post_logout_redirect_uris.set(list(client.post_logout_redirect_uris)),
            ClientModel.application_type.set(client.application_type), ClientModel.updated_at.set(_now()),
        ]
        for attribute, value in ((ClientModel.client_uri, client.client_uri), (ClientModel.logo_uri, client.logo_uri),
                                 # a private_key_jwt client's keys, replaced with the rest (RFC 7592 2.2)
                                 (ClientModel.jwks, client.jwks), (ClientModel.jwks_uri, client.jwks_uri),
                                 (ClientModel.auth_signing_alg, client.auth_signing_alg)):
            actions.append(attribute.set(value) if value else attribute.remove())
        # RFC 9126 6: require_pushed_authorization_requests, and RFC 9449 5.2: dpop_bound_access_tokens, replaced
        # with the rest (the operator's profile is no registration metadata: kept)
        actions.append(ClientModel.require_par.set(True) if client.require_par else ClientModel.require_par.remove())
        actions.append(ClientModel.dpop_bound.set(True) if client.dpop_bound else ClientModel.dpop_bound.remove())
        condition = (ClientModel.client_id.exists() & (ClientModel.revoked == False)  # noqa: E712 (DynamoDB)
                     & (ClientModel.registration_token_hash == client.registration_token_hash))
        return _changed(client.client_id, actions, condition)

    def set_secret(self, client_id: str, secret_hash: str, owner: str | None = None) -> bool:
        """Replace a live confidential client's secret (only its owner's, when ``owner`` is given); False when
        there is no such client. The old secret stops working at once."""
        condition = ClientModel.client_id.exists() & (ClientModel.revoked == False)  # noqa: E712
        condition &= ClientModel.secret_hash.exists()
        if owner is not None:
            condition &= ClientModel.user_id == owner
        try:
            with storage_call():
                ClientModel(client_id).update(
                    actions=[ClientModel.secret_hash.set(secret_hash), ClientModel.updated_at.set(_now())],
                    condition=condition,
                )
        except ConditionFailed:
            return False
        return True

    def set_keys(self, client_id: str, jwks: str | None, jwks_uri: str | None, signing_alg: str = "",
                 owner: str | None = None) -> bool:
        """Replace a live ``private_key_jwt`` client's keys (its ``jwks`` or its ``jwks_uri``: the one given is set,
        the other removed) and its ``token_endpoint_auth_signing_alg``; only a client that has keys already (a
        secret or public client does not become another kind), only its owner's when ``owner`` is given. False
        when there is no such client. Assertions signed with a key no longer registered stop working at once."""
        condition = ClientModel.client_id.exists() & (ClientModel.revoked == False)  # noqa: E712
        condition &= ClientModel.jwks.exists() | ClientModel.jwks_uri.exists()
        if owner is not None:
            condition &= ClientModel.user_id == owner
        actions = [attribute.set(value) if value else attribute.remove() for attribute, value in (
            (ClientModel.jwks, jwks), (ClientModel.jwks_uri, jwks_uri), (ClientModel.auth_signing_alg, signing_alg))]
        actions.append(ClientModel.updated_at.set(_now()))
        return _changed(client_id, actions, condition)

    def revoke(self, client_id: str) -> bool:
        try:
            with storage_call():
                ClientModel(client_id).update(
                    actions=[ClientModel.revoked.set(True), ClientModel.updated_at.set(_now())],
                    condition=ClientModel.client_id.exists(),
                )
        except ConditionFailed:
            return False
        return True


def _changed(client_id: str, actions: list[Any], condition: Any) -> bool:
    """One conditional update of a client: True when it was made, False when the condition did not hold (no such
    live client, or not the owner's)."""
    try:
        with storage_call():
            ClientModel(client_id).update(actions=actions, condition=condition)
    except ConditionFailed:
        return False
    return True


def client_from_model(item: ClientModel) -> Client:
    """A client from a model a scan, a query or an update gave: read as its item, so one reader holds the layout."""
    return client_from_item(item.serialize(null_check=False))


def client_from_item(item: Mapping[str, Any]) -> Client:
    """A client from its item in :class:`ClientModel`'s layout, as DynamoDB returns it (attribute values in
    DynamoDB's JSON); an attribute absent or null reads as the field's default."""
    redirect_uris = texts(item, "redirect_uris")
    return Client(
        client_id=text(item, "client_id") or "", name=text(item, "name") or "", secret_hash=text(item, "secret_hash"),
        redirect_uris=redirect_uris, grant_types=texts(item, "grant_types"), scopes=texts(item, "scopes"),
        first_party=flag(item, "first_party"), revoked=flag(item, "revoked"), user_id=text(item, "user_id"),
        created_at=number(item, "created_at"), post_logout_redirect_uris=texts(item, "post_logout_redirect_uris"),
        client_uri=text(item, "client_uri"), logo_uri=text(item, "logo_uri"),
        registration_token_hash=text(item, "registration_token_hash"), auth_method=text(item, "auth_method") or "",
        introspection=flag(item, "introspection"),
        application_type=text(item, "application_type") or _inferred_application_type(redirect_uris),
        document_expires_at=number(item, "document_expires_at"),
        jwks=text(item, "jwks"), jwks_uri=text(item, "jwks_uri"), auth_signing_alg=text(item, "auth_signing_alg") or "",
        require_par=flag(item, "require_par"), dpop_bound=flag(item, "dpop_bound"), profile=text(item, "profile") or "",
    )


def _inferred_application_type(redirect_uris: tuple[str, ...]) -> str:
    """A client made before ``application_type`` was kept: native when a redirect URI has a private-use scheme
    (the rules then allowed them to any client, and only a native app has one), else web."""
    web = all(uri.lower().startswith(("https:", "http:")) for uri in redirect_uris)
    return "web" if web else "native"


#: A user id no user has (ids are UUIDs): the read an unknown email pays for.
_NO_USER = "-"


class DynamoUserStore:
    def get(self, user_id: str) -> User | None:
        with storage_call():
            try:
                item = UserModel.get(user_key(user_id))
            except DoesNotExist:
                return None
        return User(item.id, item.email, item.name, item.password_hash, int(item.created_at or 0),
                    email_verified=bool(item.email_verified), updated_at=int(item.updated_at or 0),
                    **{name: getattr(item, name) for name in PROFILE_FIELDS})

    def find_by_email(self, email: str) -> User | None:
        with storage_call():
            try:
                user_id = UserEmailModel.get(email_key(email), consistent_read=True).user_id
            except DoesNotExist:
                # An unknown email costs the same two reads as a known one (the second finds nothing), so the
                # time a sign-in takes does not tell which emails have accounts (as the dummy password hash).
                user_id = _NO_USER
        return self.get(user_id)

    @retried_on_conflict
    def create(self, user: User) -> None:
        """Write the user and claim its email in one transaction: two users can never share an email."""
        item = UserModel(
            user_key(user.id), id=user.id, email=user.email, name=user.name,
            password_hash=user.password_hash, created_at=user.created_at or _now(),
            email_verified=user.email_verified, updated_at=user.updated_at or None,
            **{name: getattr(user, name) for name in PROFILE_FIELDS},
        )
        marker = UserEmailModel(email_key(user.email), user_id=user.id)
        try:
            with storage_call(), TransactWrite(connection=shared_connection(UserModel.Meta.region)) as tx:
                tx.save(marker, condition=UserEmailModel.pk.does_not_exist())
                tx.save(item, condition=UserModel.pk.does_not_exist())
        except ConditionFailed:
            raise EmailTaken(user.email) from None

    def update_profile(self, user_id: str, changes: Mapping[str, str | None], updated_at: int) -> bool:
        """Set the ``name`` and profile claims given (None removes one) and ``updated_at`` (OpenID Connect Core
        1.0 5.1); False when there is no such user."""
        actions = [UserModel.updated_at.set(updated_at)]
        for name, value in changes.items():
            attribute = getattr(UserModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        try:
            with storage_call():
                UserModel(user_key(user_id)).update(actions=actions, condition=UserModel.pk.exists())
        except ConditionFailed:
            return False
        return True


def access_attributes(record: AccessTokenRecord) -> dict[str, dict[str, Any]]:
    """The item of an access token's record in :class:`AccessTokenModel`'s layout, in DynamoDB's JSON, as the
    model serializes it (absent: what is None)."""
    # Personal access tokens are listed per user, through the owner index.
    owner = pat_owner(record.user_id) if record.grant_type == PERSONAL_ACCESS and record.user_id else None
    item = {
        "pk": {"S": access_key(record.jti)}, "ttl": {"N": str(record.expires_at)},
        "client_id": {"S": record.client_id}, "scopes": {"L": [{"S": scope} for scope in record.scopes]},
        "issued_at": {"N": str(record.issued_at)}, "grant_type": {"S": record.grant_type},
        "revoked": {"BOOL": record.revoked},
    }
    for name, value in (("user_id", record.user_id), ("name", record.name), ("owner", owner)):
        if value is not None:
            item[name] = {"S": value}
    return item


def access_item(record: AccessTokenRecord) -> AccessTokenModel:
    """The record as a model, for writes that pynamodb's transactions carry."""
    return AccessTokenModel.from_raw_data(access_attributes(record))


def _access_record(item: AccessTokenModel) -> AccessTokenRecord:
    return AccessTokenRecord(
        jti=item.pk.removeprefix("access#"), client_id=item.client_id, user_id=item.user_id,
        scopes=tuple(item.scopes or ()), issued_at=int(item.issued_at or 0), expires_at=int(item.ttl),
        grant_type=item.grant_type, revoked=bool(item.revoked), name=item.name,
    )


class DynamoAccessTokenStore:
    def save(self, record: AccessTokenRecord) -> None:
        # Written from its item, without building a model: every token request writes one.
        attributes = access_attributes(record)
        key = attributes.pop("pk")["S"]
        with fresh_item():
            table_connection(AccessTokenModel).put_item(
                key, attributes=attributes, condition=AccessTokenModel.pk.does_not_exist()
            )

    def get(self, jti: str) -> AccessTokenRecord | None:
        with storage_call():
            try:
                item = AccessTokenModel.get(access_key(jti))
            except DoesNotExist:
                return None
        if item.ttl <= _now():  # TTL deletion lags by up to days: expiry is checked on every read
            return None
        return _access_record(item)

    def personal(self, user_id: str) -> list[AccessTokenRecord]:
        """The user's live personal access tokens, oldest first."""
        now = _now()
        with storage_call():
            items = list(AccessTokenModel.owner_index.query(pat_owner(user_id)))
        return [_access_record(i) for i in items if i.ttl > now and not i.revoked]

    @retried_on_conflict
    def revoke(self, jti: str) -> None:
        try:
            with storage_call():
                AccessTokenModel(access_key(jti)).update(
                    actions=[AccessTokenModel.revoked.set(True)], condition=AccessTokenModel.pk.exists()
                )
        except ConditionFailed:
            return  # unknown or already expired and deleted: nothing to revoke
