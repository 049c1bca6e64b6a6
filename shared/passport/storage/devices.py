"""Device authorizations (RFC 8628) on DynamoDB: a record per device code, and a pointer per user code that
makes the user code unique among live authorizations (a conditional write that an expired one does not block).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from passport.core.hashing import hash_secret
from passport.core.models import (
    DEVICE_APPROVED,
    DEVICE_DENIED,
    DEVICE_PENDING,
    DEVICE_REDEEMED,
    AccessTokenRecord,
    DeviceAuthorization,
    RefreshTokenRecord,
    TokenFamily,
)
from passport.ports import CodeAlreadyUsed
from passport.storage.connection import shared_connection
from passport.storage.errors import ConditionFailed, retried_on_conflict, storage_call
from passport.storage.grants import save_new_family
from passport.storage.models import (
    DeviceModel,
    TokenModel,
    UserCodeModel,
    device_key,
    user_code_key,
)

#: A clash among 20^8 user codes is rare; a few draws make it vanishing.
_USER_CODE_ATTEMPTS = 5


def _device(item: DeviceModel) -> DeviceAuthorization:
    return DeviceAuthorization(
        device_hash=item.pk.removeprefix("device#"), user_code=item.user_code, client_id=item.client_id,
        scopes=tuple(item.scopes or ()), expires_at=int(item.ttl), interval=int(item.interval), status=item.status,
        user_id=item.user_id, auth_time=int(item.auth_time or 0), previous_poll=int(item.previous_poll or 0),
        family_id=item.family_id, client_auth=item.client_auth,
    )


class DynamoDevices:
    @retried_on_conflict
    def create(self, make: Callable[[], DeviceAuthorization]) -> DeviceAuthorization:
        now = int(time.time())
        for _ in range(_USER_CODE_ATTEMPTS):
            device = make()
            # The user code is stored (and looked up) as its hash, like every other code: a DEBUG log of what
            # is sent to DynamoDB must not show a code a reader could type in.
            user_code_hash = hash_secret(device.user_code)
            item = DeviceModel(
                device_key(device.device_hash), ttl=device.expires_at, user_code=user_code_hash,
                client_id=device.client_id, scopes=list(device.scopes), interval=device.interval,
                status=DEVICE_PENDING, client_auth=device.client_auth,
            )
            pointer = UserCodeModel(user_code_key(user_code_hash), ttl=device.expires_at,
                                    device_hash=device.device_hash)
            try:
                with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
                    tx.save(item, condition=DeviceModel.pk.does_not_exist())
                    # Unique among live codes: an expired pointer the TTL sweeper has not removed yet may be reused.
                    tx.save(pointer, condition=UserCodeModel.pk.does_not_exist() | (UserCodeModel.ttl <= now))
            except ConditionFailed:
                continue
            return device
        raise RuntimeError("could not draw a free user code")

    @retried_on_conflict
    def poll(self, device_hash: str, now: int) -> DeviceAuthorization | None:
        item = DeviceModel(device_key(device_hash))
        try:
            with storage_call():
                # One write that both notes this poll and reads the record (with the previous poll's time).
                item.update(
                    actions=[DeviceModel.previous_poll.set(DeviceModel.last_poll), DeviceModel.last_poll.set(now)],
                    condition=DeviceModel.pk.exists(),
                )
        except ConditionFailed:
            return None
        return _device(item)

    @retried_on_conflict
    def slow_down(self, device_hash: str, step: int) -> None:
        with storage_call():
            DeviceModel(device_key(device_hash)).update(
                actions=[DeviceModel.interval.add(step)], condition=DeviceModel.pk.exists()
            )

    def find_by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        """The live authorization for a (normalized) user code; its ``user_code`` is the stored hash."""
        now = time.time()
        user_code = hash_secret(user_code)
        with storage_call():
            try:
                pointer = UserCodeModel.get(user_code_key(user_code))
                item = DeviceModel.get(device_key(pointer.device_hash))
            except DoesNotExist:
                return None
        if pointer.ttl <= now or item.ttl <= now or item.user_code != user_code:
            return None
        return _device(item)

    @retried_on_conflict
    def decide(self, device_hash: str, *, approve: bool, user_id: str, auth_time: int) -> bool:
        try:
            with storage_call():
                DeviceModel(device_key(device_hash)).update(
                    actions=[
                        DeviceModel.status.set(DEVICE_APPROVED if approve else DEVICE_DENIED),
                        DeviceModel.user_id.set(user_id),
                        DeviceModel.auth_time.set(auth_time),
                    ],
                    condition=DeviceModel.pk.exists() & (DeviceModel.status == DEVICE_PENDING),
                )
        except ConditionFailed:
            return False
        return True

    @retried_on_conflict
    def redeem(
        self, device: DeviceAuthorization, family: TokenFamily, access: AccessTokenRecord,
        refresh: RefreshTokenRecord | None,
    ) -> None:
        try:
            with storage_call(), TransactWrite(connection=shared_connection(TokenModel.Meta.region)) as tx:
                tx.update(
                    DeviceModel(device_key(device.device_hash)),
                    actions=[DeviceModel.status.set(DEVICE_REDEEMED), DeviceModel.family_id.set(family.family_id)],
                    condition=DeviceModel.pk.exists() & (DeviceModel.status == DEVICE_APPROVED),
                )
                save_new_family(tx, family, access, refresh)
        except ConditionFailed:
            raise CodeAlreadyUsed() from None
