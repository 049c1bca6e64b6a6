"""Resource indicators (RFC 8707): which resources a request names, how a token request narrows a grant's, and
the ``aud`` claim they make."""

from __future__ import annotations

import jwt
import pytest
from passport.core.errors import OAuthError
from passport.core.resources import MAX_RESOURCE, audience, narrowed, requested_resources, token_request_resources
from passport.core.tokens import AccessTokenIssuer

from tests.unit.fakes import FixedClock, MemoryAccessTokenStore

API = "https://auth.example.com/api"
OTHER = "https://other.example.com/api"
THIRD = "https://third.example.com/"
REGISTERED = (API, OTHER, THIRD)


def refused(params: dict[str, list[str]], registered: tuple[str, ...] = REGISTERED) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        requested_resources(params, registered)
    assert caught.value.error == "invalid_target" and caught.value.status == 400
    return caught.value


# -- requested_resources ---------------------------------------------------------------------------------------


def test_no_resource_parameter_names_no_resource():
    """RFC 8707 2: the parameter is optional."""
    assert requested_resources({}, REGISTERED) == ()
    assert requested_resources({"resource": []}, REGISTERED) == ()


def test_registered_resources_are_returned_in_order_once_each():
    """RFC 8707 2: "may be used multiple times"; a repeat adds nothing."""
    assert requested_resources({"resource": [OTHER]}, REGISTERED) == (OTHER,)
    assert requested_resources({"resource": [OTHER, API, OTHER]}, REGISTERED) == (OTHER, API)


@pytest.mark.parametrize("value", [
    "https://unknown.example.com/api",
    API + "/",  # compared exactly, as the aud claim is
    API.upper(),
    "/api",
    "api",
    "",
    "urn:example:resource",  # absolute, but names no server
    "https://",
    OTHER + "#fragment",
    OTHER + "#",
    "https://[::1/api",  # not a URI
    "https://" + "a" * MAX_RESOURCE + ".example/",
])
def test_unknown_relative_fragment_or_malformed_resources_are_invalid_target(value):
    """RFC 8707 2: an absolute URI without a fragment, and one this server issues tokens for; else
    invalid_target."""
    refused({"resource": [value]})
    refused({"resource": [OTHER, value]})  # one bad value spoils the request


def test_a_resource_with_a_fragment_is_refused_even_when_registered_so():
    """RFC 8707 2: "MUST NOT include a fragment component", whatever the settings say."""
    refused({"resource": [OTHER + "#x"]}, (*REGISTERED, OTHER + "#x"))


def test_no_resource_is_acceptable_when_none_is_registered():
    refused({"resource": [API]}, ())


# -- narrowed ------------------------------------------------------------------------------------------------------


def test_a_token_request_naming_nothing_keeps_the_grants_resources():
    """RFC 8707 2.2: without resource, the token covers what the grant did (none: the default audience)."""
    assert narrowed((), (API, OTHER), API) == (API, OTHER)
    assert narrowed((), (), API) == ()


def test_a_token_request_may_narrow_to_some_of_the_grants_resources():
    assert narrowed((OTHER,), (API, OTHER), API) == (OTHER,)
    assert narrowed((OTHER, API), (API, OTHER), API) == (OTHER, API)


def test_a_grant_that_named_no_resource_covers_the_default_audience_only():
    assert narrowed((API,), (), API) == (API,)
    with pytest.raises(OAuthError) as caught:
        narrowed((OTHER,), (), API)
    assert caught.value.error == "invalid_target"


@pytest.mark.parametrize("requested", [(THIRD,), (OTHER, THIRD), (API,)])
def test_a_token_request_never_widens_the_grant(requested):
    """RFC 8707 2.2: a resource the grant did not cover is invalid_target (the default audience too, when the
    grant named others)."""
    with pytest.raises(OAuthError) as caught:
        narrowed(requested, (OTHER,), API)
    assert caught.value.error == "invalid_target"


# -- audience ------------------------------------------------------------------------------------------------------


def test_the_audience_is_the_resource_the_list_or_the_default():
    """RFC 8707 2.2 and RFC 7519 4.1.3 (aud: a string, or an array of several)."""
    assert audience((), API) == API
    assert audience((OTHER,), API) == OTHER
    assert audience((OTHER, THIRD), API) == [OTHER, THIRD]
    assert audience([API, OTHER], API) == [API, OTHER]


# -- the issuer ----------------------------------------------------------------------------------------------------


@pytest.fixture
def issuer(signer) -> AccessTokenIssuer:
    return AccessTokenIssuer(signer=signer, store=MemoryAccessTokenStore(), clock=FixedClock(), issuer=
                             "https://auth.example.com", audience=API, lifetime=600, resources=(OTHER, API, THIRD))


def test_the_issuer_knows_its_own_audience_first_then_the_registered_resources(issuer):
    assert issuer.resources == (API, OTHER, THIRD)


def test_a_token_requests_resources_are_checked_against_the_issuers(issuer):
    """RFC 8707 2 at the token endpoint: registered ones only; within the grant when there is one."""
    resources = issuer.resources
    assert token_request_resources({"resource": [THIRD]}, resources) == (THIRD,)  # no grant (client credentials)
    assert token_request_resources({}, resources) == ()
    assert token_request_resources({"resource": [OTHER]}, resources, (API, OTHER)) == (OTHER,)
    assert token_request_resources({}, resources, (API, OTHER)) == (API, OTHER)
    for form, granted in (({"resource": ["https://unknown.example/"]}, None), ({"resource": [THIRD]}, (OTHER,)),
                          ({"resource": [OTHER]}, ())):
        with pytest.raises(OAuthError) as caught:
            token_request_resources(form, resources, granted)
        assert caught.value.error == "invalid_target"


def test_a_minted_tokens_aud_is_its_resources(issuer, signer):
    """RFC 9068 3 / RFC 8707 2.2: the aud claim names the resources; without any, the deployment's API."""
    def aud(resources) -> object:
        token = issuer.mint(client_id="c", scopes=("orders:read",), grant_type="client_credentials",
                            resources=resources).access_token
        return jwt.decode(token, options={"verify_signature": False})["aud"]

    assert aud(()) == API
    assert aud((OTHER,)) == OTHER
    assert aud((API, OTHER)) == [API, OTHER]
