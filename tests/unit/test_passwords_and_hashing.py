"""Secrets at rest: scrypt for passwords (RFC 7914), SHA-256 for high-entropy secrets, constant-time checks."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from passport.core import hashing, passwords
from passport.core.hashing import HASH_PREFIX, hash_secret, new_secret, verify_secret
from passport.core.passwords import hash_password, verify_password

# --- passwords (scrypt) --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password("correct horse battery staple")


def test_a_password_verifies_against_its_hash(stored):
    assert verify_password("correct horse battery staple", stored) is True


def test_a_wrong_password_does_not_verify(stored):
    assert verify_password("correct horse battery stapler", stored) is False
    assert verify_password("", stored) is False


def test_the_hash_records_scheme_parameters_salt_and_digest(stored):
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    assert len(base64.urlsafe_b64decode(digest + "==")) == 32
    assert "correct" not in stored


def test_each_hash_has_its_own_salt():
    assert hash_password("same password") != hash_password("same password")


def test_non_ascii_passwords_round_trip():
    assert verify_password("pässwörd-密码", hash_password("pässwörd-密码")) is True
    assert verify_password("passwort-密码", hash_password("pässwörd-密码")) is False


def test_hashes_with_other_parameters_still_verify():
    """The parameters are read from the stored hash, so they can be raised without breaking old hashes."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**10, r=8, p=1, dklen=32)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    assert verify_password("pw", f"scrypt${2**10}$8$1${b64(salt)}${b64(digest)}") is True


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "garbage",
        "scrypt$16384$8$1$onlyfive",
        "scrypt$16384$8$1$salt$digest$extra",
        "bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$x$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # n not a power of 2
        "scrypt$16384$0$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        f"scrypt${2**30}$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # memory bomb
        "scrypt$16384$8$1$!!!!$AAAA",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$",
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$\u00e9\u00e9",
    ],
)
def test_a_malformed_stored_hash_is_false_not_an_error(malformed):
    assert verify_password("anything", malformed) is False


def test_no_stored_hash_is_false():
    assert verify_password("anything", None) is False


def test_no_stored_hash_still_costs_one_scrypt(monkeypatch):
    """An unknown user is checked against a dummy hash, so timing does not reveal which accounts exist."""
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(passwords.hashlib, "scrypt", lambda *a, **k: calls.append(k) or real(*a, **k))
    assert verify_password("anything", None) is False
    assert len(calls) == 1 and calls[0]["n"] == passwords.N


def test_passwords_are_compared_in_constant_time(stored, monkeypatch):
    calls = []
    monkeypatch.setattr(passwords.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or a == b)
    assert verify_password("correct horse battery staple", stored) is True
    assert len(calls) == 1


# --- opaque secrets (SHA-256) ------------------------------------------------------------------------------


def test_new_secrets_are_url_safe_and_at_least_256_bits():
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", secret)
        assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= 32


def test_hash_secret_is_a_prefixed_sha256_hex_digest():
    assert hash_secret("abc") == HASH_PREFIX + hashlib.sha256(b"abc").hexdigest()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", hash_secret("é"))


def test_hash_secret_is_deterministic_and_does_not_contain_the_secret():
    secret = new_secret()
    assert hash_secret(secret) == hash_secret(secret)
    assert secret not in hash_secret(secret)


def test_a_secret_verifies_against_its_hash():
    secret = new_secret()
    assert verify_secret(secret, hash_secret(secret)) is True


@pytest.mark.parametrize("other", ["", "x", "the-secret ", "THE-SECRET"])
def test_another_secret_does_not_verify(other):
    assert verify_secret(other, hash_secret("the-secret")) is False


@pytest.mark.parametrize("stored", [None, "", "sha256:", "sha256:" + "0" * 64, hashlib.sha256(b"s").hexdigest()])
def test_a_missing_or_wrong_stored_hash_does_not_verify(stored):
    assert verify_secret("s", stored) is False


def test_the_hash_of_the_empty_secret_is_not_the_dummy():
    """No secret matches the dummy used for a missing hash, not even the one whose digest is all zeros."""
    assert verify_secret("", None) is False


@pytest.mark.parametrize("stored", [None, hash_secret("s"), hash_secret("t")])
def test_every_secret_check_costs_one_constant_time_comparison(stored, monkeypatch):
    calls = []
    monkeypatch.setattr(hashing.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or a == b)
    verify_secret("s", stored)
    assert len(calls) == 1
    (candidate, expected) = calls[0]
    assert len(candidate) == len(expected)  # same length, so the comparison does the same work
