"""What a signed-in browser keeps: its session (by the hash of its cookie) and the consent its user gave each
client."""

from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist

from passport.core.models import Session
from passport.storage.errors import fresh_item, storage_call
from passport.storage.models import ConsentModel, SessionModel, consent_key, session_key

#: Consent is remembered until revoked; DynamoDB's TTL still needs a number, renewed on every use.
CONSENT_SECONDS = 400 * 24 * 3600


class DynamoSessions:
    def create(self, session: Session) -> None:
        item = SessionModel(
            session_key(session.session_hash), ttl=session.expires_at, user_id=session.user_id,
            auth_time=session.auth_time, csrf=session.csrf,
        )
        with fresh_item():
            item.save(condition=SessionModel.pk.does_not_exist())

    def get(self, session_hash: str) -> Session | None:
        with storage_call():
            try:
                item = SessionModel.get(session_key(session_hash))
            except DoesNotExist:
                return None
        if item.ttl <= time.time():
            return None
        return Session(session_hash, item.user_id, int(item.auth_time), int(item.ttl), item.csrf)

    def delete(self, session_hash: str) -> None:
        with storage_call():
            SessionModel(session_key(session_hash)).delete()


class DynamoConsents:
    def granted(self, user_id: str, client_id: str) -> tuple[str, ...] | None:
        with storage_call():
            try:
                item = ConsentModel.get(consent_key(user_id, client_id))
            except DoesNotExist:
                return None
        return tuple(item.scopes or ()) if item.ttl > time.time() else None

    def remember(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> None:
        """Add these scopes to what the user granted the client (a set union, in one update)."""
        now = int(time.time())
        granted = tuple(dict.fromkeys((self.granted(user_id, client_id) or ()) + tuple(scopes)))
        with storage_call():
            ConsentModel(
                consent_key(user_id, client_id), scopes=list(granted), updated_at=now, ttl=now + CONSENT_SECONDS
            ).save()


    def forget(self, user_id: str, client_id: str) -> None:
        with storage_call():
            ConsentModel(consent_key(user_id, client_id)).delete()
