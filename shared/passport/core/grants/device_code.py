"""The device code grant at the token endpoint (RFC 8628 3.4-3.5): the device polls until the user approves
or denies, no faster than its interval; the approved authorization gives tokens once."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from passport.core.client_auth import ClientCredentials, authenticate_client
from passport.core.clients import DEVICE_CODE
from passport.core.device import SLOW_DOWN_STEP
from passport.core.errors import OAuthError, invalid_grant
from passport.core.grants.base import UserTokenGrant, refresh_binding, token_response
from passport.core.grants.refresh_token import RefreshTokens
from passport.core.hashing import hash_secret
from passport.core.http import single
from passport.core.models import (
    DEVICE_APPROVED,
    DEVICE_DENIED,
    DEVICE_PENDING,
    DEVICE_REDEEMED,
    Client,
    DeviceAuthorization,
    TokenFamily,
)
from passport.core.oidc.claims import offline_allowed, wants_id_token
from passport.core.oidc.id_token import IdTokenIssuer
from passport.core.tokens import AccessTokenIssuer
from passport.ports import CodeAlreadyUsed, Devices


def _device_error(error: str, description: str) -> OAuthError:
    return OAuthError(error, description)  # 3.5: all 400, in the usual JSON


class _IssuedTo:
    """A one-client store holding the client as the device record saw it when the code was issued."""

    def __init__(self, device: DeviceAuthorization) -> None:
        assert device.client_auth is not None
        secret_hash = None if device.client_auth == "none" else device.client_auth
        self._client = Client(device.client_id, "", secret_hash=secret_hash, grant_types=(DEVICE_CODE,))

    def get(self, client_id: str) -> Client | None:
        return self._client if client_id == self._client.client_id else None


def _authenticated_by_record(credentials: ClientCredentials, device: DeviceAuthorization) -> Client | None:
    if device.client_auth is None:
        return None
    try:
        return authenticate_client(credentials, _IssuedTo(device))  # type: ignore[arg-type]
    except OAuthError:
        return None  # perhaps a secret rotated since: the client itself decides


class DeviceCodeGrant(UserTokenGrant):
    GRANT_TYPE: ClassVar[str] = DEVICE_CODE

    def __init__(self, issuer: AccessTokenIssuer, devices: Devices, refresh: RefreshTokens,
                 id_tokens: IdTokenIssuer | None = None) -> None:
        super().__init__(issuer, refresh, id_tokens)
        self._devices = devices

    def respond(
        self, client: Client, form: Mapping[str, list[str]], source_ip: str = "", jkt: str | None = None,
    ) -> dict[str, Any]:
        code = single(form, "device_code", required=True)
        now = self._issuer.clock.now()
        return self._answer(client, self._devices.poll(hash_secret(code), now), now, jkt)

    def poll(
        self, credentials: ClientCredentials, authenticate: Callable[[], Client], form: Mapping[str, list[str]],
        jkt: str | None = None,
    ) -> tuple[Client, Callable[[], dict[str, Any]]]:
        """A poll in one DynamoDB call while the user has not answered (a device polls every few seconds for
        minutes). The poll is noted first, and a poll that can issue nothing (pending, slow_down, denied, expired,
        used) authenticates the client against the record's copy of it, with the same checks as
        ``authenticate_client``. An approved poll, and credentials the copy refuses (a rotated secret), are
        authenticated by ``authenticate``, against the client as it is now: nothing is issued on a copy.
        Only the holder of the device code (256 random bits) can touch its record.

        Returns the authenticated client and the answer to give it (which raises the RFC 8628 3.5 errors)."""
        code = single(form, "device_code", required=True)
        now = self._issuer.clock.now()
        device = self._devices.poll(hash_secret(code), now)
        client = None
        if device is not None and device.status != DEVICE_APPROVED:
            client = _authenticated_by_record(credentials, device)
        if client is None:
            client = authenticate()
        return client, lambda: self._answer(client, device, now, jkt)

    def _answer(
        self, client: Client, device: DeviceAuthorization | None, now: int, jkt: str | None = None,
    ) -> dict[str, Any]:
        if device is None or device.client_id != client.client_id:
            raise invalid_grant("The device code is invalid.")
        if device.expires_at <= now:
            raise _device_error("expired_token", "The device code has expired; start again.")
        if device.status == DEVICE_DENIED:
            raise _device_error("access_denied", "The user denied the request.")
        if device.status == DEVICE_REDEEMED:
            raise invalid_grant("The device code was already used.")
        if device.status == DEVICE_PENDING:
            if device.previous_poll and now - device.previous_poll < device.interval:
                self._devices.slow_down(device.device_hash, SLOW_DOWN_STEP)
                raise _device_error("slow_down", f"Poll at most every {device.interval + SLOW_DOWN_STEP} seconds.")
            raise _device_error("authorization_pending", "The user has not answered yet.")
        assert device.user_id is not None  # approved
        access = self._issuer.mint(
            client_id=client.client_id, scopes=device.scopes, grant_type=self.GRANT_TYPE, user_id=device.user_id,
            jkt=jkt,
        )
        family = TokenFamily(
            family_id=secrets.token_hex(16), client_id=client.client_id, user_id=device.user_id,
            auth_time=device.auth_time, expires_at=now + self._refresh.lifetime,
            live_access=((access.record.jti, access.record.expires_at),), scopes=device.scopes,
        )
        refresh_token, refresh = (None, None)
        if self._refresh.allowed(client) and offline_allowed(device.scopes):
            refresh_token, refresh = self._refresh.new(family, device.scopes, now, refresh_binding(client, jkt))
        id_token = None
        if self._id_tokens is not None and wants_id_token(device.scopes):
            id_token = self._id_tokens.mint(client_id=client.client_id, user_id=device.user_id,
                                            auth_time=device.auth_time, access_token=access.access_token)
        try:
            self._devices.redeem(device, family, access.record, refresh)
        except CodeAlreadyUsed:
            raise invalid_grant("The device code was already used.") from None
        return token_response(access, refresh_token, id_token)
