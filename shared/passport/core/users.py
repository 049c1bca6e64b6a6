"""Users: creation with a hashed password, and the lookup hook a deployment can replace.

The hook plays the part of Passport's ``findForPassport`` / ``validateForPassportPasswordGrant``: any object
with ``get``, ``find_by_email`` and ``create`` (:class:`passport.ports.UserStore`) can stand in for the
DynamoDB users table.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Protocol

from passport.core.errors import PassportError
from passport.core.models import User
from passport.core.passwords import hash_password, verify_password
from passport.ports import UserStore

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class EmailTaken(PassportError, ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with the email {email} already exists")


def create_user(
    users: UserStore, *, email: str, name: str, password: str | None, email_verified: bool = False
) -> User:
    email = email.strip()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise ValueError(f"{email!r} is not an email address")
    if not name.strip():
        raise ValueError("the name is empty")
    if password is not None and len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    user = User(
        id=str(uuid.uuid4()), email=email, name=name.strip(),
        password_hash=hash_password(password) if password else None, created_at=int(time.time()),
        email_verified=email_verified,
    )
    users.create(user)
    return user


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
