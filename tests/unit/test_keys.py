"""Signing keys (docs/concepts.md and docs/keys.md): generation, PEM round trips, RFC 7638 thumbprints as kids, JWKs,
key files, rotation, the environment source and the per-process cache."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from passport.config import Keys, Settings
from passport.keys import files, keyring
from passport.keys.keyring import (
    PREVIOUS_DIR,
    PRIVATE_FILE,
    PUBLIC_FILE,
    JwtSigner,
    KeyCache,
    KeysMissing,
    load_from_files,
    load_keyset,
)
from passport.keys.material import (
    KeyMaterialError,
    VerificationKey,
    algorithm_for,
    generate,
    load_private,
    load_public,
    private_pem,
    public_pem,
    thumbprint,
)

from tests.rfc_examples import RFC7638_KEY, RFC7638_THUMBPRINT

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}

#: The RSA key of RFC 7638 section 3.1, and its thumbprint from section 3.1.
RFC7638_N, RFC7638_E = RFC7638_KEY["n"], RFC7638_KEY["e"]


def b64int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def public_numbers_equal(a, b) -> bool:
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(*raw) == b.public_bytes(*raw)


def settings_for(path: Path) -> Settings:
    return Settings(keys=Keys(path=str(path)), base_dir="/")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- generation and PEM ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "bits", "kind"),
    [
        ("RS256", 2048, rsa.RSAPrivateKey),
        ("RS256", 3072, rsa.RSAPrivateKey),
        ("ES256", 2048, ec.EllipticCurvePrivateKey),
        ("EdDSA", 2048, ed25519.Ed25519PrivateKey),
    ],
)
def test_generate_serialize_and_load_round_trip(alg, bits, kind):
    key = generate(alg, bits)
    assert isinstance(key, kind)
    if alg == "RS256":
        assert key.key_size == bits
    pem = private_pem(key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    loaded = load_private(pem)
    assert public_numbers_equal(loaded.public_key(), key.public_key())
    public = load_public(public_pem(key.public_key()))
    assert public_numbers_equal(public, key.public_key())
    assert algorithm_for(public) == alg
    assert thumbprint(public) == thumbprint(key.public_key())


def test_pem_loading_accepts_bytes_too(ec_key):
    assert public_numbers_equal(load_private(private_pem(ec_key).encode()).public_key(), ec_key.public_key())


def test_the_default_is_rs256_with_2048_bits():
    key = generate()
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048


@pytest.mark.parametrize("bits", [1024, 2047, 4097, 8192])
def test_rsa_lengths_other_than_2048_3072_4096_are_not_generated(bits):
    with pytest.raises(KeyMaterialError):
        generate("RS256", bits)


def test_an_unsupported_algorithm_is_refused():
    with pytest.raises(KeyMaterialError, match="HS256"):
        generate("HS256")


@pytest.fixture(scope="module")
def short_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def test_an_rsa_private_key_shorter_than_2048_bits_is_refused(short_rsa):
    with pytest.raises(KeyMaterialError, match="2048"):
        load_private(private_pem(short_rsa))


def test_an_rsa_public_key_shorter_than_2048_bits_is_refused(short_rsa):
    with pytest.raises(KeyMaterialError, match="2048"):
        load_public(public_pem(short_rsa.public_key()))


def test_an_ec_key_not_on_p256_is_refused():
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(KeyMaterialError):
        load_private(private_pem(key))


@pytest.mark.parametrize("text", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_garbage_is_not_a_private_key(text):
    with pytest.raises(KeyMaterialError):
        load_private(text)


def test_a_private_key_is_not_a_public_key(ec_key):
    with pytest.raises(KeyMaterialError):
        load_public(private_pem(ec_key))


# --- thumbprints and JWKs ------------------------------------------------------------------------------------


def test_the_thumbprint_is_the_rfc7638_example():
    key = rsa.RSAPublicNumbers(b64int(RFC7638_E), b64int(RFC7638_N)).public_key()
    assert thumbprint(key) == RFC7638_THUMBPRINT
    assert VerificationKey.of(key).kid == RFC7638_THUMBPRINT


@pytest.mark.parametrize(
    ("key_fixture", "alg", "members"),
    [
        ("rsa_key", "RS256", {"kty", "n", "e"}),
        ("ec_key", "ES256", {"kty", "crv", "x", "y"}),
        ("ed_key", "EdDSA", {"kty", "crv", "x"}),
    ],
)
def test_the_jwk_has_kid_alg_use_and_no_private_members(request, key_fixture, alg, members):
    key = request.getfixturevalue(key_fixture)
    verification = VerificationKey.of(key.public_key())
    jwk = verification.jwk()
    assert set(jwk) == members | {"kid", "alg", "use"}
    assert not PRIVATE_MEMBERS & set(jwk)
    assert jwk["kid"] == thumbprint(key.public_key()) == verification.kid
    assert jwk["alg"] == alg == verification.alg
    assert jwk["use"] == "sig"


def test_the_ec_jwk_has_fixed_length_coordinates(ec_key):
    jwk = VerificationKey.of(ec_key.public_key()).jwk()
    assert jwk["crv"] == "P-256"
    assert len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert len(base64.urlsafe_b64decode(jwk["y"] + "=")) == 32


@pytest.mark.parametrize("key_fixture", ["rsa_key", "ec_key", "ed_key"])
def test_a_token_signed_by_the_signer_verifies_with_the_published_jwk(request, key_fixture):
    signer = JwtSigner(request.getfixturevalue(key_fixture))
    token = signer.sign({"sub": "x"}, {"kid": signer.kid, "typ": "at+jwt"})
    published = jwt.PyJWK(json.loads(json.dumps(signer.verification_key.jwk())))
    assert jwt.decode(token, published.key, algorithms=[signer.alg]) == {"sub": "x"}
    assert jwt.get_unverified_header(token)["kid"] == signer.kid


# --- key files -----------------------------------------------------------------------------------------------


def test_create_keys_writes_0600_files_in_a_0700_folder(tmp_path):
    folder = tmp_path / "keys"
    kid = files.create_keys(folder, "ES256", 2048)
    assert kid
    assert mode(folder) == 0o700
    assert mode(folder / PRIVATE_FILE) == 0o600
    assert mode(folder / PUBLIC_FILE) == 0o600
    assert thumbprint(load_public((folder / PUBLIC_FILE).read_text())) == kid
    assert thumbprint(load_private((folder / PRIVATE_FILE).read_text()).public_key()) == kid


def test_create_keys_tightens_an_existing_folder(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    files.create_keys(folder, "EdDSA", 2048)
    assert mode(folder) == 0o700


def test_create_keys_does_not_overwrite_without_force(tmp_path):
    files.create_keys(tmp_path, "ES256", 2048)
    before = (tmp_path / PRIVATE_FILE).read_text()
    assert files.create_keys(tmp_path, "ES256", 2048) is None
    assert (tmp_path / PRIVATE_FILE).read_text() == before


def test_create_keys_with_force_replaces_them(tmp_path):
    old = files.create_keys(tmp_path, "ES256", 2048)
    new = files.create_keys(tmp_path, "ES256", 2048, force=True)
    assert new and new != old
    assert thumbprint(load_public((tmp_path / PUBLIC_FILE).read_text())) == new
    assert mode(tmp_path / PRIVATE_FILE) == 0o600


def test_load_from_files_gives_the_signer_and_its_public_key(tmp_path):
    kid = files.create_keys(tmp_path, "RS256", 2048)
    keyset = load_from_files(tmp_path, need_private=True)
    assert keyset.require_signer().kid == kid
    assert list(keyset.verification) == [kid]
    assert keyset.jwks() == {"keys": [keyset.verification[kid].jwk()]}


def test_load_from_files_without_the_private_key_publishes_only(tmp_path):
    kid = files.create_keys(tmp_path, "ES256", 2048)
    keyset = load_from_files(tmp_path, need_private=False)
    assert keyset.signer is None
    assert list(keyset.verification) == [kid]
    with pytest.raises(KeysMissing):
        keyset.require_signer()


def test_load_from_an_empty_folder_is_keys_missing(tmp_path):
    with pytest.raises(KeysMissing):
        load_from_files(tmp_path, need_private=False)


def test_a_public_key_alone_cannot_sign(tmp_path):
    files.create_keys(tmp_path, "ES256", 2048)
    (tmp_path / PRIVATE_FILE).unlink()
    with pytest.raises(KeysMissing):
        load_from_files(tmp_path, need_private=True)


def test_rotation_keeps_the_old_public_key_and_signs_with_the_new(tmp_path):
    old = files.create_keys(tmp_path, "ES256", 2048)
    old_signer = load_from_files(tmp_path, need_private=True).require_signer()
    old_token = old_signer.sign({"sub": "x"}, {"kid": old_signer.kid})
    new = files.rotate_keys(tmp_path, "ES256", 2048)
    assert new != old
    keyset = load_from_files(tmp_path, need_private=True)
    assert keyset.require_signer().kid == new
    assert list(keyset.verification) == [new, old]  # current first
    assert jwt.decode(old_token, keyset.verification[old].key, algorithms=["ES256"]) == {"sub": "x"}
    (retired,) = (tmp_path / PREVIOUS_DIR).iterdir()
    assert "PRIVATE" not in retired.read_text()
    assert mode(retired) == 0o600
    assert set(load_from_files(tmp_path, need_private=False).verification) == {new, old}


def test_rotation_may_change_the_algorithm_and_keeps_every_retired_key(tmp_path):
    first = files.create_keys(tmp_path, "RS256", 2048)
    second = files.rotate_keys(tmp_path, "ES256", 2048)
    third = files.rotate_keys(tmp_path, "EdDSA", 2048)
    keyset = load_from_files(tmp_path, need_private=True)
    assert keyset.require_signer().alg == "EdDSA"
    assert set(keyset.verification) == {first, second, third}
    assert {k.alg for k in keyset.verification.values()} == {"RS256", "ES256", "EdDSA"}


# --- the environment as a source ---------------------------------------------------------------------------


def test_load_keyset_from_passport_private_key(ec_key, tmp_path):
    keyset = load_keyset(settings_for(tmp_path), True, environ={"PASSPORT_PRIVATE_KEY": private_pem(ec_key)})
    kid = thumbprint(ec_key.public_key())
    assert keyset.require_signer().kid == kid
    assert list(keyset.verification) == [kid]


def test_load_keyset_accepts_literal_backslash_n_escapes(ec_key, tmp_path):
    escaped = private_pem(ec_key).replace("\n", "\\n")
    assert "\n" not in escaped
    keyset = load_keyset(settings_for(tmp_path), True, environ={"PASSPORT_PRIVATE_KEY": escaped})
    assert keyset.require_signer().kid == thumbprint(ec_key.public_key())


def test_load_keyset_from_passport_public_key_for_verification(ed_key, tmp_path):
    pem = public_pem(ed_key.public_key()).replace("\n", "\\n")
    keyset = load_keyset(settings_for(tmp_path), False, environ={"PASSPORT_PUBLIC_KEY": pem})
    assert list(keyset.verification) == [thumbprint(ed_key.public_key())]
    assert keyset.signer is None


def test_a_public_key_in_the_environment_cannot_sign(ed_key, tmp_path):
    with pytest.raises(KeysMissing):
        load_keyset(settings_for(tmp_path), True, environ={"PASSPORT_PUBLIC_KEY": public_pem(ed_key.public_key())})


def test_a_private_key_alone_publishes_its_public_half(ec_key, tmp_path):
    keyset = load_keyset(settings_for(tmp_path), False, environ={"PASSPORT_PRIVATE_KEY": private_pem(ec_key)})
    assert keyset.signer is None
    assert list(keyset.verification) == [thumbprint(ec_key.public_key())]


def test_both_environment_keys_together(ec_key, tmp_path):
    environ = {"PASSPORT_PRIVATE_KEY": private_pem(ec_key), "PASSPORT_PUBLIC_KEY": public_pem(ec_key.public_key())}
    keyset = load_keyset(settings_for(tmp_path), True, environ=environ)
    assert keyset.require_signer().kid == thumbprint(ec_key.public_key())
    assert list(keyset.verification) == [keyset.require_signer().kid]


def test_the_environment_wins_over_key_files(ec_key, tmp_path):
    files.create_keys(tmp_path, "EdDSA", 2048)
    keyset = load_keyset(settings_for(tmp_path), True, environ={"PASSPORT_PRIVATE_KEY": private_pem(ec_key)})
    assert keyset.require_signer().alg == "ES256"


def test_without_the_environment_keys_come_from_the_files(tmp_path):
    kid = files.create_keys(tmp_path, "EdDSA", 2048)
    assert load_keyset(settings_for(tmp_path), True, environ={}).require_signer().kid == kid


def test_a_bad_pem_in_the_environment_is_a_key_material_error(tmp_path):
    with pytest.raises(KeyMaterialError):
        load_keyset(settings_for(tmp_path), True, environ={"PASSPORT_PRIVATE_KEY": "nonsense"})


# --- the per-process cache ---------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch):
    monkeypatch.delenv("PASSPORT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("PASSPORT_PUBLIC_KEY", raising=False)


def test_the_key_cache_parses_once(tmp_path, clean_environment, monkeypatch):
    files.create_keys(tmp_path, "ES256", 2048)
    settings = settings_for(tmp_path)
    loads = []
    real = keyring.load_keyset
    monkeypatch.setattr(keyring, "load_keyset", lambda *a, **k: loads.append(a) or real(*a, **k))
    cache = KeyCache()
    first = cache.get(settings, need_private=True)
    assert cache.get(settings, need_private=True) is first
    assert len(loads) == 1


def test_the_key_cache_keeps_signing_and_verifying_sets_apart(tmp_path, clean_environment):
    files.create_keys(tmp_path, "ES256", 2048)
    cache = KeyCache()
    signing = cache.get(settings_for(tmp_path), need_private=True)
    verifying = cache.get(settings_for(tmp_path), need_private=False)
    assert signing.signer is not None and verifying.signer is None
    assert cache.get(settings_for(tmp_path), need_private=False) is verifying


def test_reload_gives_a_new_key_set_that_sees_a_rotation(tmp_path, clean_environment):
    old = files.create_keys(tmp_path, "ES256", 2048)
    settings = settings_for(tmp_path)
    cache = KeyCache()
    first = cache.get(settings)
    new = files.rotate_keys(tmp_path, "ES256", 2048)
    assert cache.get(settings) is first  # still the parsed set: no file access per request
    reloaded = cache.reload(settings)
    assert reloaded is not first
    assert set(reloaded.verification) == {old, new}
    assert cache.get(settings) is reloaded


def test_clear_forgets_every_set(tmp_path, clean_environment):
    files.create_keys(tmp_path, "ES256", 2048)
    cache = KeyCache()
    first = cache.get(settings_for(tmp_path))
    cache.clear()
    assert cache.get(settings_for(tmp_path)) is not first


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_the_signer_writes_exactly_what_pyjwt_writes(alg):
    """JwtSigner builds the compact JWS itself (its header once per kind); the result must be PyJWT's, byte for
    byte where the algorithm is deterministic, and verify with PyJWT in every case."""
    import jwt
    from passport.keys.keyring import JwtSigner
    from passport.keys.material import generate

    key = generate(alg)
    signer = JwtSigner(key)
    claims = {"iss": "https://as.example", "sub": "ü", "scopes": ["a", "b"], "iat": 1, "exp": 2, "aud": "api"}
    headers = {"kid": signer.kid, "typ": "at+jwt"}
    token = signer.sign(claims, headers)
    reference = jwt.encode(claims, key, algorithm=alg, headers=headers)
    assert token.rsplit(".", 1)[0] == reference.rsplit(".", 1)[0]
    if alg != "ES256":  # ECDSA signatures are randomized
        assert token == reference
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": signer.kid, "typ": "at+jwt"}
    assert jwt.decode(token, key.public_key(), algorithms=[alg], audience="api",
                      options={"verify_exp": False}) == claims


# -- the published keys, looked up again for a kid they do not hold (after a rotation) ---------------------------


def test_published_keys_reload_once_for_an_unknown_kid_then_wait_before_the_next_reload():
    """A warm container meets a token signed by a key rotated in after it loaded: it reloads and verifies it;
    made-up kids cost at most one reload every RELOAD_INTERVAL_SECONDS."""
    from passport.keys.keyring import RELOAD_INTERVAL_SECONDS, PublishedKeys

    old, new = object(), object()
    loaded = {"old": old}
    reloads = []
    now = [1000.0]

    def reload():
        reloads.append(now[0])
        loaded["new"] = new  # the rotation happened: the store now publishes both keys
        return dict(loaded)

    keys = PublishedKeys(lambda: dict(loaded), reload, clock=lambda: now[0])
    assert keys.get("old") is old and reloads == []
    assert keys.get("new") is new and reloads == [1000.0]
    assert keys.get("made-up") is None and reloads == [1000.0]  # within the interval: no second reload
    now[0] += RELOAD_INTERVAL_SECONDS
    assert keys.get("made-up") is None and len(reloads) == 2
    assert set(keys) == {"old", "new"} and len(keys) == 2


def test_a_key_cache_asked_for_keys_at_most_a_minute_old_reads_them_again_after_that(tmp_path):
    """The metadata function publishes the JWKS from keys at most KEYS_MAX_AGE_SECONDS old, so a key rotated in
    while it is warm appears within a minute; callers that give no max_age keep their set."""
    from types import SimpleNamespace

    from passport.endpoints.discovery import KEYS_MAX_AGE_SECONDS
    from passport.keys.files import create_keys, rotate_keys
    from passport.keys.keyring import KeyCache

    now = [0.0]
    cache = KeyCache(clock=lambda: now[0])
    settings = SimpleNamespace(keys=SimpleNamespace(secret_name=""), keys_path=tmp_path,
                               storage=SimpleNamespace(timeout_seconds=1, retries=0))
    first = create_keys(tmp_path, "ES256", 2048)
    assert list(cache.get(settings, max_age=KEYS_MAX_AGE_SECONDS).verification) == [first]
    second = rotate_keys(tmp_path, "ES256", 2048)
    now[0] += KEYS_MAX_AGE_SECONDS - 1
    assert list(cache.get(settings, max_age=KEYS_MAX_AGE_SECONDS).verification) == [first]
    assert list(cache.get(settings).verification) == [first]
    now[0] += 1
    assert list(cache.get(settings, max_age=KEYS_MAX_AGE_SECONDS).verification) == [second, first]
