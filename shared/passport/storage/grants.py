"""Codes, refresh tokens and token families on DynamoDB. Every write that issues tokens is one transaction
named for the rule it enforces: a code is spent once (``redeem_code``), a refresh token rotates once
(``rotate_refresh``), a family dies whole (``revoke_family``)."""

from __future__ import annotations

import json
import time

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from passport.core.errors import StorageUnavailable
from passport.core.models import AccessTokenRecord, AuthorizationCode, RefreshTokenRecord, TokenFamily
from passport.ports import CodeAlreadyUsed, RefreshRejected
from passport.storage.connection import call, shared_connection
from passport.storage.errors import ConditionFailed, fresh_item, retried_on_conflict, storage_call
from passport.storage.models import (
    AccessTokenModel,
    CodeModel,
    FamilyModel,
    RefreshTokenModel,
    TokenModel,
    access_key,
    app_owner,
    code_key,
    family_key,
    refresh_key,
)
from passport.storage.repositories import access_item

#: DynamoDB's limit of items in one transaction.
_TRANSACTION_LIMIT = 100


def family_item(family: TokenFamily) -> FamilyModel:
    return FamilyModel(
        family_key(family.family_id), ttl=family.expires_at, client_id=family.client_id, user_id=family.user_id,
        auth_time=family.auth_time, revoked=family.revoked, live_access=[f"{j}:{e}" for j, e in family.live_access],
        scopes=list(family.scopes), resources=list(family.resources) or None,
        userinfo_claims=list(family.userinfo_claims) or None,
        # Listed among the apps the user authorized (the owner index), newest last.
        owner=app_owner(family.user_id) if family.user_id else None, issued_at=family.auth_time,
    )


def _family(item: FamilyModel) -> TokenFamily:
    live = []
    for entry in item.live_access or ():
        jti, _, exp = entry.rpartition(":")
        live.append((jti, int(exp)))
    return TokenFamily(
        family_id=item.pk.removeprefix("family#"), client_id=item.client_id, user_id=item.user_id,
        auth_time=int(item.auth_time), expires_at=int(item.ttl), revoked=bool(item.revoked), live_access=tuple(live),
        scopes=tuple(item.scopes or ()), resources=tuple(item.resources or ()),
        userinfo_claims=tuple(item.userinfo_claims or ()),
    )


def refresh_item(record: RefreshTokenRecord) -> RefreshTokenModel:
    return RefreshTokenModel(
        refresh_key(record.token_hash), ttl=record.expires_at, family_id=record.family_id,
        client_id=record.client_id, user_id=record.user_id, scopes=list(record.scopes), issued_at=record.issued_at,
        rotated=record.rotated, revoked=record.revoked, jkt=record.jkt,
    )


def _refresh(item: RefreshTokenModel) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        token_hash=item.pk.removeprefix("refresh#"), family_id=item.family_id, client_id=item.client_id,
        user_id=item.user_id, scopes=tuple(item.scopes or ()), issued_at=int(item.issued_at),
        expires_at=int(item.ttl), rotated=bool(item.rotated), revoked=bool(item.revoked), jkt=item.jkt,
    )


def _code(item: CodeModel) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=item.pk.removeprefix("code#"), client_id=item.client_id, user_id=item.user_id,
        redirect_uri=item.redirect_uri, redirect_uri_sent=bool(item.redirect_uri_sent),
        scopes=tuple(item.scopes or ()), expires_at=int(item.ttl), auth_time=int(item.auth_time),
        challenge=item.challenge, nonce=item.nonce, used=bool(item.used), family_id=item.family_id,
        resources=tuple(item.resources or ()), userinfo_claims=tuple(item.userinfo_claims or ()),
        id_token_claims=json.loads(item.id_token_claims) if item.id_token_claims else {}, acr=item.acr,
        dpop_jkt=item.dpop_jkt,
    )


def save_new_family(tx: TransactWrite, family: TokenFamily, access: AccessTokenRecord,
                    refresh: RefreshTokenRecord | None) -> None:
    """Add a new token family's items to a transaction: the family, its first access token and, when the client
    may have one, its refresh token, each on a key nothing holds yet."""
    tx.save(family_item(family), condition=FamilyModel.pk.does_not_exist())
    tx.save(access_item(access), condition=AccessTokenModel.pk.does_not_exist())
    if refresh is not None:
        tx.save(refresh_item(refresh), condition=RefreshTokenModel.pk.does_not_exist())


class DynamoGrantStore:
    def save_code(self, code: AuthorizationCode) -> None:
        item = CodeModel(
            code_key(code.code_hash), ttl=code.expires_at, client_id=code.client_id, user_id=code.user_id,
            redirect_uri=code.redirect_uri, redirect_uri_sent=code.redirect_uri_sent, scopes=list(code.scopes),
            challenge=code.challenge, nonce=code.nonce, auth_time=code.auth_time,
            resources=list(code.resources) or None, userinfo_claims=list(code.userinfo_claims) or None,
            id_token_claims=json.dumps(code.id_token_claims) if code.id_token_claims else None, acr=code.acr,
            dpop_jkt=code.dpop_jkt,
        )
        with fresh_item():
            item.save(condition=CodeModel.pk.does_not_exist())

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        with storage_call():
            try:
                # Strongly consistent: a code spent a moment ago must read as spent.
                return _code(CodeModel.get(code_key(code_hash), consistent_read=True))
            except DoesNotExist:
                return None

    @retried_on_conflict
    def redeem_code(
        self, code: AuthorizationCode, family: TokenFamily, access: AccessTokenRecord,
        refresh: RefreshTokenRecord | None,
    ) -> None:
        spent = CodeModel(code_key(code.code_hash))
        try:
            with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
                tx.update(
                    spent, actions=[CodeModel.used.set(True), CodeModel.family_id.set(family.family_id)],
                    condition=CodeModel.pk.exists() & (CodeModel.used == False),  # noqa: E712 (a DynamoDB condition)
                )
                save_new_family(tx, family, access, refresh)
        except ConditionFailed:
            raise CodeAlreadyUsed() from None

    @retried_on_conflict
    def start_family(self, family: TokenFamily, access: AccessTokenRecord, refresh: RefreshTokenRecord | None) -> None:
        with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
            save_new_family(tx, family, access, refresh)

    def get_refresh(self, token_hash: str, family_id: str) -> tuple[RefreshTokenRecord | None, TokenFamily | None]:
        table = TokenModel.Meta.table_name
        keys = [{"pk": {"S": refresh_key(token_hash)}}, {"pk": {"S": family_key(family_id)}}]
        try:
            answer = call("BatchGetItem", {"RequestItems": {table: {"Keys": keys, "ConsistentRead": True}}},
                          TokenModel.Meta.region)
        except Exception as error:  # throttled, timed out, unreachable
            raise StorageUnavailable(f"BatchGetItem: {type(error).__name__}") from error
        if answer.get("UnprocessedKeys"):
            raise StorageUnavailable("BatchGetItem was throttled")
        refresh = family = None
        for raw in answer.get("Responses", {}).get(table, []):
            key = raw["pk"]["S"]
            if key.startswith("refresh#"):
                refresh = _refresh(RefreshTokenModel.from_raw_data(raw))
            elif key.startswith("family#"):
                family = _family(FamilyModel.from_raw_data(raw))
        return refresh, family

    @retried_on_conflict
    def rotate_refresh(
        self, old: RefreshTokenRecord, family: TokenFamily, access: AccessTokenRecord, refresh: RefreshTokenRecord
    ) -> None:
        now = int(time.time())
        live = [(j, e) for j, e in family.live_access if e > now][-(_TRANSACTION_LIMIT - 10):]
        live.append((access.jti, access.expires_at))
        retired = RefreshTokenModel(refresh_key(old.token_hash))
        kept = FamilyModel(family_key(family.family_id))
        try:
            with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
                tx.update(
                    retired, actions=[RefreshTokenModel.rotated.set(True)],
                    condition=RefreshTokenModel.pk.exists() & (RefreshTokenModel.rotated == False)  # noqa: E712
                    & (RefreshTokenModel.revoked == False),  # noqa: E712
                )
                tx.update(
                    kept,
                    actions=[
                        FamilyModel.live_access.set([f"{j}:{e}" for j, e in live]),
                        FamilyModel.ttl.set(max(family.expires_at, refresh.expires_at)),
                    ],
                    condition=FamilyModel.pk.exists() & (FamilyModel.revoked == False),  # noqa: E712
                )
                tx.save(access_item(access), condition=AccessTokenModel.pk.does_not_exist())
                tx.save(refresh_item(refresh), condition=RefreshTokenModel.pk.does_not_exist())
        except ConditionFailed:
            raise RefreshRejected() from None

    def get_family(self, family_id: str) -> TokenFamily | None:
        with storage_call():
            try:
                return _family(FamilyModel.get(family_key(family_id), consistent_read=True))
            except DoesNotExist:
                return None

    def families_of(self, user_id: str) -> list[TokenFamily]:
        """The live authorizations a user gave apps."""
        now = int(time.time())
        with storage_call():
            items = list(FamilyModel.owner_index.query(app_owner(user_id)))
        return [f for f in map(_family, items) if not f.revoked and f.expires_at > now]

    @retried_on_conflict
    def revoke_family(self, family_id: str, known: TokenFamily | None = None) -> None:
        """Mark the family revoked (so none of its refresh tokens rotates again) and, in the same transaction,
        its access tokens that may still be alive (so the guard refuses them). ``known``: the family as just
        read, to spare a read."""
        if known is None:
            known = self.get_family(family_id)
            if known is None:
                return
        now = int(time.time())
        live = [jti for jti, exp in known.live_access if exp > now]
        first, rest = live[: _TRANSACTION_LIMIT - 1], live[_TRANSACTION_LIMIT - 1:]
        with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
            tx.update(FamilyModel(family_key(family_id)), actions=[FamilyModel.revoked.set(True)])
            for jti in first:
                tx.update(AccessTokenModel(access_key(jti)), actions=[AccessTokenModel.revoked.set(True)])
        for start in range(0, len(rest), _TRANSACTION_LIMIT):
            with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
                for jti in rest[start:start + _TRANSACTION_LIMIT]:
                    tx.update(AccessTokenModel(access_key(jti)), actions=[AccessTokenModel.revoked.set(True)])
