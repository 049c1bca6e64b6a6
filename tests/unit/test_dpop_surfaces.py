"""Where DPoP (RFC 9449) meets each surface, without I/O: the Authorization header's two schemes, the proof checker's
order (verify, then spend), the challenges a resource answers with, the authorizer cache, the security profiles,
and the replay ledger's reading of a lost condition."""

from __future__ import annotations

import time

import pytest
from passport.authorizer_cache import ttl_seconds
from passport.bearer import BEARER, DPOP, MalformedAuthorization, token_credentials
from passport.core.dpop import DPOP_ALGORITHMS, InvalidDpopProof, ProofChecker
from passport.core.models import Client
from passport.core.profile import BASELINE, FAPI2, client_policy
from passport.gateway_responses import DPOP_ALGORITHMS as GATEWAY_DPOP_ALGORITHMS
from passport.gateway_responses import gateway_responses
from passport.guard.resource import bearer_refusal
from passport.storage.ledger import ProofLedger

from tests.dpop_keys import DpopKey

URL = "https://api.example.com/orders"


class Clock:
    def now(self) -> int:
        return int(time.time())


class Ledger:
    def __init__(self) -> None:
        self.spent: list[tuple[str, str, int]] = []

    def spend(self, jkt: str, jti: str, expires_at: int) -> bool:
        if any(s[:2] == (jkt, jti) for s in self.spent):
            return False
        self.spent.append((jkt, jti, expires_at))
        return True


# -- the Authorization header (RFC 6750 2.1, RFC 9449 7.1) ---------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("Bearer abc.def", (BEARER, "abc.def")),
    ("bearer abc", (BEARER, "abc")),
    ("DPoP abc.def", (DPOP, "abc.def")),
    ("dpop   abc", (DPOP, "abc")),
    ("DPOP abc", (DPOP, "abc")),
    ("Basic abc", None),
    ("DPoP", None),
    ("", None),
    (None, None),
])
def test_both_schemes_are_read_and_any_other_is_no_credential(value, expected):
    assert token_credentials(value) == expected


@pytest.mark.parametrize("value", ["DPoP a b", "DPoP a,DPoP b", "DPoP a=b", "Bearer a b", "DPoP " + "a" * 20000])
def test_a_malformed_token_of_either_scheme_is_malformed(value):
    with pytest.raises(MalformedAuthorization):
        token_credentials(value)


# -- the proof checker: every check of RFC 9449 4.3, then the spend of 11.1 -----------------------------------------


def test_a_good_proof_is_spent_once_until_it_would_be_too_old_anyway():
    ledger, key = Ledger(), DpopKey()
    checker = ProofChecker(ledger, Clock(), max_age_seconds=120)
    proof = key.proof("GET", URL)
    verified = checker.check(proof, method="GET", url=URL)
    assert verified.jkt == key.jkt
    assert ledger.spent == [(key.jkt, verified.jti, verified.iat + 121)]
    with pytest.raises(InvalidDpopProof, match="used before"):
        checker.check(proof, method="GET", url=URL)


def test_a_proof_that_fails_a_check_is_never_spent():
    """Spending a bad proof would let anyone who sees a good one's jti burn it first."""
    ledger, key = Ledger(), DpopKey()
    checker = ProofChecker(ledger, Clock())
    with pytest.raises(InvalidDpopProof):
        checker.check(key.proof("GET", URL), method="POST", url=URL)
    assert ledger.spent == []


def test_without_nonces_no_nonce_is_handed_out():
    assert ProofChecker(Ledger(), Clock()).fresh_nonce() is None


# -- a resource's challenges (RFC 6750 3, RFC 9449 7.1, RFC 9728 5.1) -------------------------------------------


def test_a_resource_that_accepts_dpop_offers_it_beside_bearer():
    refusal = bearer_refusal(401, "invalid_token", "bad", "https://api.example.com/.well-known/x",
                             dpop_algorithms=DPOP_ALGORITHMS)
    assert refusal.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", resource_metadata="https://api.example.com/.well-known/x", '
        'DPoP algs="ES256 RS256 EdDSA"')


def test_a_dpop_failure_is_named_in_the_dpop_challenge_first_with_its_nonce():
    refusal = bearer_refusal(401, "use_dpop_nonce", 'say "hi"', None, dpop_algorithms=("ES256",), dpop_error=True,
                             nonce="n0nce")
    assert refusal.headers["WWW-Authenticate"] == (
        'DPoP error="use_dpop_nonce", error_description="say \\"hi\\"", algs="ES256", Bearer')
    assert refusal.headers["DPoP-Nonce"] == "n0nce"


# -- API Gateway: the cache and the 401 -----------------------------------------------------------------------


def test_a_guard_that_accepts_dpop_turns_the_authorizer_cache_off():
    assert ttl_seconds(60, dpop=True) == 0
    assert ttl_seconds(60, dpop=False) == 60


def test_the_gateways_401_offers_dpop_with_the_algorithms_the_core_checks():
    assert GATEWAY_DPOP_ALGORITHMS == DPOP_ALGORITHMS  # written twice: the gateway module is standard library only
    challenge = gateway_responses("https://x/.well-known/oauth-protected-resource", dpop=True)["UNAUTHORIZED"]
    assert challenge.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", resource_metadata="https://x/.well-known/oauth-protected-resource", '
        'DPoP error="invalid_token", algs="ES256 RS256 EdDSA"')
    assert "DPoP" not in gateway_responses()["UNAUTHORIZED"].headers["WWW-Authenticate"]


# -- security profiles --------------------------------------------------------------------------------------------


def test_a_fapi2_client_is_held_to_par_dpop_private_key_jwt_s256_and_short_codes_on_any_server():
    client = Client("c", "c", profile=FAPI2)
    for server in (BASELINE, FAPI2):
        policy = client_policy(client, server_profile=server)
        assert policy.fapi2 and policy.par_required and policy.dpop_required and policy.pkce_s256_required
        assert policy.code_lifetime == 60
        assert policy.allows_auth_method("private_key_jwt") and not policy.allows_auth_method("client_secret_basic")
        assert policy.allows_grant("authorization_code") and not policy.allows_grant("password")
        assert not policy.allows_grant("implicit")


def test_a_baseline_client_keeps_what_it_registered_and_what_the_server_requires():
    assert not client_policy(Client("c", "c")).par_required
    assert client_policy(Client("c", "c", require_par=True)).par_required
    assert client_policy(Client("c", "c"), par_required=True).par_required
    assert client_policy(Client("c", "c", dpop_bound=True)).dpop_required
    assert client_policy(Client("c", "c"), server_profile=FAPI2).fapi2
    assert not client_policy(Client("c", "c", profile=BASELINE), server_profile=FAPI2).fapi2


# -- the replay ledger ---------------------------------------------------------------------------------------------


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class BotocoreStyle(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


@pytest.mark.parametrize("error", [Refused("ConditionalCheckFailedException"),
                                   BotocoreStyle("ConditionalCheckFailedException")])
def test_a_lost_condition_from_either_transport_means_already_spent(error):
    def call(operation, parameters):
        assert operation == "PutItem"
        assert parameters["ConditionExpression"] == "attribute_not_exists(pk) OR #ttl <= :now"
        assert parameters["Item"]["pk"]["S"].startswith("dpop#") and "the-jti" not in parameters["Item"]["pk"]["S"]
        raise error

    assert ProofLedger(call, "tokens").spend("jkt", "the-jti", int(time.time()) + 60) is False


def test_any_other_failure_of_the_write_is_the_store_being_unavailable():
    from passport.core.errors import StorageUnavailable

    def call(operation, parameters):
        raise BotocoreStyle("ProvisionedThroughputExceededException")

    with pytest.raises(StorageUnavailable):
        ProofLedger(call, "tokens").spend("jkt", "jti", int(time.time()) + 60)
