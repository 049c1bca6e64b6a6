"""Fixtures the integration modules share: a user with a password, a browser signed in as that user, and a
confidential code-flow client. A module may define its own instead (test_authorization_code's client carries
markup in its name, and its user a full name); these then still build on the module's."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import make_client
from tests.integration.browser import Browser

PASSWORD = "correct horse battery staple"
REDIRECT = "https://app.example.com/callback"


@pytest.fixture
def user(env):
    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    settings()
    return create_user(DynamoUserStore(), email=f"u{uuid.uuid4().hex[:8]}@example.com", name="Ada",
                       password=PASSWORD)


@pytest.fixture
def browser(server, user) -> Browser:
    b = Browser(server.url)
    assert b.login(user.email, PASSWORD).status_code == 303
    return b


@pytest.fixture
def app(env):
    return make_client(env, name="Orders", grant_types=("authorization_code", "refresh_token"),
                       redirect_uris=(REDIRECT,), scopes=("orders:read",))
