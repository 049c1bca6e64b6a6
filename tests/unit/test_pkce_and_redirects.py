"""RFC 7636 (S256 only) and redirect URI matching (exact, loopback port excepted)."""

from __future__ import annotations

import pytest
from passport.core.errors import OAuthError
from passport.core.pkce import s256, validate_challenge, verify
from passport.core.redirects import find_registered, matches

# RFC 7636 appendix B
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_the_rfc_7636_example():
    assert s256(VERIFIER) == CHALLENGE


def test_the_matching_verifier_passes():
    verify(VERIFIER, CHALLENGE)


@pytest.mark.parametrize("verifier, error", [
    (None, "invalid_grant"),
    ("x" * 43, "invalid_grant"),
    ("short", "invalid_request"),
    ("a" * 129, "invalid_request"),
    (VERIFIER[:-1] + "!", "invalid_request"),
])
def test_a_missing_wrong_or_malformed_verifier_is_refused(verifier, error):
    with pytest.raises(OAuthError) as raised:
        verify(verifier, CHALLENGE)
    assert raised.value.error == error


def test_pkce_downgrade_is_refused():
    """A verifier for a code issued without a challenge: an attacker stripped the challenge."""
    with pytest.raises(OAuthError) as raised:
        verify(VERIFIER, None)
    assert raised.value.error == "invalid_grant"


def test_no_pkce_on_either_side_passes_for_confidential_clients():
    verify(None, None)


def test_plain_is_refused_and_s256_accepted():
    assert validate_challenge(CHALLENGE, "S256", required=True) == CHALLENGE
    for method in ("plain", None, "s256"):
        with pytest.raises(OAuthError):
            validate_challenge(CHALLENGE, method, required=True)


def test_public_clients_must_send_a_challenge():
    with pytest.raises(OAuthError):
        validate_challenge(None, None, required=True)
    assert validate_challenge(None, None, required=False) is None


def test_a_method_without_a_challenge_is_refused():
    with pytest.raises(OAuthError):
        validate_challenge(None, "S256", required=False)


def test_a_malformed_challenge_is_refused():
    with pytest.raises(OAuthError):
        validate_challenge("too-short", "S256", required=False)


REGISTERED = "https://app.example.com/callback"


@pytest.mark.parametrize("requested", [
    "https://app.example.com/callback/",
    "https://APP.example.com/callback",
    "https://app.example.com/Callback",
    "https://app.example.com/callback?x=1",
    "https://app.example.com:443/callback",
    "https://app.example.com/callback#frag",
    "http://app.example.com/callback",
    "https://app.example.com.evil.example/callback",
])
def test_anything_but_the_exact_registered_uri_is_refused(requested):
    assert not matches(requested, REGISTERED)


def test_the_exact_registered_uri_matches():
    assert matches(REGISTERED, REGISTERED)


@pytest.mark.parametrize("registered, requested", [
    ("http://127.0.0.1/callback", "http://127.0.0.1:53211/callback"),
    ("http://127.0.0.1:8080/callback", "http://127.0.0.1:53211/callback"),
    ("http://[::1]/cb", "http://[::1]:6000/cb"),
])
def test_loopback_redirects_may_use_any_port(registered, requested):
    assert matches(requested, registered)


@pytest.mark.parametrize("registered, requested", [
    ("http://127.0.0.1/callback", "http://127.0.0.1:53211/other"),
    ("http://localhost/callback", "http://localhost:53211/callback"),
    ("http://localhost:9999/cb", "http://localhost:8080/cb"),
    ("http://127.0.0.1/callback", "https://127.0.0.1:53211/callback"),
    ("https://127.0.0.1/callback", "https://127.0.0.1:53211/callback"),
    ("http://[::1]/cb", "http://[0:0:0:0:0:0:0:1]:6000/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.2:6000/cb"),
])
def test_the_port_exception_is_only_for_http_loopback_ip_literals(registered, requested):
    assert not matches(requested, registered)


LOOPBACK_REGISTERED = "http://127.0.0.1:9999/cb"


@pytest.mark.parametrize("requested", [
    # RFC 6749 3.1.2.3 / RFC 9700 2.1: simple string comparison, so no case folding of the scheme or the host...
    "HTTP://127.0.0.1:9999/cb", "Http://127.0.0.1:9999/cb", "http://[::1]:9999/cb",
    # ...no empty query taken for none, no trailing slash, no other path or query, no dot segments or encoding
    "http://127.0.0.1:9999/cb?", "http://127.0.0.1:9999/cb/", "http://127.0.0.1:9999/cb?x=1",
    "http://127.0.0.1:9999/cb#", "http://127.0.0.1:9999/CB", "http://127.0.0.1:9999/./cb", "http://127.0.0.1:9999/%63b",
    "http://127.0.0.1:9999", "http://127.0.0.1:9999/",
    # RFC 8252 7.3 lets the port vary, and only as a port: 1-65535, decimal digits, no leading zero or sign
    "http://127.0.0.1:09999/cb", "http://127.0.0.1:0/cb", "http://127.0.0.1:00/cb", "http://127.0.0.1:/cb",
    "http://127.0.0.1:65536/cb", "http://127.0.0.1:99999/cb", "http://127.0.0.1:+9999/cb",
    "http://127.0.0.1:-1/cb", "http://127.0.0.1: 9999/cb", "http://127.0.0.1:9999 /cb", "http://127.0.0.1:0x270f/cb",
    "http://127.0.0.1:\u0669\u0669/cb", "http://127.0.0.1:9999:9999/cb", "http://127.0.0.1:1e4/cb",
    # the host is the literal and nothing else: no userinfo, no trailing dot, no other spelling of the address
    "http://x@127.0.0.1:9999/cb", "http://127.0.0.1:9999@evil.example/cb", "http://127.0.0.1@evil.example/cb",
    "http://127.0.0.1./cb", "http://127.1:9999/cb", "http://2130706433:9999/cb", "http://127.0.0.1.evil.example/cb",
])
def test_a_loose_form_of_a_registered_loopback_uri_does_not_match(requested):
    assert not matches(requested, LOOPBACK_REGISTERED)


@pytest.mark.parametrize("requested", [
    "http://127.0.0.1:9999/cb", "http://127.0.0.1:1/cb", "http://127.0.0.1:65535/cb", "http://127.0.0.1:8080/cb",
    "http://127.0.0.1/cb",
])
def test_a_loopback_uri_matches_on_any_real_port(requested):
    """RFC 8252 7.3: "MUST allow any port to be specified at the time of the request"; no port is port 80."""
    assert matches(requested, LOOPBACK_REGISTERED)


def test_a_registered_uri_whose_port_is_not_a_real_port_matches_only_itself():
    """A URI stored before the port rule (":0") gets no loopback exception; it still matches exactly."""
    assert matches("http://127.0.0.1:0/cb", "http://127.0.0.1:0/cb")
    assert not matches("http://127.0.0.1:8080/cb", "http://127.0.0.1:0/cb")


def test_without_a_redirect_uri_the_only_registered_one_is_used():
    assert find_registered(None, [REGISTERED]) == REGISTERED
    assert find_registered(None, [REGISTERED, "https://other.example/cb"]) is None
    assert find_registered("https://other.example/cb", [REGISTERED]) is None
