"""Client registration rules (RFC 6749 section 2 and 3.1.2, RFC 8252, RFC 9700 2.1)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from passport.core.clients import (
    DEVICE_CODE,
    KNOWN_GRANTS,
    MAX_NAME,
    MAX_REDIRECT_URIS,
    MAX_SCOPES,
    MAX_URI,
    NATIVE,
    PERSONAL_ACCESS,
    InvalidClientMetadata,
    InvalidRedirectUri,
    changed_client,
    new_client,
    validate_client_keys,
    validate_profile,
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
        "https://app.example.com:443/cb", "http://127.0.0.1:65535/cb", "https://app.example.com/cb?a=b&c=%20",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert validate_redirect_uri(uri) == uri
    assert validate_redirect_uri(uri, NATIVE) == uri or uri.startswith("https://localhost")


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:/oauth2redirect",  # RFC 8252 7.1's reverse-domain private-use scheme
        "com.example.app://callback",
        "cursor://anysphere.cursor-retrieval/oauth/callback",  # Cursor's
        "vscode://vscode.github-authentication/did-authenticate",  # VS Code's
        "vscode-insiders://ms-vscode.mcp/callback", "my-app+dev:/cb",
        "https://app.example.com/oauth/native",  # a claimed https URI (RFC 8252 7.2)
        "http://127.0.0.1:51004/callback", "http://[::1]/cb", "http://localhost:3000/cb",
    ],
)
def test_a_native_app_registers_private_use_schemes_claimed_https_and_loopback(uri):
    assert validate_redirect_uri(uri, NATIVE) == uri


@pytest.mark.parametrize("uri", ["cursor://anysphere.cursor-retrieval/oauth/callback", "com.example.app:/cb"])
def test_a_web_application_has_no_private_use_scheme(uri):
    """OpenID Connect Dynamic Client Registration 1.0 section 2: a private-use scheme is a native app's."""
    with pytest.raises(InvalidRedirectUri, match="application_type native"):
        validate_redirect_uri(uri)


def test_a_native_apps_https_redirect_is_a_claimed_uri_never_localhost():
    """RFC 8252 7.2 and 7.3: a native app's https URI is claimed; its loopback redirect is plain http."""
    with pytest.raises(InvalidRedirectUri, match="localhost"):
        validate_redirect_uri("https://localhost:8443/cb", NATIVE)
    assert validate_redirect_uri("https://localhost:8443/cb") == "https://localhost:8443/cb"


@pytest.mark.parametrize("uri", [
    "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "about:blank", "blob:https://a.example/x",
    "chrome-extension://abc/cb", "view-source:https://a.example", "mailto:a@example.com", "intent://x#Intent;end",
    "ws://127.0.0.1/cb", "ftp://a.example/cb", "1app:/cb", "-app:/cb",
])
def test_a_native_app_cannot_register_a_scheme_the_browser_or_the_system_handles(uri):
    with pytest.raises(InvalidClientMetadata):
        validate_redirect_uri(uri, NATIVE)


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
    for application_type in ("web", NATIVE):
        with pytest.raises(InvalidClientMetadata):
            validate_redirect_uri(uri, application_type)


def test_a_native_apps_redirect_uri_has_no_fragment_either():
    with pytest.raises(InvalidRedirectUri, match="fragment"):
        validate_redirect_uri("cursor://anysphere.cursor-retrieval/oauth/callback#x", NATIVE)


@pytest.mark.parametrize("uri", [
    "https://user@app.example.com/cb", "https://user:pw@app.example.com/cb", "https://:pw@app.example.com/cb",
    "http://x@127.0.0.1/cb", "http://127.0.0.1@evil.example/cb", "com.example.app://user@callback",
])
def test_a_redirect_uri_with_credentials_is_refused(uri):
    """RFC 9700 4.1 and RFC 3986 3.2.1: userinfo in a redirect URI is a look-alike host ("x@127.0.0.1")."""
    with pytest.raises(InvalidRedirectUri, match="credentials"):
        validate_redirect_uri(uri, NATIVE)


@pytest.mark.parametrize("uri", [
    "https://app.example.com:/cb", "https://app.example.com:0/cb", "https://app.example.com:08443/cb",
    "https://app.example.com:65536/cb", "https://app.example.com:+443/cb", "http://127.0.0.1:0/cb",
    "http://127.0.0.1:09999/cb", "http://[::1]:/cb", "https://app.example.com:44a/cb",
])
def test_a_port_that_is_not_a_real_port_written_as_one_is_refused(uri):
    with pytest.raises(InvalidRedirectUri):
        validate_redirect_uri(uri)


@pytest.mark.parametrize("uri", [
    "https://app.example.com/" + "a" * (MAX_URI - 24), "com.example.app:/" + "a" * (MAX_URI - 17),
])
def test_a_redirect_uri_of_the_longest_length_is_accepted(uri):
    assert len(uri) == MAX_URI and validate_redirect_uri(uri, NATIVE) == uri


@pytest.mark.parametrize("uri", [
    "https://app.example.com/" + "a" * (MAX_URI - 23), "https://app.example.com/" + "a" * 400_000, "", None, 7,
    ["https://app.example.com/cb"],
])
def test_a_redirect_uri_too_long_empty_or_not_text_is_refused(uri):
    with pytest.raises(InvalidRedirectUri):
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


def test_a_client_may_be_limited_to_identity_scopes_as_discovery_lists_them():
    """OpenID Connect Core 5.4 and 11: openid, profile, email and offline_access are scopes of this server too."""
    scopes = ("openid", "profile", "email", "offline_access", "orders:read")
    assert make(scopes=scopes).client.scopes == scopes


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


# --- the same bounds for every client, made or changed ---------------------------------------------------------------

WEB = ("authorization_code", "refresh_token")


def web(**options):
    options.setdefault("redirect_uris", ("https://a.example/cb",))
    return make(grant_types=WEB, **options)


def test_a_name_of_at_most_100_characters_is_kept_and_a_longer_one_refused():
    assert web(name="A" * MAX_NAME).client.name == "A" * MAX_NAME
    for name in ("A" * (MAX_NAME + 1), "A" * 390_000):
        with pytest.raises(InvalidClientMetadata, match=f"at most {MAX_NAME} characters"):
            web(name=name)
        with pytest.raises(InvalidClientMetadata, match=f"at most {MAX_NAME} characters"):
            changed_client(web().client, name=name, defined_scopes=DEFINED)


#: Characters that change how a name reads without being seen: the bidirectional embeddings, overrides, isolates
#: and marks, the zero-width characters and word joiners, the byte order mark (Cf); controls, C0 and C1 (Cc); the
#: line and paragraph separators (Zl, Zp).
HIDDEN = [
    *(chr(c) for c in range(0x200B, 0x2010)), *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2060, 0x2065)), *(chr(c) for c in range(0x2066, 0x206A)), "\ufeff", "\u061c",
    "\u00ad", "\u2028", "\u2029", "\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b", "\ud800",
]


@pytest.mark.parametrize("hidden", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
def test_a_name_with_control_invisible_or_bidirectional_characters_is_refused_not_stripped(hidden):
    """A right-to-left override (U+202E) makes what follows it read backwards on the page; a zero-width space
    makes two names that look alike differ. Refused with the code point named, never silently removed (the user
    would then see a name its author did not choose)."""
    for name in (f"Goo{hidden}gle", f"Google{hidden}", f"{hidden}Google"):
        with pytest.raises(InvalidClientMetadata, match=f"U\\+{ord(hidden):04X}"):
            web(name=name)
        with pytest.raises(InvalidClientMetadata, match=f"U\\+{ord(hidden):04X}"):
            changed_client(web().client, name=name, defined_scopes=DEFINED)


@pytest.mark.parametrize("name", ["Zoë's Café", "東京アプリ", "Приложение", "تطبيق", "אפליקציה", "<b>Orders</b> & co",
                                  "A B"])
def test_a_name_in_any_script_and_with_markup_is_kept_as_text(name):
    """Letters of every script, Arabic and Hebrew included (the page lays them out; no override is needed), and
    markup, which the pages escape."""
    assert web(name=name).client.name == name


def test_at_most_ten_redirect_uris_and_ten_post_logout_redirect_uris():
    ten = tuple(f"https://a.example/cb/{i}" for i in range(MAX_REDIRECT_URIS))
    eleven = (*ten, "https://a.example/cb/x")
    assert web(redirect_uris=ten, post_logout_redirect_uris=ten).client.post_logout_redirect_uris == ten
    with pytest.raises(InvalidRedirectUri, match="at most 10 redirect URIs"):
        web(redirect_uris=eleven)
    with pytest.raises(InvalidRedirectUri, match="at most 10 post-logout redirect URIs"):
        web(post_logout_redirect_uris=eleven)
    with pytest.raises(InvalidRedirectUri):
        web(redirect_uris=tuple(f"https://a.example/{i}" for i in range(20_000)))
    current = web().client
    for change in ({"redirect_uris": eleven}, {"post_logout_redirect_uris": eleven}):
        with pytest.raises(InvalidRedirectUri):
            changed_client(current, defined_scopes=DEFINED, **change)


def test_a_client_may_be_limited_to_at_most_100_scopes():
    defined = {f"s{i}": "a scope" for i in range(MAX_SCOPES + 1)}
    assert len(new_client(name="x", grant_types=("client_credentials",), scopes=tuple(defined)[:MAX_SCOPES],
                          defined_scopes=defined).client.scopes) == MAX_SCOPES
    with pytest.raises(InvalidClientMetadata, match="at most 100 scopes"):
        new_client(name="x", grant_types=("client_credentials",), scopes=tuple(defined), defined_scopes=defined)


def test_a_change_judges_only_what_changes():
    """A client stored under older rules (a longer name, say) can still get new redirect URIs."""
    old = dataclasses.replace(web().client, name="A" * 200)
    assert changed_client(old, redirect_uris=("https://a.example/new",), defined_scopes=DEFINED).name == "A" * 200
    assert changed_client(old, name="Short", defined_scopes=DEFINED).name == "Short"


def test_a_change_of_grant_types_keeps_the_grant_rules():
    public = web(public=True).client
    with pytest.raises(InvalidClientMetadata, match="client_credentials"):
        changed_client(public, grant_types=("client_credentials",), defined_scopes=DEFINED)
    with pytest.raises(InvalidRedirectUri):
        changed_client(make().client, grant_types=("authorization_code",), defined_scopes=DEFINED)


def test_an_operator_made_client_is_vetted_and_a_users_or_a_registered_one_is_not():
    """The consent page's notice (docs/security.md): only the CLI and the install step vouch for a client."""
    assert web().client.vetted
    assert not web(user_id="user-1").client.vetted
    registered = dataclasses.replace(web().client, registration_token_hash="sha256:x")
    assert registered.registered and not registered.vetted


# --- private_key_jwt clients (RFC 7591 2 jwks and jwks_uri, RFC 7523 2.2) --------------------------------------


@pytest.fixture(scope="module")
def jwks():
    from passport.keys.material import generate, public_jwk_members

    return {"keys": [{**public_jwk_members(generate("ES256").public_key()), "kid": "k1"}]}


def test_a_client_with_keys_is_confidential_without_any_secret(jwks):
    made = make(keys=validate_client_keys(jwks))
    assert made.secret is None and made.client.secret_hash is None
    assert made.client.has_keys and not made.client.public
    assert made.client.token_endpoint_auth_method == "private_key_jwt"
    assert made.client.jwks is not None and made.client.jwks_uri is None


def test_a_public_client_cannot_have_keys(jwks):
    with pytest.raises(InvalidClientMetadata, match="public"):
        make(keys=validate_client_keys(jwks), public=True, grant_types=("authorization_code",),
             redirect_uris=("https://app.example/cb",))


def test_keys_are_a_jwks_or_an_https_jwks_uri_never_both_never_neither(jwks):
    assert validate_client_keys(jwks_uri="https://app.example/jwks.json").jwks_uri == "https://app.example/jwks.json"
    for jwks_value, uri in ((jwks, "https://app.example/jwks.json"), (None, None),
                            (None, "http://app.example/jwks.json")):
        with pytest.raises(InvalidClientMetadata):
            validate_client_keys(jwks_value, uri)


def test_only_a_client_with_keys_gets_new_keys(jwks):
    key_client = make(keys=validate_client_keys(jwks)).client
    moved = changed_client(key_client, defined_scopes=DEFINED,
                           keys=validate_client_keys(jwks_uri="https://app.example/jwks.json"))
    assert moved.jwks is None and moved.jwks_uri == "https://app.example/jwks.json"
    with pytest.raises(InvalidClientMetadata, match="private_key_jwt"):
        changed_client(make().client, defined_scopes=DEFINED, keys=validate_client_keys(jwks))


# --- a client's own security profile (passport.core.profile) ----------------------------------------------------


def test_any_client_may_follow_the_server_or_be_held_to_baseline_and_only_a_key_client_to_fapi2(jwks):
    """FAPI 2.0 Security Profile 5.3.2.1 point 4: private_key_jwt (mTLS is not offered), so a client with a secret
    or a public one could never authenticate under it, and is refused the profile rather than every request."""
    secret, key_client = make().client, make(keys=validate_client_keys(jwks)).client
    public = make(public=True, grant_types=("authorization_code",), redirect_uris=("https://app.example/cb",)).client
    for client in (secret, public, key_client):
        assert validate_profile("", client) == "" and validate_profile("baseline", client) == "baseline"
    assert validate_profile("fapi2", key_client) == "fapi2"
    with pytest.raises(InvalidClientMetadata, match="fapi2 profile needs private_key_jwt, and a client with a secret"):
        validate_profile("fapi2", secret)
    with pytest.raises(InvalidClientMetadata, match="a public client has no keys"):
        validate_profile("fapi2", public)
    with pytest.raises(InvalidClientMetadata, match="one of baseline, fapi2"):
        validate_profile("fapi1", key_client)


def test_a_fapi2_client_uses_only_the_grants_the_profile_allows(jwks):
    """FAPI 2.0 Security Profile 5.3.2.2: no implicit or password grant (and the device grant is not among those
    core/profile.py allows)."""
    keys = validate_client_keys(jwks)
    with pytest.raises(InvalidClientMetadata, match="password"):
        validate_profile("fapi2", make(keys=keys, grant_types=("client_credentials", "password")).client)
    with pytest.raises(InvalidClientMetadata, match="device_code"):
        validate_profile("fapi2", make(keys=keys, grant_types=(DEVICE_CODE,)).client)
