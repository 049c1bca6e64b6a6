"""Unit-test fixtures: keys are generated once per session (RSA generation costs tens of milliseconds)."""

from __future__ import annotations

import pytest
from passport.keys.keyring import JwtSigner
from passport.keys.material import PrivateKey, generate


@pytest.fixture(scope="session")
def rsa_key() -> PrivateKey:
    return generate("RS256", 2048)


@pytest.fixture(scope="session")
def ec_key() -> PrivateKey:
    return generate("ES256")


@pytest.fixture(scope="session")
def ed_key() -> PrivateKey:
    return generate("EdDSA")


@pytest.fixture(scope="session")
def signer(rsa_key: PrivateKey) -> JwtSigner:
    return JwtSigner(rsa_key)
