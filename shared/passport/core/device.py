"""The device authorization grant (RFC 8628): user codes, the device record, and the device authorization
endpoint (section 3.1-3.2)."""

from __future__ import annotations

import secrets
import time

from passport.core.client_auth import ClientAssertions, authenticate_client, extract_credentials
from passport.core.clients import DEVICE_CODE
from passport.core.errors import OAuthError, unauthorized_client
from passport.core.hashing import hash_secret
from passport.core.http import NO_STORE, Request, Response, json_response, oauth_error_response, single
from passport.core.models import DeviceAuthorization
from passport.core.scopes import ScopePolicy
from passport.ports import ClientStore, Devices

#: 6.1: "BCDFGHJKLMNPQRSTVWXZ": no vowels (no words), nothing mistaken for a digit. 20^8 is about 2^34.6.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
#: 3.2: the minimum seconds between polls; slow_down adds 5 (3.5).
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5



def new_user_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(USER_CODE_LENGTH))


def display_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(value: str | None) -> str | None:
    """What the user typed, as stored: dashes, spaces and case ignored (6.1); None when it cannot be one."""
    if not value:
        return None
    code = "".join(c for c in value.upper() if c not in "- ")
    if len(code) != USER_CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


class DeviceAuthorizationEndpoint:
    """POST /oauth/device/code (3.1): the client gets a device code to poll with and a user code to show."""

    def __init__(self, clients: ClientStore, devices: Devices, scopes: ScopePolicy, issuer: str, lifetime: int,
                 assertions: ClientAssertions | None = None) -> None:
        """``assertions``: how ``private_key_jwt`` clients authenticate here (RFC 7523 2.2; None: refused)."""
        self._clients = clients
        self._assertions = assertions
        self._devices = devices
        self._scopes = scopes
        self._issuer = issuer
        self._lifetime = lifetime

    def handle(self, request: Request) -> Response:
        try:
            form = request.form()
            client = authenticate_client(extract_credentials(request.headers, form), self._clients, self._assertions)
            if not client.allows_grant(DEVICE_CODE):
                raise unauthorized_client("The client may not use the device authorization grant.")
            scopes = self._scopes.resolve(single(form, "scope"), client.scopes, identity=True)
            device_code = secrets.token_urlsafe(32)
            now = int(time.time())
            record = self._devices.create(
                lambda: DeviceAuthorization(
                    device_hash=hash_secret(device_code), user_code=new_user_code(), client_id=client.client_id,
                    scopes=scopes, expires_at=now + self._lifetime, interval=DEFAULT_INTERVAL,
                    # What a poll may be authenticated against without reading the client (grants/device_code):
                    # its secret's hash, "none" for a public client. A client with keys has None: its assertions
                    # are single-use and its keys may rotate, so each of its polls authenticates against the
                    # client itself, with a fresh assertion.
                    client_auth=None if client.has_keys else client.secret_hash or "none",
                )
            )
        except OAuthError as error:
            return oauth_error_response(error)
        shown = display_user_code(record.user_code)
        return json_response({
            "device_code": device_code,
            "user_code": shown,
            "verification_uri": f"{self._issuer}/oauth/device",
            "verification_uri_complete": f"{self._issuer}/oauth/device?user_code={shown}",
            "expires_in": self._lifetime,
            "interval": record.interval,
        }, headers=NO_STORE)
