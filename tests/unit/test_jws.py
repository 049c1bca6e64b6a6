"""The one token verifier (``passport.jws``) on its own: RFC 7515's compact serialization, RFC 7519's claims and
RFC 9068's access tokens, each rule pinned against a token signed with a real key (PyJWT signs the ordinary ones;
``raw_token`` signs whatever bytes a test needs, so a hostile header or payload still carries a valid signature)."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from passport.jws import ACCESS_TOKEN, ID_TOKEN, InvalidToken, TokenVerifier
from passport.keys.material import VerificationKey, generate

ISSUER, AUDIENCE, LEEWAY = "https://as.example", "api", 30


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def key(request):
    return generate(request.param)


@pytest.fixture(scope="module")
def public(key):
    return VerificationKey.of(key.public_key())


@pytest.fixture
def verifier(public):
    return TokenVerifier({public.kid: public}, issuer=ISSUER, audiences=(AUDIENCE,), leeway=LEEWAY)


def claims_now(**overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u1", "aud": AUDIENCE, "client_id": "c1", "jti": "j1", "iat": now,
              "nbf": now, "exp": now + 3600, "scope": "a"}
    claims.update(overrides)
    return claims


def sign(key, overrides=None, *, drop=(), headers=None):
    public = VerificationKey.of(key.public_key())
    claims = claims_now(**(overrides or {}))
    for name in drop:
        claims.pop(name)
    return jwt.encode(claims, key, algorithm=public.alg, headers={"kid": public.kid, "typ": "at+jwt",
                                                                   **(headers or {})})


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_token(key, header: bytes | str, payload: bytes | str, *, encode=b64) -> str:
    """A JWS over exactly these segments (already encoded when given as text), validly signed by ``key``."""
    public = VerificationKey.of(key.public_key())
    header_segment = header if isinstance(header, str) else encode(header)
    payload_segment = payload if isinstance(payload, str) else encode(payload)
    signing_input = f"{header_segment}.{payload_segment}".encode()
    return f"{signing_input.decode()}.{b64(jwt.get_algorithm_by_name(public.alg).sign(signing_input, key))}"


def header_of(public, **extra) -> bytes:
    return json.dumps({"alg": public.alg, "kid": public.kid, "typ": "at+jwt", **extra}).encode()


def test_a_good_token_gives_its_claims(key, verifier):
    assert verifier.verify(sign(key))["sub"] == "u1"


def test_an_audience_list_holding_ours_is_accepted(key, verifier):
    assert verifier.verify(sign(key, {"aud": ["other", AUDIENCE]}))["client_id"] == "c1"


@pytest.mark.parametrize("aud", ["other", ["other"], {"api": 1}, 7, [], "", [AUDIENCE, 1], [AUDIENCE, None],
                                 [AUDIENCE, ""], [[AUDIENCE]]])
def test_an_audience_without_ours_or_not_strings_is_refused(key, verifier, aud):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, {"aud": aud}))


def test_a_verifier_for_any_audience_still_wants_a_well_formed_aud(key, public):
    anyone = TokenVerifier({public.kid: public}, issuer=ISSUER, audiences=None)
    assert anyone.verify(sign(key, {"aud": ["x", "y"]}))["aud"] == ["x", "y"]
    for aud in ([1], [], "", {"x": 1}):
        with pytest.raises(InvalidToken):
            anyone.verify(sign(key, {"aud": aud}))


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"])
def test_every_required_claim_is_required(key, verifier, claim):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, drop=(claim,)))


# Times are taken at collection, which may be minutes before the test runs in a long parallel session: the
# margins are an hour, not seconds, so "in the future" is still in the future when the test runs.
@pytest.mark.parametrize("claims", [
    {"iss": ISSUER + "/"}, {"exp": int(time.time()) - LEEWAY - 1}, {"nbf": int(time.time()) + LEEWAY + 3600},
    {"iat": int(time.time()) + LEEWAY + 3600}, {"exp": True}, {"exp": "9999999999"}, {"nbf": None},
    {"sub": 1}, {"client_id": ["c1"]}, {"jti": 5}, {"scope": ["a"]}, {"iat": [1]}, {"iat": None},
])
def test_claims_out_of_time_or_of_the_wrong_type_are_refused(key, verifier, claims):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(key, claims))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_date_of_nan_or_infinity_is_refused_even_when_signed(key, public, verifier, claim, literal):
    """RFC 7519 2: a NumericDate is a number of seconds; JSON has no NaN or Infinity (RFC 8259 6), and Python's
    parser, which reads them, would compare NaN as never expired and Infinity as expiring never."""
    payload = json.dumps(claims_now()).replace(f'"{claim}": ', f'"{claim}": {literal}, "was": ', 1)
    with pytest.raises(InvalidToken):
        verifier.verify(raw_token(key, header_of(public), payload.encode()))


def test_expiry_within_the_leeway_and_fractional_times_are_accepted(key, verifier):
    assert verifier.verify(sign(key, {"exp": time.time() - LEEWAY + 5}))


def test_an_expired_token_passes_only_where_expiry_is_not_checked(key, verifier):
    expired = sign(key, {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200})
    with pytest.raises(InvalidToken):
        verifier.verify(expired)
    assert verifier.verify(expired, check_expiry=False)["jti"] == "j1"
    with pytest.raises(InvalidToken):  # nbf and iat still count
        verifier.verify(sign(key, {"nbf": int(time.time()) + 7200}), check_expiry=False)


@pytest.mark.parametrize("headers", [{"crit": ["exp"]}, {"b64": False}, {"b64": True}, {"typ": "JWT"},
                                     {"kid": "unknown"}, {"typ": None}, {"typ": ["at+jwt"]}, {"kid": 7},
                                     {"kid": None}, {"alg": None}, {"crit": []}])
def test_headers_it_cannot_honour_are_refused(key, public, verifier, headers):
    with pytest.raises(InvalidToken):
        verifier.verify(raw_token(key, header_of(public, **headers), json.dumps(claims_now()).encode()))


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_the_access_token_type_is_compared_case_insensitively(key, verifier, typ):
    """RFC 7515 4.1.9 and RFC 9068 4: typ is a media type, and media types compare case-insensitively."""
    assert verifier.verify(sign(key, headers={"typ": typ}))


def test_an_id_token_is_no_access_token_and_an_access_token_no_id_token(key, public, verifier):
    id_verifier = TokenVerifier({public.kid: public}, issuer=ISSUER, audiences=None, kind=ID_TOKEN)
    id_token = sign(key, {"nonce": "n"}, headers={"typ": "JWT"})
    assert id_verifier.verify(id_token)["nonce"] == "n"
    with pytest.raises(InvalidToken):
        verifier.verify(id_token)
    with pytest.raises(InvalidToken):
        id_verifier.verify(sign(key))
    with pytest.raises(InvalidToken):
        id_verifier.verify(sign(key, {"nonce": 5}, headers={"typ": "JWT"}))


def test_an_alg_other_than_the_keys_own_is_refused(key, public, verifier):
    """RFC 8725 3.1: one algorithm per key; never none, never HMAC keyed with the public key."""
    for alg in ("none", "HS256", "RS384", "ES512", "PS256", ""):
        if alg != public.alg:
            with pytest.raises(InvalidToken):
                verifier.verify(raw_token(key, header_of(public, alg=alg), json.dumps(claims_now()).encode()))


def test_a_token_signed_by_another_key_under_the_published_kid_is_refused(key, public, verifier):
    forged = jwt.encode(claims_now(), generate(public.alg), algorithm=public.alg,
                        headers={"kid": public.kid, "typ": "at+jwt"})
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


def test_a_valid_token_has_exactly_one_spelling(key, verifier):
    """RFC 7515 2 (base64url without padding) and RFC 4648 3.5 (canonical encoding): the same signature bytes
    written with padding, with the standard alphabet's + and /, or with non-zero bits after the last byte, would
    be the same token under another spelling; every such spelling is refused."""
    token = sign(key)
    header, payload, signature = token.split(".")
    spellings = [
        f"{header}.{payload}.{signature}=", f"{header}.{payload}.{signature}==",
        f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}",
    ]
    if len(signature) % 4:
        last = signature[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        index = alphabet.index(last)
        sibling = alphabet[index + 1] if index + 1 < len(alphabet) else alphabet[index - 1]
        if base64.urlsafe_b64decode(signature[:-1] + sibling + "=" * (-len(signature) % 4)) == \
                base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)):
            spellings.append(f"{header}.{payload}.{signature[:-1]}{sibling}")
    assert verifier.verify(token)
    malleable = [s for s in spellings if s != token]
    assert malleable
    for spelling in malleable:
        with pytest.raises(InvalidToken):
            verifier.verify(spelling)


def test_a_header_or_payload_in_padded_or_standard_base64_is_refused_even_when_signed(key, public, verifier):
    header, payload = header_of(public), json.dumps(claims_now()).encode()

    def padded(raw):
        return base64.urlsafe_b64encode(raw).decode()

    def standard(raw):
        return base64.b64encode(raw).decode().rstrip("=")

    for encode in (padded, standard):
        token = raw_token(key, header + b" " * 3, payload + b" ", encode=encode)
        if token.split(".")[:2] != raw_token(key, header + b" " * 3, payload + b" ").split(".")[:2]:
            with pytest.raises(InvalidToken):
                verifier.verify(token)


@pytest.mark.parametrize("header", [
    b"[" * 5000, b"{\"a\":" * 5000, b"\xff\xfe", json.dumps({"typ": "at+jwt"}).encode("utf-16"), b"null", b"[]",
    b'{"typ": "at+jwt", "alg": NaN}', b"{}",
])
def test_a_header_that_is_not_a_json_object_in_utf8_is_refused(key, verifier, header):
    """The nested header is the one that made the guard raise instead of refuse; UTF-16 JSON is what
    ``json.loads`` of bytes would quietly accept (RFC 7515 4: the header is UTF-8)."""
    with pytest.raises(InvalidToken):
        verifier.verify(raw_token(key, header, json.dumps(claims_now()).encode()))


@pytest.mark.parametrize("payload", [b"[1]", b"[" * 5000, b"\xff", b'"claims"', b"{" * 3 + b"}" * 3, b""])
def test_a_payload_that_is_not_a_json_object_is_refused_even_when_signed(key, public, verifier, payload):
    with pytest.raises(InvalidToken):
        verifier.verify(raw_token(key, header_of(public), payload))


@pytest.mark.parametrize("mangle", [
    lambda t: t.rsplit(".", 1)[0],  # two segments
    lambda t: t + ".x",  # four
    lambda t: t + ".",  # an empty fifth
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # signature changed
    lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],  # payload swapped for {}
    lambda t: t.split(".")[0] + ".W10." + t.split(".")[2],  # payload swapped for []
    lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".***",  # signature not base64url
    lambda t: t.split(".")[0] + "." + t.split(".")[1] + ".",  # no signature
    lambda t: "é" + t,  # not ASCII
    lambda t: " " + t,  # whitespace
    lambda t: t.replace(".", ". ", 1),
    lambda t: "A" * 20_000,  # too long to look at
    lambda t: "." * 2,
])
def test_mangled_tokens_are_refused_never_crash(key, verifier, mangle):
    with pytest.raises(InvalidToken):
        verifier.verify(mangle(sign(key)))


@pytest.mark.parametrize("token", [None, 7, b"a.b.c", ["a", "b", "c"]])
def test_something_that_is_not_text_is_refused(verifier, token):
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_kind_and_an_empty_audience_list_are_programming_errors(public):
    with pytest.raises(ValueError):
        TokenVerifier({public.kid: public}, issuer=ISSUER, audiences=())
    assert TokenVerifier({public.kid: public}, issuer=ISSUER, audiences=("x",)).kind is ACCESS_TOKEN
