"""Differential test of the one verifier against PyJWT's ``jwt.decode``: a generated corpus of crafted tokens, all
signed with the real key (``tests/jws_corpus.py``), goes through both with the same options. Ours may refuse more
(that is the point of it: one spelling per token, no NaN, the ``typ`` RFC 9068 4 asks for); it never accepts what
``jwt.decode`` refuses, and what both accept reads the same."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passport.jws import ACCESS_TOKEN, ID_TOKEN, InvalidToken, TokenKind, TokenVerifier
from passport.keys.material import generate

from tests.jws_corpus import AUDIENCE, ISSUER, LEEWAY, MISSING, Signer, crafted, values

#: (verifier options, the jwt.decode options that say the same)
MODES = {
    "access token for our API": (dict(audiences=(AUDIENCE,), kind=ACCESS_TOKEN), {}, dict(audience=[AUDIENCE])),
    "access token of any age (revocation)": (
        dict(audiences=(AUDIENCE, "https://as.example/mcp"), kind=ACCESS_TOKEN), dict(check_expiry=False),
        dict(audience=[AUDIENCE, "https://as.example/mcp"], options={"verify_exp": False})),
    "ID token hint for any audience (logout)": (
        dict(audiences=None, kind=ID_TOKEN), dict(check_expiry=False),
        dict(options={"verify_exp": False, "verify_aud": False})),
}


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def signer(request) -> Signer:
    return Signer(generate(request.param))


def pyjwt_accepts(signer: Signer, token: str, kind: TokenKind, decode_options: dict[str, Any]) -> dict | None:
    options = {"require": list(kind.required), **decode_options.get("options", {})}
    try:
        return jwt.decode(token, signer.public.key, algorithms=[signer.public.alg], issuer=ISSUER, leeway=LEEWAY,
                          options=options, **{k: v for k, v in decode_options.items() if k != "options"})
    except Exception:  # any refusal, whatever PyJWT calls it
        return None


def ours_accepts(signer: Signer, token: str, build: dict[str, Any], call: dict[str, Any]) -> dict | None:
    verifier = TokenVerifier({signer.public.kid: signer.public}, issuer=ISSUER, leeway=LEEWAY, **build)
    try:
        return verifier.verify(token, **call)
    except InvalidToken:
        return None


@pytest.mark.parametrize("mode", sorted(MODES))
def test_ours_never_accepts_a_crafted_token_jwt_decode_refuses(signer, mode):
    build, call, decode_options = MODES[mode]
    kind = build["kind"]
    corpus = list(crafted(signer, int(time.time())))
    if kind is ID_TOKEN:  # the same corpus, as ID tokens: typ JWT
        corpus = [c for c in corpus if '"typ":"at+jwt"' not in c.token] + list(
            crafted_as_id_tokens(signer, int(time.time())))
    outcome: Counter[str] = Counter()
    looser = []
    for item in corpus:
        ours = ours_accepts(signer, item.token, build, call)
        theirs = pyjwt_accepts(signer, item.token, kind, decode_options)
        if ours is not None and theirs is None:
            looser.append(item.description)
        elif ours is not None:
            assert ours == theirs, item.description
        outcome["both accept" if ours and theirs else "both refuse" if not (ours or theirs) else
                "only jwt.decode accepts" if theirs else "only ours accepts"] += 1
    assert not looser, f"accepted by ours, refused by jwt.decode: {looser}"
    # Not vacuous: the corpus holds tokens both accept, tokens both refuse, and spellings only jwt.decode takes.
    assert outcome["both accept"] >= 10 and outcome["both refuse"] >= 100, outcome
    assert len(corpus) >= 1000, len(corpus)


def crafted_as_id_tokens(signer: Signer, now: int):
    from tests.jws_corpus import Crafted, base_claims

    claims = {**base_claims(now), "nonce": "n", "azp": "c1"}
    header = signer.header(typ="JWT")
    yield Crafted("ID token baseline", signer.sign(header, claims))
    for name in ("nonce", "azp", "aud", "exp", "sub"):
        for value in values(now):
            changed = {k: v for k, v in {**claims, name: value}.items() if v is not MISSING}
            yield Crafted(f"ID token claim {name}", signer.sign(header, changed))


def test_the_spellings_jwt_decode_tolerates_are_the_ones_ours_refuses(signer):
    """The malleable forms: PyJWT takes a padded segment (trailing ``=``); ours takes each token in one spelling."""
    build, call, decode_options = MODES["access token for our API"]
    tolerated = [c for c in crafted(signer, int(time.time()))
                 if pyjwt_accepts(signer, c.token, ACCESS_TOKEN, decode_options) is not None
                 and ours_accepts(signer, c.token, build, call) is None]
    assert any("padded" in c.description or "trailing =" in c.description for c in tolerated), tolerated


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_claims_and_headers_signed_with_the_real_key_agree_with_jwt_decode(data):
    """Beyond the fixed corpus: random JSON in random claims and header fields, signed, through both."""
    signer = _hypothesis_signer()
    now = int(time.time())
    from tests.jws_corpus import base_claims

    claims = base_claims(now)
    for name in data.draw(st.lists(st.sampled_from([*claims, "x"]), max_size=3)):
        claims[name] = data.draw(st.sampled_from(values(now)) | JSON)
    header = signer.header()
    for name in data.draw(st.lists(st.sampled_from(["alg", "kid", "typ", "crit", "b64", "x"]), max_size=2)):
        header[name] = data.draw(st.sampled_from(values(now)) | JSON)
    claims = {k: v for k, v in claims.items() if v is not MISSING}
    header = {k: v for k, v in header.items() if v is not MISSING}
    token = signer.sign(header, claims)
    build, call, decode_options = MODES["access token for our API"]
    ours = ours_accepts(signer, token, build, call)
    if ours is not None:
        assert pyjwt_accepts(signer, token, ACCESS_TOKEN, decode_options) == ours


_SIGNERS: list[Signer] = []


def _hypothesis_signer() -> Signer:
    if not _SIGNERS:
        _SIGNERS.append(Signer(generate("ES256")))  # the fastest signer: Hypothesis signs every example
    return _SIGNERS[0]
