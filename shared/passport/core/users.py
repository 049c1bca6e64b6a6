"""Users: creation with a hashed password, and the lookup hook a deployment can replace.

The hook plays the part of Passport's ``findForPassport`` / ``validateForPassportPasswordGrant``: any object
with ``get``, ``find_by_email`` and ``create`` (:class:`passport.ports.UserStore`) can stand in for the
DynamoDB users table.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol
from urllib.parse import urlsplit

from passport.core.errors import PassportError
from passport.core.models import User
from passport.core.oidc.claims import PROFILE_FIELDS
from passport.core.passwords import hash_password, verify_password
from passport.ports import UserStore

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: OpenID Connect Core 1.0 5.1's shapes: birthdate "YYYY-MM-DD" (year 0000: omitted) or "YYYY"; zoneinfo a tz
#: database name ("Europe/Paris"); locale a BCP 47 tag ("en-US"; 5.1 notes that some use "en_US").
_BIRTHDATE = re.compile(r"(\d{4})(?:-(\d{2})-(\d{2}))?")
_ZONEINFO = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_URL_CLAIMS = ("profile", "picture", "website")
#: Line separators and the bidirectional controls, which can make a name shown on a consent page read as another.
_UNSHOWABLE = frozenset("\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: The longest text claim and the longest URL claim kept.
MAX_CLAIM = 255
MAX_URL_CLAIM = 2048


class EmailTaken(PassportError, ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with the email {email} already exists")


class InvalidProfile(PassportError, ValueError):
    """A profile claim that is not what OpenID Connect Core 1.0 5.1 says it is."""


def _birthdate(value: str) -> bool:
    match = _BIRTHDATE.fullmatch(value)
    if match is None or match[2] is None:
        return match is not None
    try:  # year 0000 is "omitted": checked against a leap year, so 0000-02-29 passes
        datetime.date(int(match[1]) or 2000, int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _claim(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        return value
    limit = MAX_URL_CLAIM if name in _URL_CLAIMS else MAX_CLAIM
    if len(value) > limit:
        raise InvalidProfile(f"{name} is longer than {limit} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in _UNSHOWABLE for c in value):
        raise InvalidProfile(f"{name} holds a control or bidirectional formatting character")
    if name in _URL_CLAIMS:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or " " in value:
            raise InvalidProfile(f"{name} must be an https URL")
    elif name == "birthdate":
        if not _birthdate(value):
            raise InvalidProfile("birthdate must be a date as YYYY-MM-DD (0000 for no year) or a year as YYYY")
    elif name == "zoneinfo" and not _ZONEINFO.fullmatch(value):
        raise InvalidProfile("zoneinfo must be a time zone database name such as Europe/Paris")
    elif name == "locale" and not _LOCALE.fullmatch(value):
        raise InvalidProfile("locale must be a BCP 47 language tag such as en-US")
    return value


def validate_profile(claims: Mapping[str, str | None]) -> dict[str, str | None]:
    """The profile claims of OpenID Connect Core 1.0 5.1 (``name`` and :data:`PROFILE_FIELDS`), checked: URLs are
    https, birthdate, zoneinfo and locale have 5.1's shapes, text is bounded and holds no control character. An
    empty value (or None) becomes None: the claim is removed."""
    checked: dict[str, str | None] = {}
    for name, value in claims.items():
        if name != "name" and name not in PROFILE_FIELDS:
            raise InvalidProfile(f"{name} is not a profile claim")
        checked[name] = _claim(name, value) or None if value is not None else None
    if "name" in checked and checked["name"] is None:
        raise InvalidProfile("the name is empty")
    return checked


def create_user(
    users: UserStore, *, email: str, name: str, password: str | None, email_verified: bool = False,
    profile: Mapping[str, str | None] | None = None,
) -> User:
    """A new user; ``profile``: any of the profile claims of OpenID Connect Core 1.0 5.1 (:func:`validate_profile`)."""
    email = email.strip()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise ValueError(f"{email!r} is not an email address")
    if not name.strip():
        raise ValueError("the name is empty")
    if password is not None and len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    claims = validate_profile({"name": name, **(profile or {})})
    user = User(
        id=str(uuid.uuid4()), email=email, name=claims.pop("name") or "",
        password_hash=hash_password(password) if password else None, created_at=int(time.time()),
        email_verified=email_verified, **claims,
    )
    users.create(user)
    return user


def update_profile(users: UserStore, user: User, changes: Mapping[str, str | None]) -> User:
    """Change the user's name and profile claims (None or "" removes one), validated as on creation; updated_at
    becomes now (OpenID Connect Core 1.0 5.1: "Time the End-User's information was last updated")."""
    claims = validate_profile(changes)
    now = int(time.time())
    if not users.update_profile(user.id, claims, now):
        raise LookupError(f"no user {user.id}")
    return replace(user, updated_at=now, **claims)


class UserProvider(Protocol):
    """The hook a deployment replaces to sign users in against its own store (Passport's ``findForPassport``
    and ``validateForPassportPasswordGrant``). Name a class in ``user_provider`` ("module:Class"); it is built
    with no arguments."""

    def find_for_passport(self, username: str) -> User | None: ...

    def validate_for_passport_password(self, user: User, password: str) -> bool: ...

    def get(self, user_id: str) -> User | None: ...


class StoredUsers:
    """The default provider: the users table, passwords checked with scrypt."""

    def __init__(self, users: UserStore) -> None:
        self._users = users

    def find_for_passport(self, username: str) -> User | None:
        return self._users.find_by_email(username)

    def validate_for_passport_password(self, user: User, password: str) -> bool:
        return verify_password(password, user.password_hash)

    def get(self, user_id: str) -> User | None:
        return self._users.get(user_id)


def check_credentials(provider: UserProvider, username: str, password: str) -> User | None:
    """The user these credentials prove, or None. An unknown user costs the same password check as a known
    one, so response time does not tell which emails exist."""
    user = provider.find_for_passport(username) if username and len(username) <= 254 else None
    if user is None:
        verify_password(password, None)
        return None
    return user if provider.validate_for_passport_password(user, password) else None
