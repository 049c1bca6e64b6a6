"""Client registration rules (RFC 6749 section 2 and 3.1.2, RFC 8252, RFC 9700 2.1)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from passport.core.clients import (
    DEVICE_CODE,
    KNOWN_GRANTS,
    PERSONAL_ACCESS,
    InvalidClientMetadata,
    new_client,
    validate_redirect_uri,
)
from passport.core.hashing import verify_secret

DEFINED = {"orders:read": "Read your orders", "orders:write": "Change your orders"}


def make(**options):
    options.setdefault("name", "my app")
    options.setdefault("grant_types", ("client_credentials",))
    return new_client(defined_scopes=DEFINED, **options)


# --- redirect URIs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "https://app.example.com:8443/cb?tenant=1",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:51004/callback",
        "http://[::1]:8080/cb",
        "http://localhost:3000/cb",
        "com.example.app:/oauth2redirect",  # private-use scheme (RFC 8252 7.1)
        "com.example.app://callback",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",
        "http://192.168.1.10/cb",
        "http://127.0.0.1.example.com/cb",
        "http://localhost.example.com/cb",
        "HTTP://app.example.com/cb",
    ],
)
def test_plain_http_is_refused_except_for_loopback(uri):
    with pytest.raises(InvalidClientMetadata, match="loopback"):
        validate_redirect_uri(uri)


@pytest.mark.parametrize("uri", ["https://app.example.com/cb#section", "https://app.example.com/cb#"])
def test_a_redirect_uri_with_a_fragment_is_refused(uri):
    with pytest.raises(InvalidClientMetadata, match="fragment"):
        validate_redirect_uri(uri)


@pytest.mark.parametrize("uri", ["/callback", "callback", "//app.example.com/cb", "app.example.com/cb", ""])
def test_a_relative_redirect_uri_is_refused(uri):
    with pytest.raises(InvalidClientMetadata):
        validate_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<b>x</b>",
        "data:text/plain,x",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
    ],
)
def test_script_and_local_schemes_are_refused(uri):
    with pytest.raises(InvalidClientMetadata):
        validate_redirect_uri(uri)


@pytest.mark.parametrize("uri", ["https:///cb", "https://", "http://:80/cb"])
def test_a_web_redirect_uri_without_a_host_is_refused(uri):
    with pytest.raises(InvalidClientMetadata):
        validate_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri", ["https://app.example.com/c b", "https://app.example.com/cb\r\nX: y", "https://app.example.com/<script>"]
)
def test_a_redirect_uri_with_spaces_or_markup_is_refused(uri):
    with pytest.raises(InvalidClientMetadata):
        validate_redirect_uri(uri)


# --- new_client --------------------------------------------------------------------------------------------


def test_a_confidential_client_gets_a_secret_shown_once_and_only_its_hash_is_stored():
    made = make()
    assert made.secret and len(made.secret) >= 43  # 256 bits, URL-safe
    assert made.client.public is False
    assert verify_secret(made.secret, made.client.secret_hash)
    assert made.secret not in repr(made.client)
    assert all(made.secret not in str(value) for value in dataclasses.asdict(made.client).values())


def test_a_public_client_has_no_secret_at_all():
    made = make(public=True, grant_types=("authorization_code",), redirect_uris=("http://127.0.0.1/cb",))
    assert made.secret is None
    assert made.client.secret_hash is None
    assert made.client.public is True


def test_client_ids_are_uuids_and_unique():
    ids = {make().client.client_id for _ in range(5)}
    assert len(ids) == 5
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_a_public_client_cannot_use_client_credentials():
    with pytest.raises(InvalidClientMetadata, match="client_credentials"):
        make(public=True, grant_types=("client_credentials",))


@pytest.mark.parametrize("grant", ["authorization_code", "implicit"])
def test_a_redirecting_grant_without_a_redirect_uri_is_refused(grant):
    with pytest.raises(InvalidClientMetadata, match="redirect"):
        make(grant_types=(grant,))


@pytest.mark.parametrize("grant", ["client_credentials", DEVICE_CODE, "password", PERSONAL_ACCESS])
def test_other_grants_need_no_redirect_uri(grant):
    assert make(grant_types=(grant,)).client.grant_types == (grant,)


def test_a_bad_redirect_uri_refuses_the_client():
    with pytest.raises(InvalidClientMetadata):
        make(grant_types=("authorization_code",), redirect_uris=("http://app.example.com/cb",))


@pytest.mark.parametrize("grants", [("client_credentials", "jwt-bearer"), ("token",), ("",)])
def test_an_unknown_grant_is_refused(grants):
    with pytest.raises(InvalidClientMetadata, match="unknown grant"):
        make(grant_types=grants)


def test_a_client_with_no_grant_is_refused():
    with pytest.raises(InvalidClientMetadata):
        make(grant_types=())


def test_every_known_grant_can_be_registered():
    made = make(grant_types=KNOWN_GRANTS, redirect_uris=("https://app.example.com/cb",))
    assert made.client.grant_types == KNOWN_GRANTS


def test_an_undefined_scope_is_refused():
    with pytest.raises(InvalidClientMetadata, match="photos"):
        make(scopes=("orders:read", "photos"))


def test_defined_scopes_and_the_wildcard_are_accepted():
    assert make(scopes=("orders:read", "*")).client.scopes == ("orders:read", "*")


def test_repeated_grants_uris_and_scopes_are_kept_once():
    made = make(
        grant_types=("authorization_code", "refresh_token", "authorization_code"),
        redirect_uris=("https://a.example/cb", "https://a.example/cb"),
        scopes=("orders:read", "orders:read"),
    )
    assert made.client.grant_types == ("authorization_code", "refresh_token")
    assert made.client.redirect_uris == ("https://a.example/cb",)
    assert made.client.scopes == ("orders:read",)


@pytest.mark.parametrize("name", ["", "   "])
def test_a_client_needs_a_name(name):
    with pytest.raises(InvalidClientMetadata):
        make(name=name)


def test_the_other_attributes_are_kept():
    made = make(name="  Orders app ", first_party=True, user_id="user-1")
    assert made.client.name == "Orders app"
    assert made.client.first_party is True and made.client.user_id == "user-1"
    assert made.client.revoked is False and made.client.created_at > 0


def test_a_change_keeps_what_it_is_not_given_and_keeps_the_rules():
    from passport.core.clients import InvalidClientMetadata, changed_client

    made = new_client(name="web", grant_types=("authorization_code",), redirect_uris=("https://a.example/cb",),
                      scopes=("orders:read",), defined_scopes=DEFINED).client
    renamed = changed_client(made, name=" web app ", defined_scopes=DEFINED)
    assert renamed.name == "web app" and renamed.redirect_uris == made.redirect_uris and renamed.scopes == made.scopes
    assert changed_client(made, first_party=True, defined_scopes=DEFINED).first_party is True
    for bad in ({"redirect_uris": ()}, {"redirect_uris": ("http://evil.example/cb",)}, {"scopes": ("nope",)},
                {"name": "  "}):
        with pytest.raises(InvalidClientMetadata):
            changed_client(made, defined_scopes=DEFINED, **bad)
