"""Pushed authorization requests (RFC 9126) on DynamoDB: one ``par#<sha256(request_uri)>`` item each in the tokens
table, written once on a free key, read consistently (the authorization request may follow its push within
milliseconds, in another function), and spent by a conditional update (4: used once).

DynamoDB deletes by TTL late, never early, and DynamoDB Local not at all: every read and every condition checks the
expiry itself (``ttl > now``).
"""

from __future__ import annotations

import json

from pynamodb.exceptions import DoesNotExist

from passport.core.models import PushedRequest
from passport.storage.errors import ConditionFailed, fresh_item, storage_call
from passport.storage.models import PushedRequestModel, par_key


def _pushed(item: PushedRequestModel) -> PushedRequest:
    return PushedRequest(
        uri_hash=item.pk.removeprefix("par#"), client_id=item.client_id, params=json.loads(item.params),
        pushed_at=int(item.issued_at or 0), expires_at=int(item.ttl), started_at=int(item.started_at or 0),
        used=bool(item.used),
    )


class DynamoPushedRequests:
    """:class:`passport.ports.PushedRequests` over the tokens table."""

    def save(self, pushed: PushedRequest) -> None:
        item = PushedRequestModel(
            par_key(pushed.uri_hash), ttl=pushed.expires_at, issued_at=pushed.pushed_at, client_id=pushed.client_id,
            params=json.dumps(pushed.params, separators=(",", ":"), ensure_ascii=False), used=False,
        )
        with fresh_item():  # 256 random bits: a lost condition on a resent put was this put's own
            item.save(condition=PushedRequestModel.pk.does_not_exist())

    def take(self, uri_hash: str, client_id: str, now: int, decide_within: int) -> PushedRequest | None:
        with storage_call():
            try:
                item = PushedRequestModel.get(par_key(uri_hash), consistent_read=True)
            except DoesNotExist:
                return None
        pushed = _pushed(item)
        if pushed.client_id != client_id or pushed.used or pushed.expires_at <= now:
            return None
        if pushed.started_at:
            return pushed
        started = PushedRequestModel(par_key(uri_hash))
        try:
            with storage_call():
                started.update(
                    actions=[PushedRequestModel.started_at.set(now), PushedRequestModel.ttl.set(now + decide_within)],
                    condition=PushedRequestModel.pk.exists() & PushedRequestModel.started_at.does_not_exist()
                    & (PushedRequestModel.used == False)  # noqa: E712 (a DynamoDB condition)
                    & (PushedRequestModel.client_id == client_id) & (PushedRequestModel.ttl > now),
                )
        except ConditionFailed:
            # Started by a concurrent first take (then read what it wrote), or spent or expired meanwhile.
            return self._live(uri_hash, client_id, now)
        return _pushed(started)  # the item as written (ALL_NEW)

    def _live(self, uri_hash: str, client_id: str, now: int) -> PushedRequest | None:
        with storage_call():
            try:
                pushed = _pushed(PushedRequestModel.get(par_key(uri_hash), consistent_read=True))
            except DoesNotExist:
                return None
        live = pushed.client_id == client_id and not pushed.used and pushed.expires_at > now and pushed.started_at
        return pushed if live else None

    def spend(self, uri_hash: str, client_id: str, now: int) -> bool:
        try:
            with storage_call():
                PushedRequestModel(par_key(uri_hash)).update(
                    actions=[PushedRequestModel.used.set(True)],
                    condition=PushedRequestModel.pk.exists()
                    & (PushedRequestModel.used == False)  # noqa: E712 (a DynamoDB condition)
                    & (PushedRequestModel.client_id == client_id) & (PushedRequestModel.ttl > now),
                )
        except ConditionFailed:
            return False
        return True
