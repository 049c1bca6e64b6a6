"""Dynamic client registration (RFC 7591) and management (RFC 7592) in the core: the client metadata rules, and
the endpoint over an in-memory client store (no storage, no HTTP)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from passport.core.hashing import hash_secret, verify_secret
from passport.core.http import Headers, Request, Response
from passport.core.models import Client
from passport.core.registration import (
    ClientMetadata,
    RegistrationEndpoint,
    RegistrationError,
    describe,
)
from passport.keys.material import generate, public_jwk_members

from tests.unit.fakes import MemoryClientStore

ISSUER = "https://auth.example.com"
SCOPES = {"orders:read": "Read your orders", "orders:write": "Change your orders"}
LOOPBACK = "http://127.0.0.1:7777/callback"
PUBLIC = {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "none",
          "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "client_name": "Agent",
          "scope": "orders:read"}
NOW = 1_800_000_000
INITIAL = "the-initial-access-token"


def parse(**changes: object) -> ClientMetadata:
    body = {k: v for k, v in {**PUBLIC, **changes}.items() if v is not None}
    return ClientMetadata.parse(body, SCOPES)


def refused(error: str = "invalid_client_metadata", **changes: object) -> RegistrationError:
    with pytest.raises(RegistrationError) as caught:
        parse(**changes)
    assert caught.value.error == error and caught.value.status == 400, caught.value.description
    return caught.value


# -- ClientMetadata.parse ------------------------------------------------------------------------------------------


def test_a_public_code_flow_client_parses_as_sent():
    metadata = parse()
    assert metadata.redirect_uris == (LOOPBACK,) and metadata.token_endpoint_auth_method == "none"
    assert metadata.grant_types == ("authorization_code", "refresh_token") and metadata.public
    assert metadata.client_name == "Agent" and metadata.scope == ("orders:read",)
    assert metadata.client_uri is None and metadata.logo_uri is None and metadata.post_logout_redirect_uris == ()


def test_omitted_members_take_rfc_7591_defaults():
    """RFC 7591 2: token_endpoint_auth_method defaults to client_secret_basic, grant_types to
    authorization_code, response_types to code; a missing name gets a placeholder, never an empty one."""
    metadata = ClientMetadata.parse({"redirect_uris": ["https://app.example.com/cb"]}, SCOPES)
    assert metadata.token_endpoint_auth_method == "client_secret_basic" and not metadata.public
    assert metadata.grant_types == ("authorization_code",)
    assert metadata.client_name == "Unnamed application" and metadata.scope == ()
    assert parse(client_name="   ").client_name == "Unnamed application"
    assert parse(client_name="  Agent  ").client_name == "Agent"


def test_repeated_values_are_kept_once():
    metadata = parse(redirect_uris=[LOOPBACK, LOOPBACK], grant_types=["authorization_code", "authorization_code"],
                     scope="orders:read  orders:read")
    assert metadata.redirect_uris == (LOOPBACK,) and metadata.grant_types == ("authorization_code",)
    assert metadata.scope == ("orders:read",)


@pytest.mark.parametrize("uri", [
    "https://app.example.com/cb", "https://app.example.com:8443/cb?x=1", "http://127.0.0.1/cb",
    "http://127.0.0.1:51004/cb", "http://[::1]:8080/cb", "http://localhost:3000/cb",
])
def test_https_and_loopback_http_redirect_uris_are_accepted(uri):
    """RFC 8252 7.3 (loopback, any port) and RFC 6749 3.1.2.1 (TLS otherwise): the rules of every client
    (core/clients.py), not a set of registration's own."""
    assert parse(redirect_uris=[uri]).redirect_uris == (uri,)
    assert parse(redirect_uris=[uri], application_type="native").redirect_uris == (uri,)


@pytest.mark.parametrize("uri", [
    "cursor://anysphere.cursor-retrieval/oauth/callback", "vscode://vscode.github-authentication/did-authenticate",
    "com.example.app:/callback", "com.example.app://callback",
])
def test_a_native_app_registers_a_private_use_scheme(uri):
    """RFC 8252 7.1 and OpenID Connect Dynamic Client Registration 1.0 section 2: Cursor's and VS Code's
    schemes, and the reverse-domain ones RFC 8252 recommends, for application_type native."""
    metadata = parse(redirect_uris=[uri], application_type="native")
    assert metadata.redirect_uris == (uri,) and metadata.application_type == "native"


def test_a_web_application_registering_a_private_use_scheme_is_told_to_say_native():
    error = refused("invalid_redirect_uri", redirect_uris=["cursor://anysphere.cursor-retrieval/oauth/callback"])
    assert "application_type native" in error.description


@pytest.mark.parametrize("value", ["desktop", "", 1, ["native"]])
def test_an_unknown_application_type_is_refused(value):
    assert "application_type" in refused(application_type=value).description


@pytest.mark.parametrize("uri", [
    "http://app.example.com/cb", "http://127.0.0.2/cb", "http://localhost.evil.example/cb",
    "https://app.example.com/cb#frag", "https://app.example.com/cb#", "https://user:pw@app.example.com/cb",
    "https://user@app.example.com/cb", "/cb", "//app.example.com/cb", "cb", "javascript:alert(1)",
    "data:text/html,x", "file:///etc/passwd", "ftp://app.example.com/cb", "com.example.app://user@callback",
    "https:///cb", "https://app.example.com/c b", "https://app.example.com/\u00e9", "https://[::1/cb", "",
    "https://app.example.com/" + "a" * 600, "http://127.0.0.1:0/cb", "https://app.example.com:/cb",
])
def test_other_redirect_uris_are_invalid_redirect_uri(uri):
    """RFC 7591 3.2.2 invalid_redirect_uri: absolute, no fragment (RFC 6749 3.1.2), no credentials, https,
    loopback http or a reverse-domain private-use scheme; never javascript:, data: or file:."""
    refused("invalid_redirect_uri", redirect_uris=[uri])
    refused("invalid_redirect_uri", redirect_uris=["https://app.example.com/ok", uri])


def test_the_code_flow_needs_one_to_ten_redirect_uris():
    refused("invalid_redirect_uri", redirect_uris=None)
    refused("invalid_redirect_uri", redirect_uris=[])
    refused("invalid_redirect_uri", redirect_uris=[f"https://app.example.com/{i}" for i in range(11)])
    assert len(parse(redirect_uris=[f"https://app.example.com/{i}" for i in range(10)]).redirect_uris) == 10


@pytest.mark.parametrize("value", ["https://app.example.com/cb", [1], [None], {"a": 1}])
def test_redirect_uris_must_be_an_array_of_strings(value):
    refused(redirect_uris=value)


@pytest.mark.parametrize("method", ["client_secret_jwt", "tls_client_auth", "self_signed_tls_client_auth", "",
                                    "NONE", "PRIVATE_KEY_JWT", "garbage", 1, ["none"]])
def test_auth_methods_other_than_none_basic_post_and_private_key_jwt_are_refused(method):
    """RFC 7591 2: token_endpoint_auth_method (this server: none, client_secret_basic, client_secret_post,
    private_key_jwt)."""
    refused(token_endpoint_auth_method=method)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_confidential_methods_parse(method):
    metadata = parse(token_endpoint_auth_method=method, grant_types=["client_credentials"], response_types=[],
                     redirect_uris=None)
    assert metadata.token_endpoint_auth_method == method and not metadata.public
    assert metadata.grant_types == ("client_credentials",) and metadata.redirect_uris == ()


@pytest.mark.parametrize("changes", [
    {"grant_types": ["password"], "response_types": []},
    {"grant_types": ["implicit"], "response_types": ["token"]},
    {"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"], "response_types": []},
    {"grant_types": ["authorization_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]},
    {"grant_types": ["client_credentials"], "response_types": []},  # a public client
    {"grant_types": "authorization_code"},
    {"grant_types": [1]},
    {"response_types": ["token"]},
    {"response_types": ["code", "token"]},
    {"response_types": ["code id_token"]},
    {"response_types": "code"},
    {"grant_types": ["refresh_token"]},  # response_types ["code"] without the code grant
    {"grant_types": ["refresh_token"], "response_types": ["code"]},
])
def test_grant_and_response_types_outside_the_rules_are_refused(changes):
    """RFC 7591 2 and 2.1: known grants only (no password, implicit, device, assertions), client credentials only
    for a confidential client, response_types consistent with grant_types."""
    refused(**changes)


@pytest.mark.parametrize("name", ["client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri"])
@pytest.mark.parametrize("value", ["http://app.example.com", "javascript:alert(1)", "data:image/png;base64,AA",
                                   "/relative", "https://", "https://app.example.com/a b", 1, ["https://a.example"]])
def test_uris_shown_to_users_must_be_https(name, value):
    """RFC 7591 2 and 5: client_uri, logo_uri, tos_uri, policy_uri (and jwks_uri) are https URLs, never
    javascript: or data:, which a page would make a link or an image of."""
    refused(**{name: value})


def test_display_uris_are_kept():
    metadata = parse(client_uri="https://app.example.com", logo_uri="https://app.example.com/logo.png",
                     tos_uri="https://app.example.com/tos")
    assert metadata.client_uri == "https://app.example.com"
    assert metadata.logo_uri == "https://app.example.com/logo.png"


@pytest.mark.parametrize("name", ["A" * 101, "Agent\nApprove", "Agent\t", "\x00", "Agent\x7f", ["Agent"], 7])
def test_client_names_too_long_with_control_characters_or_not_text_are_refused(name):
    refused(client_name=name)


@pytest.mark.parametrize("name", ["Goo\u202egle", "Google\u200b", "\ufeffGoogle", "Goo\u2066gle\u2069",
                                  "Google\u061c", "Goo\u2060gle", "Google\u2028Approve"])
def test_client_names_with_bidirectional_or_invisible_formatting_characters_are_refused(name):
    """The same name rule as every client (core/clients.py): Cc, Cf, Zl and Zp are refused, with the reason."""
    assert "U+" in refused(client_name=name).description


def test_a_deeply_nested_body_is_invalid_client_metadata_on_post_and_put():
    """RFC 7591 3.2.2: a body the server cannot read is invalid_client_metadata (400), not a server error,
    however deep its nesting."""
    store = Store()
    info = registered_client(store)
    nested = b"[" * 5000 + b"]" * 5000
    response, body = call(endpoint(store=store), "POST", nested)
    assert response.status == 400 and body["error"] == "invalid_client_metadata", body
    response, body = call(endpoint(store=store), "PUT", b'{"client_id": ' + nested + b"}",
                          client_id=info["client_id"], token=info["registration_access_token"])
    assert response.status == 400 and body["error"] == "invalid_client_metadata", body


def test_a_client_name_of_100_characters_with_markup_is_kept_as_text():
    """Escaping is the page's job (Jinja autoescape); the name is kept as sent."""
    assert parse(client_name="A" * 100).client_name == "A" * 100
    assert parse(client_name="<b>Agent</b> & co").client_name == "<b>Agent</b> & co"


def test_scopes_must_be_defined_or_identity_scopes():
    """RFC 7591 2 scope: the defined scopes; the identity scopes (OpenID Connect) are open to every code-flow
    client and so limit nothing."""
    refused(scope="orders:read orders:delete")
    refused(scope="*")
    refused(scope=["orders:read"])
    refused(scope='orders:read "quoted"')
    assert parse(scope="openid profile orders:write").scope == ("orders:write",)
    assert parse(scope="").scope == () and parse(scope=None).scope == ()


def test_post_logout_redirect_uris_follow_the_redirect_uri_rules():
    """OpenID Connect RP-Initiated Logout 1.0 3.1 with RFC 7591 2."""
    assert parse(post_logout_redirect_uris=["https://app.example.com/bye"]).post_logout_redirect_uris == (
        "https://app.example.com/bye",)
    refused("invalid_redirect_uri", post_logout_redirect_uris=["http://app.example.com/bye"])
    refused(post_logout_redirect_uris="https://app.example.com/bye")


def test_unknown_members_are_ignored():
    """RFC 7591 2: the server "MUST ignore any client metadata ... that it does not understand"."""
    assert parse(software_id="x", contacts=["a@example.com"], x_extension={"a": [1]}) == parse()


def test_dpop_bound_access_tokens_is_a_boolean_that_defaults_to_false():
    """RFC 9449 5.2: "If omitted, the default value is false"."""
    assert parse().dpop_bound_access_tokens is False
    assert parse(dpop_bound_access_tokens=True).dpop_bound_access_tokens is True
    assert parse(dpop_bound_access_tokens=False).dpop_bound_access_tokens is False


@pytest.mark.parametrize("value", ["true", 1, 0, [True], {"required": True}])
def test_a_dpop_bound_access_tokens_that_is_not_a_boolean_is_invalid_client_metadata(value):
    assert "dpop_bound_access_tokens" in refused(dpop_bound_access_tokens=value).description


# -- the endpoint ----------------------------------------------------------------------------------------------------


class Store(MemoryClientStore):
    """The registration endpoint's view of the clients table: the memory store and RFC 7592 replacement."""

    def __init__(self, *clients: Client) -> None:
        super().__init__(*clients)
        self.replace_answer = True

    def replace_registered(self, client: Client) -> bool:
        current = self._clients.get(client.client_id)
        if (not self.replace_answer or current is None or current.revoked
                or current.registration_token_hash != client.registration_token_hash):
            return False
        self._clients[client.client_id] = client
        return True


class Limit:
    def __init__(self, allowed: int = 100) -> None:
        self.allowed, self.keys = allowed, []

    def __call__(self, key: str) -> bool:
        self.keys.append(key)
        return len(self.keys) <= self.allowed


def endpoint(policy: str = "open", store: Store | None = None, limit: Limit | None = None) -> RegistrationEndpoint:
    return RegistrationEndpoint(
        issuer=ISSUER, policy=policy, initial_token_sha256=hash_secret(INITIAL).removeprefix("sha256:"),
        clients=store if store is not None else Store(), defined_scopes=SCOPES,
        rate_limit=limit or Limit(), clock=lambda: NOW + 0.9,
    )


def call(ep: RegistrationEndpoint, method: str, body: object = None, *, client_id: str | None = None,
         token: str | None = None, content_type: str = "application/json", source_ip: str = "192.0.2.1"
         ) -> tuple[Response, dict]:
    headers = {"Content-Type": content_type} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    path = "/oauth/register" + (f"/{client_id}" if client_id else "")
    request = Request(method, path, Headers(headers), body=raw, source_ip=source_ip,
                      path_params={"client_id": client_id} if client_id else {})
    response = ep.handle(request)
    return response, (json.loads(response.body) if response.body else {})


def test_open_registration_stores_a_public_registered_client():
    """RFC 7591 3.2.1: the response; the store keeps the registration access token's hash only."""
    store = Store()
    response, body = call(endpoint(store=store), "POST", {**PUBLIC, "client_uri": "https://agent.example.com"})
    assert response.status == 201 and response.headers["Cache-Control"] == "no-store"
    client = store.get(body["client_id"])
    assert client is not None and client.registered and client.public and not client.revoked
    assert client.created_at == NOW == body["client_id_issued_at"]
    assert client.auth_method == "none" and client.token_endpoint_auth_method == "none"
    assert client.client_uri == "https://agent.example.com" and client.name == "Agent"
    assert verify_secret(body["registration_access_token"], client.registration_token_hash)
    assert body["registration_access_token"] not in repr(client)
    assert body["registration_client_uri"] == f"{ISSUER}/oauth/register/{client.client_id}"
    assert "client_secret" not in body and "client_secret_expires_at" not in body


def test_the_token_policy_registers_a_confidential_client_with_a_secret():
    store = Store()
    machine = {"token_endpoint_auth_method": "client_secret_post", "grant_types": ["client_credentials"]}
    response, body = call(endpoint("token", store), "POST", machine, token=INITIAL)
    assert response.status == 201
    client = store.get(body["client_id"])
    assert verify_secret(body["client_secret"], client.secret_hash) and body["client_secret_expires_at"] == 0
    assert client.token_endpoint_auth_method == "client_secret_post" and not client.public
    for token in (None, INITIAL + "x", "", hash_secret(INITIAL)):
        refused_response, refusal = call(endpoint("token", store), "POST", machine, token=token or None)
        assert refused_response.status == 401 and refusal["error"] == "invalid_token"
        assert refused_response.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert len(store.all()) == 1


def test_the_token_policy_without_a_configured_hash_registers_no_one():
    ep = RegistrationEndpoint(issuer=ISSUER, policy="token", initial_token_sha256="", clients=Store(),
                              defined_scopes=SCOPES, rate_limit=Limit())
    response, body = call(ep, "POST", PUBLIC, token=INITIAL)
    assert response.status == 401 and body["error"] == "invalid_token"


def test_closed_registration_is_403_access_denied():
    store = Store()
    response, body = call(endpoint("closed", store), "POST", PUBLIC, token=INITIAL)
    assert response.status == 403 and body["error"] == "access_denied" and not store.all()


def test_the_open_policy_refuses_confidential_clients():
    response, body = call(endpoint(), "POST", {**PUBLIC, "token_endpoint_auth_method": "client_secret_basic"})
    assert response.status == 400 and body["error"] == "invalid_client_metadata"


def test_the_rate_limit_is_taken_per_source_address_and_refuses_with_slow_down():
    """RFC 7591 5 (mass registration) and RFC 6585 4: 429, Retry-After, nothing stored."""
    store, limit = Store(), Limit(allowed=1)
    ep = endpoint(store=store, limit=limit)
    assert call(ep, "POST", PUBLIC)[0].status == 201
    response, body = call(ep, "POST", PUBLIC)
    assert response.status == 429 and body["error"] == "slow_down" and int(response.headers["Retry-After"]) > 0
    assert len(store.all()) == 1 and limit.keys == ["192.0.2.1", "192.0.2.1"]
    call(ep, "POST", PUBLIC, source_ip="")
    assert limit.keys[-1] == "unknown"  # no address is one more address, not a way around the limit


@pytest.mark.parametrize("raw, content_type", [
    (b"{", "application/json"), (b"\xff", "application/json"), (b"[]", "application/json"),
    (b"null", "application/json"), (b'"x"', "application/json"),
    (json.dumps(PUBLIC).encode(), "text/plain"), (json.dumps(PUBLIC).encode(), "application/x-www-form-urlencoded"),
    (json.dumps({**PUBLIC, "pad": "a" * 16_400}).encode(), "application/json"),
])
def test_the_body_must_be_a_json_object_of_at_most_16_kb(raw, content_type):
    response, body = call(endpoint(), "POST", raw, content_type=content_type)
    assert response.status == 400 and body["error"] == "invalid_client_metadata"


def registered_client(store: Store, policy: str = "open", metadata: dict | None = None) -> dict:
    response, body = call(endpoint(policy, store), "POST", metadata or PUBLIC,
                          token=INITIAL if policy == "token" else None)
    assert response.status == 201, body
    return body


def test_get_answers_the_metadata_with_the_registration_access_token_only():
    """RFC 7592 2.1."""
    store = Store()
    info, other = registered_client(store), registered_client(store)
    response, body = call(endpoint(store=store), "GET", client_id=info["client_id"],
                          token=info["registration_access_token"])
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert body.pop("registration_access_token", info["registration_access_token"]) == \
        info["registration_access_token"]
    assert body == {k: v for k, v in info.items() if k != "registration_access_token"}
    for token in (None, "wrong", other["registration_access_token"]):
        response, body = call(endpoint(store=store), "GET", client_id=info["client_id"], token=token)
        assert response.status == 401 and body["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for client_id in ("no-such-client", "x" * 129):
        response, _ = call(endpoint(store=store), "GET", client_id=client_id, token=info["registration_access_token"])
        assert response.status == 401


def test_read_and_replace_answers_carry_the_registration_access_token():
    """RFC 7592 3: "registration_access_token REQUIRED" in the client information response, which is what a read
    (2.1) and an update (2.2) answer. The server keeps only its hash, so it answers with the one presented (it
    does not rotate it)."""
    store = Store()
    info = registered_client(store)
    token = info["registration_access_token"]
    _, read = call(endpoint(store=store), "GET", client_id=info["client_id"], token=token)
    _, replaced = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": info["client_id"]},
                       client_id=info["client_id"], token=token)
    for body in (read, replaced):
        assert body["registration_access_token"] == token
        assert body["registration_client_uri"] == f"{ISSUER}/oauth/register/{info['client_id']}"


def test_a_client_made_by_the_cli_cannot_be_managed_here():
    """A client without a registration access token (made by the operator) is no one's to manage."""
    store = Store(Client(client_id="cli-made", name="CLI", grant_types=("client_credentials",),
                         secret_hash=hash_secret("s")))
    for token in ("s", "", "x"):
        response, _ = call(endpoint(store=store), "GET", client_id="cli-made", token=token or None)
        assert response.status == 401


def test_put_replaces_the_metadata_and_keeps_the_rest():
    """RFC 7592 2.2: the new metadata replaces the old; the id, creation time, token and auth method stay."""
    store = Store()
    info = registered_client(store)
    before = store.get(info["client_id"])
    new = {**PUBLIC, "client_id": info["client_id"], "client_name": "Agent v2",
           "redirect_uris": ["https://agent.example.com/cb"], "scope": "orders:write",
           "logo_uri": "https://agent.example.com/logo.png"}
    response, body = call(endpoint(store=store), "PUT", new, client_id=info["client_id"],
                          token=info["registration_access_token"])
    assert response.status == 200, body
    after = store.get(info["client_id"])
    assert after.name == "Agent v2" and after.redirect_uris == ("https://agent.example.com/cb",)
    assert after.scopes == ("orders:write",) and after.logo_uri == "https://agent.example.com/logo.png"
    assert after.registration_token_hash == before.registration_token_hash and after.created_at == before.created_at
    assert body["client_name"] == "Agent v2" and "client_secret" not in body


@pytest.mark.parametrize("changes", [
    {"client_id": "another"}, {"client_id": None}, {"client_secret": "anything"}, {"client_secret": None},
    {"token_endpoint_auth_method": "client_secret_basic"}, {"grant_types": ["authorization_code", "password"]},
    {"redirect_uris": ["http://agent.example.com/cb"]},
])
def test_put_refuses_another_id_a_secret_a_new_auth_method_or_bad_metadata(changes):
    """RFC 7592 2.2: client_id must match, a client_secret sent must match (a public client has none); the auth
    method is the registration's; the metadata is checked as at registration."""
    store = Store()
    info = registered_client(store)
    body = {**PUBLIC, "client_id": info["client_id"], **changes}
    if changes.get("client_id", "") is None:
        del body["client_id"]
    response, answer = call(endpoint(store=store), "PUT", body, client_id=info["client_id"],
                            token=info["registration_access_token"])
    assert response.status == 400 and answer["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert store.get(info["client_id"]).redirect_uris == (LOOPBACK,)


def test_put_of_a_confidential_client_checks_its_secret_and_refuses_new_client_credentials():
    store = Store()
    web = {"redirect_uris": ["https://app.example.com/cb"], "token_endpoint_auth_method": "client_secret_basic"}
    info = registered_client(store, "token", web)
    token = info["registration_access_token"]
    for changes in ({"client_secret": info["client_secret"] + "x"}, {"client_secret": 5},
                    {"grant_types": ["authorization_code", "client_credentials"]},
                    {"token_endpoint_auth_method": "client_secret_post"}):
        response, answer = call(endpoint("token", store), "PUT", {**web, "client_id": info["client_id"], **changes},
                                client_id=info["client_id"], token=token)
        assert response.status == 400 and answer["error"] == "invalid_client_metadata", changes
    response, _ = call(endpoint("token", store), "PUT",
                       {**web, "client_id": info["client_id"], "client_secret": info["client_secret"]},
                       client_id=info["client_id"], token=token)
    assert response.status == 200
    # a client registered with client credentials keeps them
    machine = {"token_endpoint_auth_method": "client_secret_basic", "grant_types": ["client_credentials"]}
    job = registered_client(store, "token", machine)
    response, _ = call(endpoint("token", store), "PUT", {**machine, "client_id": job["client_id"]},
                       client_id=job["client_id"], token=job["registration_access_token"])
    assert response.status == 200


def test_a_client_registered_with_dpop_bound_access_tokens_is_stored_bound_and_reads_so():
    """RFC 9449 5.2: the client's tokens are always DPoP-bound (core/profile.py holds it to that); the member is
    echoed when true and left out when false, its default."""
    store = Store()
    info = registered_client(store, metadata={**PUBLIC, "dpop_bound_access_tokens": True})
    assert info["dpop_bound_access_tokens"] is True and store.get(info["client_id"]).dpop_bound
    _, read = call(endpoint(store=store), "GET", client_id=info["client_id"], token=info["registration_access_token"])
    assert read["dpop_bound_access_tokens"] is True
    plain = registered_client(store)
    assert "dpop_bound_access_tokens" not in plain and not store.get(plain["client_id"]).dpop_bound


def test_put_replaces_dpop_bound_access_tokens_and_never_the_operators_profile():
    """RFC 7592 2.2: the metadata replaced as a whole, so a PUT without the member unbinds the client and one with
    it binds it again. The security profile is the operator's (passport client update --profile), not metadata: a
    client cannot set or clear it."""
    store = Store()
    info = registered_client(store, metadata={**PUBLIC, "dpop_bound_access_tokens": True, "profile": "baseline"})
    client_id, token = info["client_id"], info["registration_access_token"]
    assert store.get(client_id).profile == ""
    store.create(replace(store.get(client_id), profile="fapi2"))  # what the operator set
    response, body = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": client_id, "profile": ""},
                          client_id=client_id, token=token)
    assert response.status == 200 and "dpop_bound_access_tokens" not in body, body
    assert not store.get(client_id).dpop_bound and store.get(client_id).profile == "fapi2"
    response, body = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": client_id,
                                                         "dpop_bound_access_tokens": True},
                          client_id=client_id, token=token)
    assert response.status == 200 and body["dpop_bound_access_tokens"] is True and store.get(client_id).dpop_bound
    response, body = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": client_id,
                                                         "dpop_bound_access_tokens": "no"},
                          client_id=client_id, token=token)
    assert response.status == 400 and body["error"] == "invalid_client_metadata"
    assert store.get(client_id).dpop_bound


def test_put_losing_a_race_with_delete_is_invalid_token():
    """A replacement conditional on the client being live (the store answers False): 401, as after DELETE."""
    store = Store()
    info = registered_client(store)
    store.replace_answer = False
    response, body = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": info["client_id"]},
                          client_id=info["client_id"], token=info["registration_access_token"])
    assert response.status == 401 and body["error"] == "invalid_token"


def test_delete_revokes_the_client_and_ends_its_registration_access_token():
    """RFC 7592 2.3: 204; afterwards the client is revoked and the token reads nothing."""
    store = Store()
    info = registered_client(store)
    response, body = call(endpoint(store=store), "DELETE", client_id=info["client_id"],
                          token=info["registration_access_token"])
    assert response.status == 204 and not response.body
    assert store.get(info["client_id"]).revoked
    for method in ("GET", "DELETE"):
        response, body = call(endpoint(store=store), method, client_id=info["client_id"],
                              token=info["registration_access_token"])
        assert response.status == 401 and body["error"] == "invalid_token"


def test_describe_lists_what_a_client_has_and_never_a_secret():
    client = Client(client_id="c1", name="Web", secret_hash=hash_secret("s"), redirect_uris=("https://a.example/cb",),
                    grant_types=("authorization_code", "refresh_token"), scopes=("orders:read",), created_at=NOW,
                    client_uri="https://a.example", registration_token_hash=hash_secret("t"))
    body = describe(client, ISSUER)
    assert body == {
        "client_id": "c1", "client_id_issued_at": NOW, "client_name": "Web", "redirect_uris": ["https://a.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic", "registration_client_uri": f"{ISSUER}/oauth/register/c1",
        "scope": "orders:read", "client_uri": "https://a.example", "client_secret_expires_at": 0,
        "application_type": "web",
    }
    machine = describe(replace(client, grant_types=("client_credentials",), redirect_uris=(), scopes=(),
                               client_uri=None), ISSUER)
    assert machine["response_types"] == [] and "scope" not in machine and "client_uri" not in machine


# -- private_key_jwt clients (RFC 7591 2 jwks and jwks_uri, OpenID Connect Dynamic Client Registration 1.0 2) ------


@pytest.fixture(scope="module")
def client_key():
    return generate("ES256")


def key_set(key, kid: str = "k1", **members: str) -> dict:
    return {"keys": [{**public_jwk_members(key.public_key()), "kid": kid, **members}]}


def key_metadata(key, **changes: object) -> dict:
    """A code-flow client that authenticates with private_key_jwt, its keys in jwks."""
    return {k: v for k, v in {**PUBLIC, "token_endpoint_auth_method": "private_key_jwt", "jwks": key_set(key),
                              **changes}.items() if v is not None}


def test_private_key_jwt_registers_with_a_jwks_and_gets_no_secret(client_key):
    metadata = ClientMetadata.parse(key_metadata(client_key), SCOPES)
    assert metadata.token_endpoint_auth_method == "private_key_jwt" and not metadata.public
    assert metadata.keys is not None and json.loads(metadata.keys.jwks) == key_set(client_key)
    assert metadata.keys.jwks_uri is None and metadata.keys.signing_alg == ""


def test_private_key_jwt_registers_with_an_https_jwks_uri():
    metadata = parse(token_endpoint_auth_method="private_key_jwt", jwks_uri="https://agent.example.com/jwks.json")
    assert metadata.keys is not None and metadata.keys.jwks_uri == "https://agent.example.com/jwks.json"
    assert metadata.keys.jwks is None


@pytest.mark.parametrize("uri", ["http://agent.example.com/jwks.json", "https://user@agent.example.com/jwks.json",
                                 "https://agent.example.com/jwks.json#k", "https://agent.example.com:0/jwks.json",
                                 "https:///jwks.json", "https://agent.example.com/" + "a" * 600, 7, ""])
def test_a_jwks_uri_must_be_an_https_url_without_credentials_or_fragment(uri):
    """OpenID Connect Dynamic Client Registration 1.0 section 2: jwks_uri "MUST use the https scheme"."""
    assert "jwks_uri" in refused(token_endpoint_auth_method="private_key_jwt", jwks_uri=uri).description


def test_jwks_and_jwks_uri_together_are_refused(client_key):
    """RFC 7591 2: "The jwks_uri and jwks parameters MUST NOT both be present in the same request"."""
    error = refused(**key_metadata(client_key, jwks_uri="https://agent.example.com/jwks.json"))
    assert "both" in error.description


def test_private_key_jwt_needs_keys_and_keys_need_private_key_jwt(client_key):
    assert "jwks" in refused(token_endpoint_auth_method="private_key_jwt").description
    for method in ("none", "client_secret_basic"):
        assert "private_key_jwt" in refused(token_endpoint_auth_method=method, jwks=key_set(client_key)).description
        refused(token_endpoint_auth_method=method, jwks_uri="https://agent.example.com/jwks.json")


@pytest.mark.parametrize("jwks", [
    {"keys": []}, {"keys": "k"}, [], "{}", {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
], ids=["empty", "not-a-list", "an-array", "a-string", "symmetric"])
def test_a_jwks_that_is_no_set_of_public_signing_keys_is_invalid_client_metadata(jwks):
    refused(token_endpoint_auth_method="private_key_jwt", jwks=jwks)


def test_a_jwks_holding_a_private_key_is_refused_without_echoing_it(client_key):
    jwk = {**key_set(client_key)["keys"][0], "d": "c2VjcmV0LXByaXZhdGUtc2NhbGFy"}
    error = refused(token_endpoint_auth_method="private_key_jwt", jwks={"keys": [jwk]})
    assert "private key material" in error.description and jwk["d"] not in error.description


def test_token_endpoint_auth_signing_alg_is_an_accepted_alg_a_registered_key_signs_with(client_key):
    """OpenID Connect Dynamic Client Registration 1.0 section 2; "none" "MUST NOT be used"."""
    assert ClientMetadata.parse(key_metadata(client_key, token_endpoint_auth_signing_alg="ES256"),
                                SCOPES).keys.signing_alg == "ES256"
    for alg in ("RS256", "none", "HS256", 1):
        refused(**key_metadata(client_key, token_endpoint_auth_signing_alg=alg))
    refused(token_endpoint_auth_signing_alg="ES256")  # with a secret client: no assertion to sign


def test_open_registration_registers_a_private_key_jwt_client_without_a_secret(client_key):
    """No shared secret is issued, so the client is no more trusted than a public one (see
    registration._open_registration); the response echoes its keys (RFC 7591 3.2.1)."""
    store = Store()
    asked = key_metadata(client_key, token_endpoint_auth_signing_alg="ES256")
    response, body = call(endpoint(store=store), "POST", asked)
    assert response.status == 201, body
    client = store.get(body["client_id"])
    assert client.has_keys and not client.public and client.secret_hash is None
    assert client.token_endpoint_auth_method == "private_key_jwt" and client.auth_signing_alg == "ES256"
    assert body["token_endpoint_auth_method"] == "private_key_jwt" and body["jwks"] == key_set(client_key)
    assert body["token_endpoint_auth_signing_alg"] == "ES256"
    assert "client_secret" not in body and "client_secret_expires_at" not in body


def test_open_registration_gives_a_private_key_jwt_client_no_client_credentials(client_key):
    """Anyone may register under the open policy: client_credentials would give them tokens without a user."""
    store = Store()
    machine = key_metadata(client_key, grant_types=["client_credentials"], response_types=[], redirect_uris=None)
    response, body = call(endpoint(store=store), "POST", machine)
    assert response.status == 400 and "client_credentials" in body["error_description"] and not store.all()
    response, body = call(endpoint("token", store), "POST", machine, token=INITIAL)
    assert response.status == 201 and store.get(body["client_id"]).grant_types == ("client_credentials",)


def test_open_registration_still_refuses_a_client_with_a_secret():
    response, body = call(endpoint(), "POST", {**PUBLIC, "token_endpoint_auth_method": "client_secret_basic"})
    assert response.status == 400 and "private_key_jwt" in body["error_description"]


def test_rfc_7592_reads_a_key_clients_keys_and_replaces_them(client_key):
    """RFC 7592 2.1 and 2.2: the keys are metadata like the rest: read back, and replaced by a PUT (rotation: the
    new set, or a jwks_uri instead); the method itself cannot change."""
    store = Store()
    _, info = call(endpoint(store=store), "POST", key_metadata(client_key))
    client_id, token = info["client_id"], info["registration_access_token"]
    response, read = call(endpoint(store=store), "GET", client_id=client_id, token=token)
    assert response.status == 200 and read["jwks"] == key_set(client_key)
    rotated = key_set(generate("ES256"), kid="k2")
    response, body = call(endpoint(store=store), "PUT", {**key_metadata(client_key, jwks=rotated),
                                                         "client_id": client_id}, client_id=client_id, token=token)
    assert response.status == 200 and body["jwks"] == rotated
    assert json.loads(store.get(client_id).jwks) == rotated
    response, body = call(endpoint(store=store), "PUT", {
        **key_metadata(client_key, jwks=None, jwks_uri="https://agent.example.com/jwks.json"), "client_id": client_id,
    }, client_id=client_id, token=token)
    assert response.status == 200 and body["jwks_uri"] == "https://agent.example.com/jwks.json" and "jwks" not in body
    assert store.get(client_id).jwks is None
    response, body = call(endpoint(store=store), "PUT", {**PUBLIC, "client_id": client_id}, client_id=client_id,
                          token=token)
    assert response.status == 400 and "cannot change" in body["error_description"]
