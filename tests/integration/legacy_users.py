"""A deployment's own user store, plugged in through ``user_provider`` (Passport's findForPassport)."""

from __future__ import annotations

import hmac

from passport.core.models import User

ACCOUNTS = {"legacy@example.com": ("legacy-user-1", "Legacy Larry", "from-the-old-system")}


class LegacyUsers:
    def find_for_passport(self, username: str) -> User | None:
        found = ACCOUNTS.get(username.lower())
        return User(found[0], username.lower(), found[1]) if found else None

    def validate_for_passport_password(self, user: User, password: str) -> bool:
        return hmac.compare_digest(ACCOUNTS[user.email][2].encode(), password.encode())

    def get(self, user_id: str) -> User | None:
        return next((User(i, e, n) for e, (i, n, _) in ACCOUNTS.items() if i == user_id), None)
