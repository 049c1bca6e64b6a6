"""Users: creation with a hashed password, and the lookup hook a deployment can replace.

The hook plays the part of Passport's ``findForPassport`` / ``validateForPassportPasswordGrant``: any object
with ``get``, ``find_by_email`` and ``create`` (:class:`passport.ports.UserStore`) can stand in for the
DynamoDB users table.
"""

from __future__ import annotations

import re
import time
import uuid

from passport.core.models import User
from passport.core.passwords import hash_password
from passport.ports import UserStore

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class EmailTaken(ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with the email {email} already exists")


def create_user(users: UserStore, *, email: str, name: str, password: str | None) -> User:
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
    )
    users.create(user)
    return user
