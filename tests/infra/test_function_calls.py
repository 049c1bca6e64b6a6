"""The other half of least privilege: each function's real calls, made against DynamoDB Local through a
recording proxy on loopback, need exactly what ``passport.iam_manifest`` grants it (the template tests check that the
stack grants no more). A function that starts making a new AWS call fails here before it fails on AWS."""

from __future__ import annotations

import base64
import hashlib
import http.client
import importlib.util
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import botocore.session
import pytest
from passport import iam_manifest
from passport.core.clients import DEVICE_CODE
from passport.core.models import User
from passport.routes import MCP_PATH
from passport.storage.connection import forget_client

from tests.conftest import REPO, make_client, reset_caches
from tests.document_host import Reply, document_host
from tests.dpop_keys import DpopKey
from tests.faults import upstreams

ARN_PREFIX = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod"
#: The orders app's registered post_logout_redirect_uri (OpenID Connect RP-Initiated Logout 1.0 section 3).
SIGNED_OUT = "https://app.example.com/signed-out"
CALLBACK = "https://app.example.com/callback"


class Recorder(ThreadingHTTPServer):
    """Forwards every request to the local stores (DynamoDB's to DynamoDB Local, the rest to moto's server) and
    notes its action and the tables it names."""

    daemon_threads = True

    def __init__(self, upstream: Any) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        dynamodb, others = upstreams(upstream)
        self.upstream, self.others = urlsplit(dynamodb), urlsplit(others)
        self.calls: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        target = self.headers.get("X-Amz-Target", "")
        service, _, operation = target.partition(".")
        with self.server.lock:
            self.server.calls.extend(iam_actions(service, operation, json.loads(body or b"{}")))
        to = self.server.upstream if service.startswith("DynamoDB") else self.server.others
        upstream = http.client.HTTPConnection(to.hostname, to.port, timeout=10)
        upstream.request("POST", self.path, body, dict(self.headers.items()))
        answer = upstream.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    def log_message(self, *args: Any) -> None:
        pass


#: A transaction's items, by the IAM action each needs.
_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def iam_actions(service: str, operation: str, request: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The IAM actions (and tables) an API call needs: a transaction needs the action of each of its items."""
    if not service.startswith("DynamoDB"):
        return [(f"{service}:{operation}", None)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", spec["TableName"])
            for item in request["TransactItems"]
            for kind, spec in item.items()
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table) for table in request["RequestItems"]]
    return [(f"dynamodb:{operation}", request.get("TableName"))]


@pytest.fixture
def recorder(stores) -> Iterator[Recorder]:
    server = Recorder(stores)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def load(function: str) -> ModuleType:
    path = REPO / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"calls_{function}_{uuid.uuid4().hex}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Calls:
    def __init__(self, env, recorder: Recorder) -> None:
        self.env = env
        self.recorder = recorder
        self.by_function: dict[str, set[tuple[str, str]]] = {}

    @contextmanager
    def cold(self, function: str) -> Iterator[ModuleType]:
        """Run a function as a fresh Lambda container would, its AWS calls going through the recorder."""
        reset_caches()
        forget_client()
        start = len(self.recorder.calls)
        self.env.monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", self.recorder.endpoint)
        self.env.monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.recorder.endpoint)
        try:
            yield load(function)
        finally:
            self.env.monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", self._url(self.recorder.upstream))
            self.env.monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", self._url(self.recorder.others))
            forget_client()
            reset_caches()
        settings = {getattr(self.env.settings.storage, s): s for s in ("clients_table", "users_table", "tokens_table")}
        made = self.by_function.setdefault(function, set())
        for action, table in self.recorder.calls[start:]:
            made.add((action, "secret" if action.startswith("secretsmanager:") else settings[table]))

    @staticmethod
    def _url(parts: Any) -> str:
        return f"http://{parts.hostname}:{parts.port}"


def granted(function: str, settings: Any) -> set[tuple[str, str]]:
    needs = iam_manifest.needs(function, settings)
    calls = {(f"dynamodb:{action}", setting) for setting, actions in needs.tables.items() for action in actions}
    return calls | {(f"secretsmanager:{action}", "secret") for action in needs.secret_actions}


def proxy_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    authorizer: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = headers or {}
    context: dict[str, Any] = {
        "resourcePath": path,
        "httpMethod": method,
        "stage": "prod",
        "path": f"/prod{path}",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "198.51.100.7"},
    }
    if authorizer:
        context["authorizer"] = authorizer
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


class Browser:
    """The browser side through the local gateway (API Gateway's twin): cookies kept, forms posted."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self.cookies: dict[str, str] = {}

    def send(
        self, method: str, target: str, form: dict[str, str] | None = None, extra: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = [("Host", "127.0.0.1"), ("User-Agent", "infra-test"), *(extra or {}).items()]
        if self.cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        body = urlencode(form or {}).encode()
        if form is not None:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        reply = self.gateway.dispatch(method, target, headers, body)
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, val = cookie.partition("=")
                if "Max-Age=0" in attributes:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        return reply.status, {k.lower(): v for k, v in reply.headers}, reply.body.decode()


def _csrf(html: str) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def test_every_function_needs_exactly_what_its_role_allows(env, recorder, tmp_path, monkeypatch):
    from passport.core.passwords import hash_password
    from passport.local.gateway import LocalGateway
    from passport.storage.repositories import DynamoUserStore

    secrets = botocore.session.get_session().create_client("secretsmanager")
    secret = secrets.create_secret(Name=f"PassportKeys-{uuid.uuid4().hex[:8]}")["ARN"]  # empty, as the stack's
    # Every path on: the optional grants too (the password grant reads users, the implicit grant signs), and
    # dynamic registration open (RFC 7591, as the shipped passport.toml has it).
    env.reconfigure(PASSPORT_KEYS_SECRET_NAME=secret, PASSPORT_GRANTS_PASSWORD="true", PASSPORT_GRANTS_IMPLICIT="true",
                    PASSPORT_REGISTRATION_POLICY="open", PASSPORT_CLIENT_DOCUMENTS_ALLOW_LOOPBACK="true")
    calls = Calls(env, recorder)

    with calls.cold(iam_manifest.INSTALL_KEYS) as install_keys:
        install_keys.handler(
            {"RequestType": "Create", "LogicalResourceId": "InstallKeys", "ResourceProperties": {}}, None
        )

    service = make_client(env, scopes=("orders:read",))
    first_party = make_client(
        env,
        name="first-party app",
        grant_types=("password", "refresh_token"),
        scopes=("orders:read",),
        first_party=True,
    )
    app = make_client(
        env,
        name="orders app",
        grant_types=("authorization_code", "refresh_token", "implicit"),
        redirect_uris=("https://app.example.com/callback",),
        post_logout_redirect_uris=(SIGNED_OUT,),
        scopes=("orders:read",),
    )
    user = User(id=str(uuid.uuid4()), email="ada@example.com", name="Ada", password_hash=hash_password("s3cret-pw"))
    DynamoUserStore().create(user)

    # The browser: sign in (once wrongly: the throttle), consent, get a code, sign out. An OpenID Connect request
    # (the ID token is signed by the token function, and checked again by the pages' logout below).
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": "https://app.example.com/callback",
        "scope": "openid profile email offline_access orders:read",
        "state": "st4te",
        "nonce": "n0nce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorize = "/oauth/authorize?" + urlencode(request)
    with calls.cold("authorize"):
        browser = Browser(LocalGateway(env.settings))
        status, headers, _ = browser.send("GET", authorize)
        assert status == 303 and headers["location"].startswith("/login?")
        status, _, html = browser.send("GET", headers["location"])
        assert status == 200
        login = {"_token": _csrf(html), "next": authorize, "email": user.email}
        assert browser.send("POST", "/login", {**login, "password": "wrong"})[0] == 401
        status, headers, _ = browser.send("POST", "/login", {**login, "password": "s3cret-pw"})
        assert status == 303 and headers["location"] == authorize
        status, _, html = browser.send("GET", authorize)
        assert status == 200 and "orders app" in html  # the consent page
        approve = {**parse_qs_single(authorize.split("?", 1)[1]), "_token": _csrf(html)}
        status, headers, _ = browser.send("POST", "/oauth/authorize", approve)
        assert status == 303 and headers["location"].startswith("https://app.example.com/callback?")
        code = parse_qs_single(headers["location"].split("?", 1)[1])["code"]
        plain_oauth = {k: v for k, v in request.items() if k != "nonce"}
        implicit = "/oauth/authorize?" + urlencode({**plain_oauth, "response_type": "token", "scope": "orders:read"})
        status, headers, _ = browser.send("GET", implicit)  # consent given above: the token, in the fragment
        assert status == 303 and "#access_token=" in headers["location"], headers
        assert browser.send("POST", "/logout", {"_token": approve["_token"]})[0] == 200

    # The token endpoint: client credentials, the code (PKCE), a refresh.
    def basic(client) -> dict[str, str]:
        credentials = base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
        return {"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"}

    with calls.cold("token") as token:

        def post(client, status: int = 200, **form: str) -> dict[str, Any]:
            answer = token.handler(
                proxy_event("POST", "/oauth/token", body=urlencode(form), headers=basic(client)), None
            )
            assert answer["statusCode"] == status, answer
            return json.loads(answer["body"])

        access_token = post(service, grant_type="client_credentials", scope="orders:read")["access_token"]
        mcp_token = post(service, grant_type="client_credentials", scope="orders:read",
                         resource=env.settings.issuer_url + MCP_PATH)["access_token"]  # RFC 8707
        tokens = post(
            app,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            redirect_uri="https://app.example.com/callback",
        )
        assert tokens["id_token"].startswith("eyJ"), tokens
        token_answers = [post(app, grant_type="refresh_token", refresh_token=tokens["refresh_token"])]
        # With a DPoP proof (RFC 9449 5): the access token is bound; the proof is spent (a conditional put).
        dpop_key = DpopKey()
        answer = token.handler(proxy_event(
            "POST", "/oauth/token", body=urlencode({"grant_type": "refresh_token",
                                                    "refresh_token": token_answers[-1]["refresh_token"]}),
            headers={**basic(app), "DPoP": dpop_key.proof("POST", env.settings.issuer_url + "/oauth/token")}), None)
        assert answer["statusCode"] == 200 and json.loads(answer["body"])["token_type"] == "DPoP", answer
        bound_token = json.loads(answer["body"])["access_token"]
        answer = token.handler(proxy_event(
            "POST", "/oauth/token", body=urlencode({"grant_type": "client_credentials", "scope": "orders:read"}),
            headers={**basic(service), "DPoP": dpop_key.proof("POST", env.settings.issuer_url + "/oauth/token")}), None)
        service_bound = json.loads(answer["body"])["access_token"]  # for the guard (the app's family is revoked below)
        password = {"grant_type": "password", "username": user.email, "scope": "orders:read"}
        post(first_party, 400, **password, password="wrong")  # counted by the throttle
        post(first_party, **password, password="s3cret-pw")

    # A pushed authorization request (RFC 9126): pushed by the par function, then taken, started and spent by the
    # pages (consent was given above, so the code comes at once).
    with calls.cold("par") as par:
        answer = par.handler(proxy_event("POST", "/oauth/par", headers=basic(app), body=urlencode(plain_oauth)), None)
    assert answer["statusCode"] == 201, answer
    request_uri = json.loads(answer["body"])["request_uri"]
    with calls.cold("authorize"):
        browser = Browser(LocalGateway(env.settings))
        status, _, html = browser.send("GET", "/login")
        assert browser.send("POST", "/login", {"_token": _csrf(html), "next": "", "email": user.email,
                                               "password": "s3cret-pw"})[0] == 303
        status, headers, _ = browser.send("GET", "/oauth/authorize?" + urlencode(
            {"client_id": app.client_id, "request_uri": request_uri}))
        assert status == 303 and headers["location"].startswith(f"{CALLBACK}?code="), (status, headers)

    # OpenID Connect's UserInfo: the token in the header (GET) and in the form (POST).
    with calls.cold("userinfo") as userinfo:
        latest_access = token_answers[-1]["access_token"]
        answers = [
            userinfo.handler(
                proxy_event("GET", "/oauth/userinfo", headers={"Authorization": f"Bearer {latest_access}"}), None
            ),
            userinfo.handler(
                proxy_event(
                    "POST",
                    "/oauth/userinfo",
                    body=urlencode({"access_token": latest_access}),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
                None,
            ),
        ]
        userinfo_url = env.settings.issuer_url + "/oauth/userinfo"
        answers.append(userinfo.handler(proxy_event("GET", "/oauth/userinfo", headers={
            "Authorization": f"DPoP {bound_token}",
            "DPoP": dpop_key.proof("GET", userinfo_url, access_token=bound_token)}), None))  # the proof spent
    for answer in answers:
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"])["email"] == user.email == "ada@example.com"

    devices = make_client(env, name="tv", grant_types=(DEVICE_CODE, "refresh_token"), scopes=("orders:read",))
    with calls.cold("device") as device:
        answer = device.handler(
            proxy_event("POST", "/oauth/device/code", body="scope=orders%3Aread", headers=basic(devices)), None
        )
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["user_code"], answer
    user_code = json.loads(answer["body"])["user_code"]

    # The pages again: sign in, confirm the device's code.
    with calls.cold("authorize"):
        browser = Browser(LocalGateway(env.settings))
        status, _, html = browser.send("GET", "/login")
        signed_in = {"_token": _csrf(html), "next": "", "email": user.email, "password": "s3cret-pw"}
        assert browser.send("POST", "/login", signed_in)[0] == 303
        status, _, html = browser.send("GET", f"/oauth/device/authorize?user_code={user_code}")
        assert status == 200 and "tv" in html
        confirmed = browser.send("POST", "/oauth/device/authorize", {"user_code": user_code, "_token": _csrf(html)})
        assert confirmed[0] == 200 and "Device connected" in confirmed[2]

    # The signed-in user's JSON API: a personal access token made, listed and revoked.
    with calls.cold("account"):
        xsrf = {"X-XSRF-TOKEN": browser.cookies["XSRF-TOKEN"]}
        status, _, body = browser.send("POST", "/oauth/personal-access-tokens", {"name": "cli"}, xsrf)
        assert status == 201, body
        token_id = json.loads(body)["token_id"]
        assert browser.send("GET", "/oauth/personal-access-tokens")[0] == 200
        assert browser.send("DELETE", f"/oauth/personal-access-tokens/{token_id}", None, xsrf)[0] == 204
        status, _, body = browser.send("GET", "/oauth/tokens")  # the code flow above authorized the orders app
        families = json.loads(body)
        assert status == 200 and families, body
        assert browser.send("DELETE", f"/oauth/tokens/{families[0]['id']}", None, xsrf)[0] == 204
        made = browser.send("POST", "/oauth/clients", {"name": "mine", "redirect": "https://mine.example/cb"}, xsrf)
        assert made[0] == 201, made
        mine = json.loads(made[2])["id"]
        assert browser.send("GET", "/oauth/clients")[0] == 200
        assert browser.send("PUT", f"/oauth/clients/{mine}", {"name": "renamed"}, xsrf)[0] == 200
        assert browser.send("DELETE", f"/oauth/clients/{mine}", None, xsrf)[0] == 204

    # RP-initiated logout: the pages check the ID token hint against the published keys, then end the session.
    with calls.cold("authorize"):
        logout = "/oauth/logout?" + urlencode(
            {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"}
        )
        status, headers, _ = browser.send("GET", logout)
        assert status == 303 and headers["location"] == f"{SIGNED_OUT}?state=bye", (status, headers)
        assert "XSRF-TOKEN" not in browser.cookies

    with calls.cold("metadata") as metadata:
        for path in ("/.well-known/jwks.json", "/.well-known/oauth-authorization-server",
                     "/.well-known/openid-configuration", "/.well-known/oauth-protected-resource",
                     "/.well-known/oauth-protected-resource/api"):
            assert metadata.handler(proxy_event("GET", path), None)["statusCode"] == 200

    # Dynamic registration (RFC 7591 3), then the registration's management (RFC 7592 2.1 read, 2.2 update,
    # 2.3 delete) with its registration access token.
    with calls.cold("register") as register:

        def registration(method: str, path: str, body: dict[str, Any] | None = None,
                         token: str | None = None) -> dict[str, Any]:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            event = proxy_event(method, path, headers=headers, body=json.dumps(body) if body is not None else None)
            if path != "/oauth/register":
                event["resource"] = "/oauth/register/{client_id}"
                event["pathParameters"] = {"client_id": path.rsplit("/", 1)[1]}
            return register.handler(event, None)

        metadata = {"client_name": "agent", "redirect_uris": ["http://127.0.0.1:33418/callback"],
                    "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}
        answer = registration("POST", "/oauth/register", metadata)
        assert answer["statusCode"] == 201, answer
        registered = json.loads(answer["body"])
        managed = f"/oauth/register/{registered['client_id']}"
        token = registered["registration_access_token"]
        assert registration("GET", managed, token=token)["statusCode"] == 200
        renamed = {**metadata, "client_id": registered["client_id"], "client_name": "agent, renamed"}
        answer = registration("PUT", managed, renamed, token=token)
        assert answer["statusCode"] == 200 and json.loads(answer["body"])["client_name"] == "agent, renamed", answer
        assert registration("DELETE", managed, token=token)["statusCode"] == 204

    with calls.cold(iam_manifest.GUARD) as guard:
        policy = guard.handler(
            {
                **proxy_event("GET", "/api/orders", headers={"Authorization": f"Bearer {access_token}"}),
                "type": "REQUEST",
                "methodArn": f"{ARN_PREFIX}/GET/api/orders",
            },
            None,
        )
        # A DPoP call (RFC 9449 7): the proof for the URL the client called, spent (a conditional put).
        host = env.settings.issuer_url.split("://", 1)[1]
        proof = dpop_key.proof("GET", f"{env.settings.issuer_url}/prod/api/orders", access_token=service_bound)
        event = proxy_event("GET", "/api/orders", headers={"Authorization": f"DPoP {service_bound}", "DPoP": proof})
        event["requestContext"]["domainName"] = host
        dpop_policy = guard.handler({**event, "type": "REQUEST", "methodArn": f"{ARN_PREFIX}/GET/api/orders"}, None)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert dpop_policy["context"]["jkt"] == dpop_key.jkt

    # The MCP server's calls are checked on their own: test_the_mcp_function_needs_exactly_what_its_role_allows.
    # (It needs the tokens for its resource that the token function issued here.)
    assert mcp_token

    with calls.cold("api") as api:
        answer = api.handler(
            proxy_event(
                "GET",
                "/api/user",
                authorizer={
                    "sub": user.id,
                    "user_id": user.id,
                    "client_id": app.client_id,
                    "scopes": "",
                    "jti": "j1",
                    "principalId": user.id,
                },
            ),
            None,
        )
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["email"] == "ada@example.com"

    # Introspection, then revocation: of the refreshed family's refresh token (the family and its access tokens
    # go) and of the client-credentials access token.
    # And a private_key_jwt client at each (RFC 7523 2.2): its assertion's jti spent by a conditional put.
    signer = KeyClient(env)
    with calls.cold("introspect") as introspect:
        for token in (access_token, tokens["refresh_token"]):
            answer = introspect.handler(
                proxy_event("POST", "/oauth/introspect", body=urlencode({"token": token}), headers=basic(service)),
                None,
            )
            assert answer["statusCode"] == 200, answer
        answer = introspect.handler(proxy_event("POST", "/oauth/introspect", headers=FORM, body=urlencode({
            "token": access_token, **signer.credentials("/oauth/introspect")})), None)
        assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"active": False}, answer
    with calls.cold("revoke") as revoke:
        latest = token_answers[-1]["refresh_token"]
        for client, token in ((app, latest), (service, access_token)):
            answer = revoke.handler(
                proxy_event("POST", "/oauth/revoke", body=urlencode({"token": token}), headers=basic(client)), None
            )
            assert answer["statusCode"] == 200, answer
        answer = revoke.handler(proxy_event("POST", "/oauth/revoke", headers=FORM, body=urlencode({
            "token": "not-a-token-of-ours", **signer.credentials("/oauth/revoke")})), None)
        assert answer["statusCode"] == 200, answer

    # A client ID metadata document's client (core/client_documents.py), its document served with no-store, so
    # each function that meets it fetches it again and keeps the new copy in the clients table: the pages (the
    # request and the approval), the token endpoint (the code) and the revocation endpoint.
    with document_host(tmp_path) as host:
        monkeypatch.setenv("SSL_CERT_FILE", str(host.bundle))
        document_url, loopback = host.url("/agent.json"), "http://127.0.0.1:33418/callback"
        host.replies["/agent.json"] = Reply(body=json.dumps({
            "client_id": document_url, "client_name": "agent", "redirect_uris": [loopback],
            "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none",
        }).encode(), headers={"Cache-Control": "no-store"})
        asked = "/oauth/authorize?" + urlencode({**plain_oauth, "client_id": document_url, "redirect_uri": loopback,
                                                 "scope": "orders:read"})
        with calls.cold("authorize"):
            browser = Browser(LocalGateway(env.settings))
            status, _, html = browser.send("GET", "/login")
            signed_in = {"_token": _csrf(html), "next": "", "email": user.email, "password": "s3cret-pw"}
            assert browser.send("POST", "/login", signed_in)[0] == 303
            status, _, html = browser.send("GET", asked)
            assert status == 200 and "describes itself in a document" in html, html[-500:]
            status, headers, _ = browser.send("POST", "/oauth/authorize",
                                              {**parse_qs_single(asked.split("?", 1)[1]), "_token": _csrf(html)})
            assert status == 303 and headers["location"].startswith(loopback), headers
            document_code = parse_qs_single(headers["location"].split("?", 1)[1])["code"]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        with calls.cold("token") as token:
            answer = token.handler(proxy_event("POST", "/oauth/token", headers=form, body=urlencode({
                "grant_type": "authorization_code", "code": document_code, "code_verifier": verifier,
                "redirect_uri": loopback, "client_id": document_url})), None)
            assert answer["statusCode"] == 200, answer
        with calls.cold("revoke") as revoke:
            answer = revoke.handler(proxy_event("POST", "/oauth/revoke", headers=form, body=urlencode({
                "token": json.loads(answer["body"])["refresh_token"], "client_id": document_url})), None)
            assert answer["statusCode"] == 200, answer
        with calls.cold("par") as par:  # a public client pushes with its client_id alone (RFC 9126 2)
            answer = par.handler(proxy_event("POST", "/oauth/par", headers=form, body=urlencode(
                {**plain_oauth, "client_id": document_url, "redirect_uri": loopback, "scope": "orders:read"})), None)
            assert answer["statusCode"] == 201, answer
        # Fetched again by each: the page twice, the token endpoint, revocation, the push.
        assert len(host.requests) == 5

    assert set(calls.by_function) | {"mcp"} == set(iam_manifest.FUNCTIONS)
    for function, made in calls.by_function.items():
        allowed = granted(function, env.settings)
        assert made <= allowed, (function, "needs more than its role allows", sorted(made - allowed))
        # Every path of each function ran above: the manifest grants nothing that goes unused.
        assert made == allowed, (function, "is granted but never uses", sorted(allowed - made))


def initialize_mcp(mcp: ModuleType, token: str, proof: str | None = None) -> dict[str, Any]:
    """MCP Streamable HTTP (2025-06-18): initialize, with the token in the Authorization header (DPoP with
    ``proof``)."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "infra-test", "version": "1"}}}
    credentials = {"Authorization": f"DPoP {token}", "DPoP": proof} if proof else {"Authorization": f"Bearer {token}"}
    return mcp.handler(
        proxy_event(
            "POST",
            MCP_PATH,
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                     **credentials},
            body=json.dumps(initialize),
        ),
        None,
    )


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class KeyClient:
    """A service that authenticates with private_key_jwt (RFC 7523 2.2): its public key registered, an assertion
    for each endpoint it calls."""

    def __init__(self, env) -> None:
        import jwt as pyjwt
        from passport.core.clients import validate_client_keys
        from passport.keys.material import generate, public_jwk_members

        self._encode, self._issuer = pyjwt.encode, env.settings.issuer_url
        self._key = generate("ES256")
        jwks = {"keys": [{**public_jwk_members(self._key.public_key()), "kid": "k1"}]}
        self.client_id = make_client(env, keys=validate_client_keys(jwks), scopes=("orders:read",)).client_id

    def credentials(self, path: str) -> dict[str, str]:
        import time

        from passport.core.client_assertions import CLIENT_ASSERTION_TYPE

        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self._issuer + path, "iat": now,
                  "exp": now + 60, "jti": uuid.uuid4().hex}
        return {"client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": self._encode(claims, self._key, algorithm="ES256", headers={"kid": "k1"})}


def test_the_mcp_function_needs_exactly_what_its_role_allows(env, recorder):
    """The demo MCP server is a protected resource of its own (RFC 9728, RFC 8707): its function checks the Bearer
    token itself, as the guard does (the token's record and its client, the published keys), then answers."""
    from passport.local.gateway import LocalGateway

    secrets = botocore.session.get_session().create_client("secretsmanager")
    secret = secrets.create_secret(Name=f"PassportKeys-{uuid.uuid4().hex[:8]}")["ARN"]
    env.reconfigure(PASSPORT_KEYS_SECRET_NAME=secret)
    calls = Calls(env, recorder)
    with calls.cold(iam_manifest.INSTALL_KEYS) as install_keys:
        install_keys.handler({"RequestType": "Create", "LogicalResourceId": "InstallKeys", "ResourceProperties": {}},
                             None)
    service = make_client(env, scopes=("orders:read",))
    form = urlencode({"grant_type": "client_credentials", "scope": "orders:read", "client_id": service.client_id,
                      "client_secret": service.secret, "resource": env.settings.issuer_url + MCP_PATH}).encode()
    reply = LocalGateway(env.settings).dispatch(
        "POST", "/oauth/token", [("Content-Type", "application/x-www-form-urlencoded")], form)  # not recorded
    assert reply.status == 200, reply.body
    key = DpopKey()
    token_url = env.settings.issuer_url + "/oauth/token"
    bound = LocalGateway(env.settings).dispatch(  # not recorded
        "POST", "/oauth/token", [("Content-Type", "application/x-www-form-urlencoded"),
                                 ("DPoP", key.proof("POST", token_url))], form)
    assert bound.status == 200, bound.body
    bound_token = json.loads(bound.body)["access_token"]
    with calls.cold("mcp") as mcp:
        answer = initialize_mcp(mcp, json.loads(reply.body)["access_token"])
        # A DPoP-bound token (RFC 9449 7): its proof spent (a conditional put).
        dpop_answer = initialize_mcp(mcp, bound_token, proof=key.proof(
            "POST", env.settings.issuer_url + MCP_PATH, access_token=bound_token))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["result"]["protocolVersion"], answer
    assert dpop_answer["statusCode"] == 200, dpop_answer
    made, allowed = calls.by_function["mcp"], granted("mcp", env.settings)
    assert made <= allowed, ("needs more than its role allows", sorted(made - allowed))
    assert made == allowed, ("is granted but never uses", sorted(allowed - made))


def test_without_the_optional_grants_the_token_function_never_reads_users_and_the_pages_only_read_the_keys():
    from passport.config import Settings

    plain = Settings()
    assert not plain.grants.password and not plain.grants.implicit
    assert "users_table" not in iam_manifest.needs("token", plain).tables
    # The pages check an id_token_hint (OpenID Connect RP-Initiated Logout 1.0 section 2): they read the keys,
    # and never write them.
    assert iam_manifest.needs("authorize", plain).secret_actions == ("GetSecretValue",)


def test_without_the_implicit_grant_the_pages_read_the_key_secret_to_check_an_id_token_hint(env, recorder):
    """OpenID Connect RP-Initiated Logout 1.0 section 2: the hint must be an ID token this server issued, so the
    pages load the published keys from the secret, with no optional grant on; and that read is all they add."""
    from passport.core.passwords import hash_password
    from passport.local.gateway import LocalGateway
    from passport.storage.repositories import DynamoUserStore

    secrets = botocore.session.get_session().create_client("secretsmanager")
    secret = secrets.create_secret(Name=f"PassportKeys-{uuid.uuid4().hex[:8]}")["ARN"]
    env.reconfigure(PASSPORT_KEYS_SECRET_NAME=secret)
    assert not env.settings.grants.implicit
    calls = Calls(env, recorder)
    with calls.cold(iam_manifest.INSTALL_KEYS) as install_keys:
        install_keys.handler({"RequestType": "Create", "LogicalResourceId": "InstallKeys", "ResourceProperties": {}},
                             None)
    app = make_client(env, name="app", grant_types=("authorization_code",), redirect_uris=(CALLBACK,),
                      post_logout_redirect_uris=(SIGNED_OUT,), first_party=True)
    user = User(id=str(uuid.uuid4()), email="lin@example.com", name="Lin", password_hash=hash_password("s3cret-pw"))
    DynamoUserStore().create(user)

    # Signed in, and an ID token from the code flow: not recorded (straight to the store).
    gateway = LocalGateway(env.settings)
    browser = Browser(gateway)
    status, _, html = browser.send("GET", "/login")
    assert browser.send("POST", "/login", {"_token": _csrf(html), "next": "", "email": user.email,
                                           "password": "s3cret-pw"})[0] == 303
    verifier = "w" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    status, headers, _ = browser.send("GET", "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": CALLBACK, "scope": "openid",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
    assert status == 303 and headers["location"].startswith(f"{CALLBACK}?"), headers  # first party: no consent
    code = parse_qs_single(headers["location"].split("?", 1)[1])["code"]
    form = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                      "code_verifier": verifier, "client_id": app.client_id, "client_secret": app.secret}).encode()
    reply = gateway.dispatch("POST", "/oauth/token", [("Content-Type", "application/x-www-form-urlencoded")], form)
    assert reply.status == 200, reply.body
    id_token = json.loads(reply.body)["id_token"]

    with calls.cold("authorize"):
        logout = "/oauth/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT})
        status, headers, _ = browser.send("GET", logout)
    assert status == 303 and headers["location"] == SIGNED_OUT, (status, headers)
    made = calls.by_function["authorize"]
    assert ("secretsmanager:GetSecretValue", "secret") in made
    assert made <= granted("authorize", env.settings), sorted(made - granted("authorize", env.settings))


def parse_qs_single(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query).items()}
