"""The device code grant at the token endpoint (RFC 8628 3.4-3.5): the device polls until the user approves
or denies, no faster than its interval; the approved authorization gives tokens once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from passport.core.clients import DEVICE_CODE
from passport.core.device import SLOW_DOWN_STEP
from passport.core.errors import OAuthError, invalid_grant
from passport.core.grants.base import token_response
from passport.core.grants.refresh_token import RefreshTokens
from passport.core.hashing import hash_secret
from passport.core.http import single
from passport.core.models import DEVICE_DENIED, DEVICE_PENDING, DEVICE_REDEEMED, Client, TokenFamily
from passport.core.tokens import AccessTokenIssuer
from passport.ports import CodeAlreadyUsed, Devices


def _device_error(error: str, description: str) -> OAuthError:
    return OAuthError(error, description)  # 3.5: all 400, in the usual JSON


class DeviceCodeGrant:
    GRANT_TYPE: ClassVar[str] = DEVICE_CODE

    def __init__(self, issuer: AccessTokenIssuer, devices: Devices, refresh: RefreshTokens) -> None:
        self._issuer = issuer
        self._devices = devices
        self._refresh = refresh

    def respond(self, client: Client, form: Mapping[str, list[str]], source_ip: str = "") -> dict[str, Any]:
        code = single(form, "device_code", required=True)
        now = self._issuer.clock.now()
        device = self._devices.poll(hash_secret(code), now)
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
            client_id=client.client_id, scopes=device.scopes, grant_type=self.GRANT_TYPE, user_id=device.user_id
        )
        family = TokenFamily(
            family_id=secrets.token_hex(16), client_id=client.client_id, user_id=device.user_id,
            auth_time=device.auth_time, expires_at=now + self._refresh.lifetime,
            live_access=((access.record.jti, access.record.expires_at),), scopes=device.scopes,
        )
        refresh_token, refresh = (None, None)
        if self._refresh.allowed(client):
            refresh_token, refresh = self._refresh.new(family, device.scopes, now)
        try:
            self._devices.redeem(device, family, access.record, refresh)
        except CodeAlreadyUsed:
            raise invalid_grant("The device code was already used.") from None
        return token_response(access, refresh_token)
