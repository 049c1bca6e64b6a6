"""OpenID Connect's core rules without I/O: the ID token (OpenID Connect Core 1.0 sections 2, 3.1.3.6, 12.2),
the identity scopes and their claims (5.4, 11), the OpenID Provider metadata (Discovery 1.0 section 3), the
UserInfo endpoint's RFC 6750 answers (5.3) and RP-initiated logout's request rules (RP-Initiated Logout 1.0)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from passport.core.authorization import PageError
from passport.core.errors import OAuthError
from passport.core.http import Headers, Request
from passport.core.metadata import authorization_server_metadata, openid_configuration
from passport.core.models import Client, User
from passport.core.oidc.claims import IDENTITY_SCOPES, offline_allowed, shared_with, user_claims
from passport.core.oidc.id_token import IdTokenIssuer, left_half_hash
from passport.core.oidc.logout import parse_logout
from passport.core.oidc.userinfo import UserInfoEndpoint
from passport.core.scopes import ScopePolicy
from passport.core.tokens import AccessTokenIssuer
from passport.jws import ID_TOKEN, TokenVerifier
from passport.keys.keyring import JwtSigner
from passport.keys.material import generate

from tests.unit.fakes import FORM, FixedClock, MemoryAccessTokenStore, MemoryClientStore

ISSUER = "https://auth.example.com"
NOW = 1_800_000_000
ACCESS = "an-access-token-value"
LOGOUT_URI = "https://app.example.com/signed-out"

# -- the ID token ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["rsa_key", "ec_key", "ed_key"])
def any_signer(request) -> JwtSigner:
    return JwtSigner(request.getfixturevalue(request.param))


def id_tokens(signer: JwtSigner, now: int = NOW, lifetime: int = 3600) -> IdTokenIssuer:
    return IdTokenIssuer(signer=signer, clock=FixedClock(now), issuer=ISSUER, lifetime=lifetime)


def decoded(token: str, signer: JwtSigner, audience: str = "client-1") -> dict:
    return jwt.decode(token, signer.verification_key.key, algorithms=[signer.alg], audience=audience, issuer=ISSUER,
                      options={"verify_exp": False, "verify_iat": False})


def independent_at_hash(access_token: str, alg: str) -> str:
    """3.1.3.6, computed here and not by the product: the left-most half of the hash of the ASCII octets, the
    hash being the alg's (SHA-256 for RS256/ES256; SHA-512 for EdDSA on Ed25519), base64url without padding."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def test_the_id_token_header_is_typ_jwt_with_the_signing_kid_and_alg(any_signer):
    """Core 2 and RFC 7515: the same keys as access tokens (kid in the JWKS), but typ JWT, not at+jwt."""
    token = id_tokens(any_signer).mint(client_id="client-1", user_id="user-1", auth_time=NOW - 60,
                                       access_token=ACCESS)
    assert jwt.get_unverified_header(token) == {"alg": any_signer.alg, "kid": any_signer.kid, "typ": "JWT"}


def test_the_id_token_carries_exactly_the_claims_of_core_section_2(any_signer):
    token = id_tokens(any_signer, lifetime=900).mint(client_id="client-1", user_id="user-1", auth_time=NOW - 60,
                                                     access_token=ACCESS)
    claims = decoded(token, any_signer)
    assert claims == {
        "iss": ISSUER, "sub": "user-1", "aud": "client-1", "exp": NOW + 900, "iat": NOW, "auth_time": NOW - 60,
        "azp": "client-1", "at_hash": independent_at_hash(ACCESS, any_signer.alg), "amr": ["pwd"],
    }


def test_a_signature_by_another_key_does_not_verify(rsa_key):
    token = id_tokens(JwtSigner(generate("RS256"))).mint(client_id="client-1", user_id="u", auth_time=NOW,
                                                          access_token=ACCESS)
    with pytest.raises(jwt.InvalidSignatureError):
        decoded(token, JwtSigner(rsa_key))


@pytest.mark.parametrize("key, hash_name, half", [("rsa_key", "sha256", 16), ("ec_key", "sha256", 16),
                                                   ("ed_key", "sha512", 32)])
def test_at_hash_is_the_left_half_of_the_algs_hash(request, key, hash_name, half):
    """3.1.3.6: RS256 and ES256 hash with SHA-256 (16 octets kept); EdDSA (Ed25519) with SHA-512 (32 octets)."""
    signer = JwtSigner(request.getfixturevalue(key))
    access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y-" + key
    claims = decoded(id_tokens(signer).mint(client_id="client-1", user_id="u", auth_time=NOW, access_token=access),
                     signer)
    digest = hashlib.new(hash_name, access.encode()).digest()
    expected = base64.urlsafe_b64encode(digest[:half]).rstrip(b"=").decode()
    assert claims["at_hash"] == expected
    padded = claims["at_hash"] + "=" * (-len(claims["at_hash"]) % 4)
    assert len(base64.urlsafe_b64decode(padded)) == half


def test_at_hash_matches_the_published_vectors():
    """Core Appendix A.3's RS256 example, and the Ed25519 value: OpenID Connect Core 1.0 (errata set 2) 3.1.3.6
    hashes with SHA-512 for an ID token signed with EdDSA over Ed25519."""
    assert left_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256") == "77QmUPtjPfzWtF2AnpK9RQ"
    assert left_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "ES256") == "77QmUPtjPfzWtF2AnpK9RQ"
    assert left_half_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA", "EdDSA") == "8xltSlOGYrWy8W9yNvRlEth1i_bXW-JROWPLvCv5zog"


def test_the_nonce_is_echoed_only_when_the_request_had_one(signer):
    """3.1.2.1 and 3.1.3.7 (11): echoed unchanged; 12.2: a refresh's ID token has none."""
    issuer = id_tokens(signer)
    with_nonce = decoded(issuer.mint(client_id="client-1", user_id="u", auth_time=NOW, access_token=ACCESS,
                                     nonce="n-0S6_WzA2Mj"), signer)
    without = decoded(issuer.mint(client_id="client-1", user_id="u", auth_time=NOW, access_token=ACCESS), signer)
    assert with_nonce["nonce"] == "n-0S6_WzA2Mj"
    assert "nonce" not in without


def test_the_id_token_is_not_an_access_token_and_vice_versa(signer):
    """RFC 9068 2.1 / 4: access tokens are typ at+jwt; ID tokens typ JWT, so a check on typ tells them apart."""
    access = AccessTokenIssuer(signer=signer, store=MemoryAccessTokenStore(), clock=FixedClock(NOW), issuer=ISSUER,
                               audience=ISSUER + "/api", lifetime=3600).issue(
        client_id="client-1", scopes=("openid",), grant_type="authorization_code", user_id="u")
    id_token = id_tokens(signer).mint(client_id="client-1", user_id="u", auth_time=NOW,
                                      access_token=access.access_token)
    assert jwt.get_unverified_header(access.access_token)["typ"] == "at+jwt"
    assert jwt.get_unverified_header(id_token)["typ"] == "JWT"
    assert "jti" not in decoded(id_token, signer) and "client_id" not in decoded(id_token, signer)


# -- identity scopes and claims ----------------------------------------------------------------------------------

ADA = User(id="user-1", email="ada@example.test", name="Ada Lovelace", created_at=1_700_000_000,
           email_verified=True)


def test_openid_alone_releases_only_sub():
    """5.3.2: sub is always returned; nothing else without profile or email."""
    assert user_claims(ADA, ("openid",)) == {"sub": "user-1"}
    assert user_claims(ADA, ("openid", "offline_access", "orders:read")) == {"sub": "user-1"}


def test_profile_releases_name_and_updated_at():
    """5.4: profile asks for name and updated_at (the others this server does not know); updated_at falls back to
    the creation time until the profile changes."""
    assert user_claims(ADA, ("openid", "profile")) == {"sub": "user-1", "name": "Ada Lovelace",
                                                       "updated_at": 1_700_000_000}
    changed = User(**{**ADA.__dict__, "updated_at": 1_750_000_000})
    assert user_claims(changed, ("openid", "profile"))["updated_at"] == 1_750_000_000


def test_email_releases_email_and_email_verified():
    assert user_claims(ADA, ("openid", "email")) == {"sub": "user-1", "email": "ada@example.test",
                                                     "email_verified": True}
    unverified = User(**{**ADA.__dict__, "email_verified": False})
    assert user_claims(unverified, ("openid", "email"))["email_verified"] is False


def test_profile_and_email_together_release_both_sets():
    assert set(user_claims(ADA, ("openid", "profile", "email"))) == {"sub", "name", "updated_at", "email",
                                                                     "email_verified"}


def test_the_consent_rows_show_the_values_the_client_will_learn():
    unverified = User(**{**ADA.__dict__, "email_verified": False})
    rows = {row["name"]: row for row in shared_with(unverified, ("openid", "profile", "email", "orders:read"))}
    assert list(rows) == ["openid", "profile", "email"]
    assert "ada@example.test" in rows["openid"]["description"]
    assert rows["profile"]["value"] == "Ada Lovelace"
    assert rows["email"]["value"] == "ada@example.test (not verified)"
    assert shared_with(ADA, ("openid", "email"))[1]["value"] == "ada@example.test (verified)"


@pytest.mark.parametrize("scopes, allowed", [
    (("orders:read",), True),  # plain OAuth: the client's grant types decide
    (("offline_access",), True),
    (("openid",), False),  # 11: an OpenID Connect request gets a refresh token only with offline_access
    (("openid", "profile", "orders:read"), False),
    (("openid", "offline_access"), True),
])
def test_offline_access_governs_refresh_tokens_only_for_openid_requests(scopes, allowed):
    assert offline_allowed(scopes) is allowed


POLICY = ScopePolicy({"orders:read": "Read your orders", "orders:write": "Change your orders"})


@pytest.mark.parametrize("requested", ["openid", "openid profile email offline_access", "openid orders:read"])
def test_identity_scopes_are_allowed_for_a_user_flow_whatever_the_clients_list(requested):
    """The client's scope list limits API scopes; the identity scopes are for any client signing a user in."""
    assert POLICY.resolve(requested, ("orders:read",), identity=True) == tuple(requested.split())


@pytest.mark.parametrize("requested", ["openid", "profile", "email", "offline_access", "orders:read openid"])
def test_identity_scopes_are_refused_where_no_user_signs_in(requested):
    with pytest.raises(OAuthError) as raised:
        POLICY.resolve(requested, ("orders:read",))
    assert raised.value.error == "invalid_scope" and raised.value.status == 400
    with pytest.raises(OAuthError):
        POLICY.resolve(requested, ())


def test_identity_does_not_widen_the_clients_api_scopes():
    with pytest.raises(OAuthError) as raised:
        POLICY.resolve("openid orders:write", ("orders:read",), identity=True)
    assert raised.value.error == "invalid_scope" and "orders:write" in raised.value.description


def test_the_identity_scopes_are_the_four_of_core():
    assert set(IDENTITY_SCOPES) == {"openid", "profile", "email", "offline_access"}


# -- discovery ---------------------------------------------------------------------------------------------------

GRANTS = ("authorization_code", "refresh_token", "client_credentials")
#: Discovery 1.0 section 3: REQUIRED (token_endpoint "unless only the Implicit Flow is used").
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
            "subject_types_supported", "id_token_signing_alg_values_supported")


def configuration(**overrides) -> dict:
    args = {"issuer": ISSUER, "scopes": POLICY.definitions, "grant_types": GRANTS,
            "signing_algorithms": ["RS256"], **overrides}
    return openid_configuration(**args)


def test_the_openid_configuration_has_every_required_field():
    document = configuration()
    missing = [field for field in REQUIRED if not document.get(field)]
    assert not missing
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert document["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert document["userinfo_endpoint"] == f"{ISSUER}/oauth/userinfo"  # RECOMMENDED
    assert "code" in document["response_types_supported"]
    assert set(document["subject_types_supported"]) <= {"public", "pairwise"}
    assert "openid" in document["scopes_supported"]  # 3: "The server MUST support the openid scope value"
    assert "RS256" in document["id_token_signing_alg_values_supported"]  # 3: "RS256 MUST be included"
    json.dumps(document)


def test_the_signing_algorithms_are_those_of_the_published_keys():
    document = configuration(signing_algorithms=["RS256", "EdDSA", "RS256"])
    assert sorted(document["id_token_signing_alg_values_supported"]) == ["EdDSA", "RS256"]


@pytest.mark.parametrize("grants", [GRANTS, (*GRANTS, "urn:ietf:params:oauth:grant-type:device_code", "implicit")])
def test_the_openid_configuration_agrees_with_rfc8414_on_every_shared_field(grants):
    oauth = authorization_server_metadata(issuer=ISSUER, scopes=POLICY.definitions, grant_types=grants)
    oidc = configuration(grant_types=grants)
    assert set(oauth) <= set(oidc)
    assert {name: oidc[name] for name in oauth} == oauth


def test_the_openid_configuration_names_the_claims_it_can_release():
    claims = set(configuration()["claims_supported"])
    assert {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "email", "email_verified",
            "updated_at"} <= claims


# -- userinfo ----------------------------------------------------------------------------------------------------


class UserInfoRig:
    """The endpoint over in-memory parts: the issuer's tokens, a user table, a liveness answer per jti/client."""

    def __init__(self, signer: JwtSigner, issued_at: int | None = None) -> None:
        self.store = MemoryAccessTokenStore()
        # PyJWT checks exp and iat against the wall clock: tokens are issued now unless told otherwise.
        clock = FixedClock(int(time.time()) if issued_at is None else issued_at)
        self.access = AccessTokenIssuer(signer=signer, store=self.store, clock=clock, issuer=ISSUER,
                                        audience=ISSUER + "/api", lifetime=3600)
        self.users = {ADA.id: ADA}
        self.revoked_clients: set[str] = set()
        self.endpoint = UserInfoEndpoint(
            issuer=ISSUER, users=self.users.get,
            access_tokens=TokenVerifier({signer.kid: signer.verification_key}, issuer=ISSUER,
                                        audiences=(ISSUER + "/api", ISSUER + "/oauth/userinfo")),
            liveness=lambda jti, client_id: (jti in self.store.records and not self.store.records[jti].revoked,
                                             client_id not in self.revoked_clients),
        )

    def token(self, scopes=("openid", "email"), user_id: str | None = ADA.id) -> str:
        return self.access.issue(client_id="client-1", scopes=scopes, grant_type="authorization_code",
                                 user_id=user_id).access_token

    def get(self, token: str | None = None, **headers: str):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.endpoint.handle(Request("GET", "/oauth/userinfo", Headers(headers)))

    def post(self, body: str, **headers: str):
        return self.endpoint.handle(Request("POST", "/oauth/userinfo", Headers({"Content-Type": FORM, **headers}),
                                            body=body.encode()))


@pytest.fixture
def rig(signer) -> UserInfoRig:
    return UserInfoRig(signer)


def test_userinfo_answers_the_claims_of_the_tokens_scopes(rig):
    answer = rig.get(rig.token())
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    assert json.loads(answer.body) == {"sub": ADA.id, "email": ADA.email, "email_verified": True}
    form = rig.post(f"access_token={rig.token(('openid', 'profile'))}")
    assert json.loads(form.body) == {"sub": ADA.id, "name": ADA.name, "updated_at": ADA.created_at}


def test_userinfo_without_a_token_is_a_bare_challenge(rig):
    """RFC 6750 3.1: no authentication at all, so no error code: just the scheme and realm."""
    answer = rig.get()
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"] == f'Bearer realm="{ISSUER}"'


def test_userinfo_with_a_token_without_openid_is_insufficient_scope(rig):
    answer = rig.get(rig.token(("orders:read",)))
    assert answer.status == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="openid"' in challenge


def test_userinfo_with_a_revoked_token_or_client_is_invalid_token(rig):
    token = rig.token()
    rig.store.revoke(jwt.decode(token, options={"verify_signature": False})["jti"])
    assert rig.get(token).status == 401 and 'error="invalid_token"' in rig.get(token).headers["WWW-Authenticate"]
    other = rig.token()
    rig.revoked_clients.add("client-1")
    assert 'error="invalid_token"' in rig.get(other).headers["WWW-Authenticate"]


def test_userinfo_with_an_expired_token_is_invalid_token(signer):
    stale = UserInfoRig(signer, issued_at=int(time.time()) - 7200)  # lifetime 3600: expired an hour ago
    answer = stale.get(stale.token())
    assert answer.status == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_userinfo_with_a_malformed_bearer_token_is_401_invalid_token_and_another_scheme_a_bare_challenge(rig):
    """RFC 6750 3.1: invalid_token is for an access token that is "malformed" (401); a request with no Bearer token
    at all gets the bare challenge."""
    for header in ("Bearer a b", "Bearer a,Bearer b", "Bearer \u00e9t\u00e9", "Bearer =abc"):
        malformed = rig.endpoint.handle(Request("GET", "/oauth/userinfo", Headers({"authorization": header})))
        assert malformed.status == 401 and json.loads(malformed.body)["error"] == "invalid_token", header
        assert 'error="invalid_token"' in malformed.headers["WWW-Authenticate"]
    basic = rig.endpoint.handle(Request("GET", "/oauth/userinfo", Headers({"authorization": "Basic eDp5"})))
    assert basic.status == 401 and "error=" not in basic.headers["WWW-Authenticate"]


def test_userinfo_with_a_token_in_header_and_body_is_invalid_request(rig):
    token = rig.token()
    answer = rig.post(f"access_token={token}", Authorization=f"Bearer {token}")
    assert answer.status == 400 and json.loads(answer.body)["error"] == "invalid_request"


def test_userinfo_refuses_a_token_that_names_no_user(rig):
    """A client's own token (sub is the client) or a user since deleted: invalid_token, never someone's claims."""
    assert 'error="invalid_token"' in rig.get(rig.token(user_id=None)).headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in rig.get(rig.token(user_id="deleted-user")).headers["WWW-Authenticate"]


def test_userinfo_refuses_an_id_token_as_the_bearer(rig, signer):
    id_token = id_tokens(signer).mint(client_id="client-1", user_id=ADA.id, auth_time=NOW, access_token="x")
    answer = rig.get(id_token)
    assert answer.status == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


# -- RP-initiated logout -----------------------------------------------------------------------------------------

APP = Client(client_id="client-a", name="App A", redirect_uris=("https://a.example/cb",),
             grant_types=("authorization_code",), post_logout_redirect_uris=(LOGOUT_URI,))
OTHER = Client(client_id="client-b", name="App B", grant_types=("authorization_code",),
               post_logout_redirect_uris=("https://b.example/bye",))
GONE = Client(client_id="client-gone", name="Gone", grant_types=("authorization_code",), revoked=True,
              post_logout_redirect_uris=(LOGOUT_URI,))


def logout(signer: JwtSigner, **params: str):
    return parse_logout({k: [v] for k, v in params.items()}, clients=MemoryClientStore(APP, OTHER, GONE),
                        id_tokens=TokenVerifier({signer.kid: signer.verification_key}, issuer=ISSUER,
                                                audiences=None, kind=ID_TOKEN))


def hint(signer: JwtSigner, client_id: str = "client-a", user_id: str = "user-1", now: int | None = None) -> str:
    now = int(time.time()) if now is None else now
    return id_tokens(signer, now=now).mint(client_id=client_id, user_id=user_id, auth_time=now, access_token="a")


def test_logout_without_parameters_asks_nothing_and_goes_nowhere(signer):
    request = logout(signer)
    assert (request.subject, request.client, request.redirect, request.params) == (None, None, None, {})


def test_a_valid_hint_names_the_user_and_the_client(signer):
    request = logout(signer, id_token_hint=hint(signer))
    assert request.subject == "user-1" and request.client == APP and request.redirect is None
    assert request.params["client_id"] == "client-a"


def test_a_registered_post_logout_redirect_uri_gets_the_state(signer):
    """RP-Initiated Logout 3: the state is passed back as a query parameter."""
    request = logout(signer, id_token_hint=hint(signer), post_logout_redirect_uri=LOGOUT_URI, state="s-1")
    parts = urlsplit(request.redirect)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == LOGOUT_URI
    assert parse_qs(parts.query) == {"state": ["s-1"]}
    by_client_id = logout(signer, client_id="client-a", post_logout_redirect_uri=LOGOUT_URI)
    assert by_client_id.redirect == LOGOUT_URI and by_client_id.subject is None


def test_an_expired_hint_is_still_accepted(signer):
    """2: the OP should accept an expired ID token as a hint (the RP's session may have outlived it)."""
    assert logout(signer, id_token_hint=hint(signer, now=int(time.time()) - 10 * 86400)).subject == "user-1"


@pytest.mark.parametrize("case", [
    "unregistered uri", "another client's uri", "uri without a client", "hint for another client", "tampered hint",
    "foreign key hint", "access token hint", "other issuer hint", "garbage hint", "revoked client", "unknown client",
    "repeated parameter",
])
def test_logout_refusals_are_error_pages_never_redirects(signer, case):
    """2 and 3: the post_logout_redirect_uri must be registered for the client the request names, and the hint
    must be an ID token this server issued to that client; otherwise an error, never a redirect."""
    now = int(time.time())
    good = hint(signer)
    header, payload, signature = good.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered["sub"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    stranger = generate("RS256")
    foreign = jwt.encode({"iss": ISSUER, "sub": "user-1", "aud": "client-a", "exp": now + 60, "iat": now},
                         stranger,
                         algorithm="RS256", headers={"kid": signer.kid})
    access = AccessTokenIssuer(signer=signer, store=MemoryAccessTokenStore(), clock=FixedClock(now), issuer=ISSUER,
                               audience=ISSUER + "/api", lifetime=60).issue(
        client_id="client-a", scopes=("openid",), grant_type="authorization_code", user_id="user-1").access_token
    elsewhere = IdTokenIssuer(signer=signer, clock=FixedClock(now), issuer="https://evil.example", lifetime=60).mint(
        client_id="client-a", user_id="user-1", auth_time=NOW, access_token="a")
    params = {
        "unregistered uri": {"client_id": "client-a", "post_logout_redirect_uri": "https://evil.example/"},
        "another client's uri": {"client_id": "client-a", "post_logout_redirect_uri": "https://b.example/bye"},
        "uri without a client": {"post_logout_redirect_uri": LOGOUT_URI},
        "hint for another client": {"id_token_hint": good, "client_id": "client-b"},
        "tampered hint": {"id_token_hint": f"{header}.{forged_payload}.{signature}"},
        "foreign key hint": {"id_token_hint": foreign},
        "access token hint": {"id_token_hint": access},
        "other issuer hint": {"id_token_hint": elsewhere},
        "garbage hint": {"id_token_hint": "not-a-jwt"},
        "revoked client": {"client_id": "client-gone", "post_logout_redirect_uri": LOGOUT_URI},
        "unknown client": {"client_id": "nobody", "post_logout_redirect_uri": LOGOUT_URI},
    }
    with pytest.raises(PageError):
        if case == "repeated parameter":
            parse_logout({"state": ["a", "b"]}, clients=MemoryClientStore(APP), id_tokens=None)
        else:
            logout(signer, **params[case])
