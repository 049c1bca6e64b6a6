"""The guard's token verifier (RFC 9068 4, RFC 7515 5.2, RFC 7519 4.1) on its own: it takes the JWS apart itself
and checks the claims as jwt.decode does, so every rule is pinned here, each against a token PyJWT signed."""

from __future__ import annotations

import time

import jwt
import pytest
from passport.guard.verify import InvalidToken, TokenVerifier
from passport.keys.material import VerificationKey, generate

ISSUER, AUDIENCE, LEEWAY = "https://as.example", "api", 30


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def key(request):
    return generate(request.param)


@pytest.fixture
def verifier(key):
    public = VerificationKey.of(key.public_key())
    return TokenVerifier(lambda: {public.kid: public}, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)


def sign(key, overrides=None, *, drop=(), headers=None):
    now = int(time.time())
    public = VerificationKey.of(key.public_key())
    claims = {"iss": ISSUER, "sub": "u1", "aud": AUDIENCE, "client_id": "c1", "jti": "j1", "iat": now,
              "nbf": now, "exp": now + 60, "scope": "a"}
    claims.update(overrides or {})
    for name in drop:
        claims.pop(name)
    headers = {"kid": public.kid, "typ": "at+jwt", **(headers or {})}
    return jwt.encode(claims, key, algorithm=public.alg, headers=headers)


def test_a_good_token_gives_its_claims(key, verifier):
    assert verifier.verify(sign(key))["sub"] == "u1"


def test_an_audience_list_containing_ours_is_accepted(key, verifier):
    assert verifier.verify(sign(key, {"aud": ["other", AUDIENCE]}))["client_id"] == "c1"


@pytest.mark.parametrize("aud", ["other", ["other"], {"api": 1}, 7, []])
def test_an_audience_without_ours_is_refused(key, verifier, aud):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, {"aud": aud}))


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"])
def test_every_required_claim_is_required(key, verifier, claim):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, drop=(claim,)))


# Times are taken at collection, which may be minutes before the test runs in a long parallel session: the
# margins are an hour, not seconds, so "in the future" is still in the future when the test runs.
@pytest.mark.parametrize("claims", [
    {"iss": ISSUER + "/"}, {"exp": int(time.time()) - LEEWAY - 1}, {"nbf": int(time.time()) + LEEWAY + 3600},
    {"iat": int(time.time()) + LEEWAY + 3600}, {"exp": True}, {"exp": "9999999999"}, {"nbf": None},
    {"sub": 1}, {"client_id": ["c1"]}, {"jti": 5},
])
def test_claims_out_of_time_or_of_the_wrong_type_are_refused(key, verifier, claims):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims))


def test_expiry_within_the_leeway_and_fractional_times_are_accepted(key, verifier):
    assert verifier.verify(sign(key, {"exp": time.time() - LEEWAY + 5}))


@pytest.mark.parametrize("headers", [{"crit": ["exp"]}, {"b64": False}, {"typ": "JWT"}, {"kid": "unknown"}])
def test_headers_it_cannot_honour_are_refused(key, verifier, headers):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, headers=headers))


def test_a_token_signed_by_another_key_under_the_published_kid_is_refused(key, verifier):
    public = VerificationKey.of(key.public_key())
    forged = jwt.encode({"iss": ISSUER}, generate(public.alg), algorithm=public.alg,
                        headers={"kid": public.kid, "typ": "at+jwt"})
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


@pytest.mark.parametrize("mangle", [
    lambda t: t.rsplit(".", 1)[0],  # two segments
    lambda t: t + ".x",  # four
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # signature changed
    lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],  # payload swapped for {}
    lambda t: t.split(".")[0] + ".W10." + t.split(".")[2],  # payload swapped for []
    lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".***",  # signature not base64url
    lambda t: "é" + t,  # not ASCII
])
def test_mangled_tokens_are_refused_never_crash(key, verifier, mangle):
    with pytest.raises(InvalidToken):
        verifier.verify(mangle(sign(key)))


def test_a_payload_that_is_not_an_object_is_refused_even_when_signed(key, verifier):
    public = VerificationKey.of(key.public_key())
    token = jwt.api_jws.encode(b"[1]", key, algorithm=public.alg, headers={"kid": public.kid, "typ": "at+jwt"})
    with pytest.raises(InvalidToken):
        verifier.verify(token)
