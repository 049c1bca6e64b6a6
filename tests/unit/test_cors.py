"""The CORS decision (Fetch standard, CORS protocol; ``passport.cors``), in process: which origin may read which
answer, what a preflight says, and that client-controlled input (Origin, the body, the token) never raises."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from passport import cors
from passport.config import Demo, Settings
from passport.core.http import Headers, Request, Response
from passport.core.models import Client
from passport.routes import CLIENT, PREFLIGHT, PUBLIC, preflight_methods, preflight_routes, route_table

SPA = "https://spa.example"
CLIENTS = {
    "spa": Client("spa", "SPA", redirect_uris=(f"{SPA}/callback", "http://127.0.0.1:5173/cb", "com.example.app:/cb")),
    "gone": Client("gone", "Gone", redirect_uris=("https://gone.example/cb",), revoked=True),
}
ROUTES = route_table(Settings(demo=Demo(enabled=True)))


class Store:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.reads: list[str] = []

    def get(self, client_id: str) -> Client | None:
        self.reads.append(client_id)
        if self.fail:
            raise TimeoutError("storage down")
        return CLIENTS.get(client_id)


def client_cors(store: Store | None = None, allowed: tuple[str, ...] = ()) -> cors.ClientCors:
    return cors.ClientCors(store or Store(), allowed, preflight_methods(ROUTES, CLIENT))


def request(path: str = "/oauth/token", *, origin: str | None = SPA, method: str = "POST", body: bytes = b"",
            headers: dict[str, str] | None = None, path_params: dict[str, str] | None = None) -> Request:
    fields = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if origin is not None:
        fields["Origin"] = origin
    return Request(method, path, Headers(fields), body=body, path_params=path_params or {})


def answered(policy: cors.ClientCors, req: Request, response: Response | None = None) -> dict[str, str]:
    response = response or Response(400, {"Content-Type": "application/json"}, '{"error":"invalid_grant"}')
    policy.answer(req, response)
    return response.headers


def jwt_with(claims: object) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJFUzI1NiJ9.{part}.c2ln"


def test_the_clients_redirect_uri_origin_may_read_and_no_other_origin():
    body = b"grant_type=authorization_code&code=x&client_id=spa"
    headers = answered(client_cors(), request(body=body))
    assert headers["Access-Control-Allow-Origin"] == SPA
    assert headers["Vary"] == "Origin"
    assert "WWW-Authenticate" in headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers
    loopback = answered(client_cors(), request(body=body, origin="http://127.0.0.1:5173"))
    assert loopback["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
    for origin in ("https://evil.example", "http://127.0.0.1:5174", "https://spa.example:8443", "http://spa.example"):
        refused = answered(client_cors(), request(body=body, origin=origin))
        assert "Access-Control-Allow-Origin" not in refused and refused["Vary"] == "Origin", origin


def test_the_client_is_read_from_basic_the_form_a_bearer_token_or_the_registration_path():
    basic = "Basic " + base64.b64encode(b"spa:secret").decode()
    cases = [
        request(headers={"Authorization": basic}, body=b"grant_type=client_credentials"),
        request(body=b"token=t&client_id=spa", path="/oauth/revoke"),
        request("/oauth/userinfo", method="GET", headers={"Authorization": f"Bearer {jwt_with({'client_id': 'spa'})}"}),
        request("/oauth/userinfo", body=f"access_token={jwt_with({'client_id': 'spa'})}".encode()),
        request("/oauth/register/spa", method="GET", path_params={"client_id": "spa"}),
    ]
    for case in cases:
        assert answered(client_cors(), case).get("Access-Control-Allow-Origin") == SPA, case


def test_registration_is_read_by_the_origin_of_the_client_it_registers():
    registered = Response(201, {}, json.dumps({"client_id": "new", "redirect_uris": [f"{SPA}/cb"]}))
    req = request("/oauth/register", headers={"Content-Type": "application/json"},
                  body=json.dumps({"redirect_uris": ["https://other.example/cb"]}).encode())
    assert answered(client_cors(), req, registered)["Access-Control-Allow-Origin"] == SPA
    # A refused registration: the request's own redirect URIs name the client it describes.
    refused = Response(400, {}, json.dumps({"error": "invalid_redirect_uri"}))
    req = request("/oauth/register", headers={"Content-Type": "application/json"},
                  body=json.dumps({"redirect_uris": [f"{SPA}/cb"]}).encode())
    assert answered(client_cors(), req, refused)["Access-Control-Allow-Origin"] == SPA


def test_an_unknown_or_revoked_client_and_storage_failures_allow_nothing_and_raise_nothing():
    for body in (b"client_id=nobody", b"client_id=gone", b"client_id=spa&client_id=spa", b""):
        assert "Access-Control-Allow-Origin" not in answered(client_cors(), request(body=body)), body
    down = Store(fail=True)
    assert "Access-Control-Allow-Origin" not in answered(client_cors(down), request(body=b"client_id=spa"))
    assert down.reads == ["spa"]


def test_the_allow_list_may_read_every_answer_without_a_storage_read():
    store = Store()
    headers = answered(client_cors(store, allowed=("https://console.example",)),
                       request(origin="https://console.example", body=b"client_id=spa"))
    assert headers["Access-Control-Allow-Origin"] == "https://console.example" and store.reads == []


def test_no_origin_no_cors_but_vary_and_an_existing_vary_is_kept():
    headers = answered(client_cors(), request(origin=None, body=b"client_id=spa"),
                       Response(200, {"Vary": "Accept-Encoding"}, "{}"))
    assert headers == {"Vary": "Accept-Encoding, Origin"}


@pytest.mark.parametrize("origin", ["null", "*", f"{SPA}/", f"{SPA}/callback", f"{SPA}, {SPA}", "HTTPS://SPA.EXAMPLE",
                                    "ftp://spa.example", "https://spa.example:", "", " " + SPA, "x" * 400])
def test_only_a_serialized_origin_is_an_origin(origin):
    assert cors.serialized_origin(origin) is None
    assert "Access-Control-Allow-Origin" not in answered(client_cors(), request(origin=origin, body=b"client_id=spa"))


def test_a_redirect_uris_origin_drops_the_default_port_and_keeps_others():
    assert cors.origin_of("https://SPA.example:443/cb?x=1") == SPA
    assert cors.origin_of("http://127.0.0.1:8080/cb") == "http://127.0.0.1:8080"
    assert cors.origin_of("http://[::1]:8080/cb") == "http://[::1]:8080"
    assert cors.origin_of("com.example.app:/cb") is None
    assert cors.origin_of("https://spa.example:99999/cb") is None


def test_public_answers_are_readable_from_anywhere_with_no_vary():
    response = Response(200, {}, "{}")
    cors.PublicCors({}).answer(request(origin="https://anyone.example"), response)
    assert response.headers == {"Access-Control-Allow-Origin": "*"}


def test_the_preflight_is_the_same_for_every_origin_allows_the_paths_methods_and_never_credentials():
    policy = client_cors()
    for origin in (SPA, "https://evil.example", None, "null"):
        answer = policy.preflight(request("/oauth/register/abc", method=PREFLIGHT, origin=origin))
        assert answer.status == 204 and answer.body == ""
        assert answer.headers == {
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "DELETE, GET, PUT",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP",
            "Access-Control-Max-Age": str(cors.PREFLIGHT_MAX_AGE)}
    assert policy.preflight(request("/elsewhere", method=PREFLIGHT)).headers == {}


def test_the_route_table_marks_discovery_public_the_clients_endpoints_client_and_never_a_page():
    kinds = {route.key: route.cors for route in ROUTES}
    assert {key for key, kind in kinds.items() if kind == PUBLIC} == {
        "GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration",
        "GET /.well-known/jwks.json", "GET /openapi.json", "GET /.well-known/oauth-protected-resource",
        "GET /.well-known/oauth-protected-resource/api", "GET /.well-known/oauth-protected-resource/mcp"}
    assert {key for key, kind in kinds.items() if kind == CLIENT} == {
        "POST /oauth/token", "POST /oauth/revoke", "POST /oauth/par", "POST /oauth/register",
        "GET /oauth/register/{client_id}",
        "PUT /oauth/register/{client_id}", "DELETE /oauth/register/{client_id}", "GET /oauth/userinfo",
        "POST /oauth/userinfo"}
    assert all(route.rule is None for route in ROUTES if route.cors)  # no preflight ever meets the guard
    preflights = preflight_routes(ROUTES)
    assert len({r.path for r in preflights}) == len(preflights) == len({r.path for r in ROUTES if r.cors})
    assert all(r.method == PREFLIGHT and r.function == next(x.function for x in ROUTES if x.path == r.path)
               for r in preflights)


@given(origin=st.text(max_size=80), body=st.binary(max_size=300), authorization=st.text(max_size=200))
def test_any_client_input_gets_an_answer_never_an_exception(origin, body, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/oauth/token", "/oauth/register", "/oauth/userinfo"):
        result = answered(client_cors(), request(path, origin=origin, body=body, headers=headers))
        assert result.get("Access-Control-Allow-Origin") in (None, SPA)
        assert "Access-Control-Allow-Credentials" not in result
