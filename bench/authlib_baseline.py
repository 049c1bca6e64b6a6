"""The comparison for the token throughput figure (docs/performance.md): a minimal token endpoint built on
authlib, never part of the product.

authlib's framework-independent :class:`authlib.oauth2.rfc6749.AuthorizationServer`, subclassed as its
framework integrations subclass it; the client_credentials grant; one confidential client held in memory,
authenticated with client_secret_basic (its secret kept as the product keeps secrets: a SHA-256, compared in
constant time); access tokens as RFC 9068 JWTs (``typ: at+jwt``) signed RS256 with a 2048-bit key parsed once at
start. Nothing is stored: ``save_token`` does nothing. It is served by the same HTTP server class as the local
gateway (:class:`passport.local.http_server.HttpServer`: h11, a thread per keep-alive connection), on
127.0.0.1, in a process of its own, for the load run; :func:`token_response` is what it does with each request,
and what the issuance figure calls in process (bench/figures.py): the two comparisons run the same code.

``python -m bench.authlib_baseline`` binds a free loopback port and prints one JSON line (url, client_id,
client_secret, the public key in PEM) once it serves; it runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from passport.local.http_server import HttpReply, HttpRequest

SCOPES = ("orders:read", "orders:write")
ACCESS_LIFETIME = 3600
TOKEN_PATH = "/oauth/token"


class Client(ClientMixin):
    def __init__(self, client_id: str, secret: str, scopes: tuple[str, ...]) -> None:
        self.client_id = client_id
        self.secret_hash = hashlib.sha256(secret.encode()).hexdigest()
        self.scopes = scopes

    def get_client_id(self) -> str:
        return self.client_id

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_client_secret(self, client_secret: str) -> bool:
        candidate = hashlib.sha256(client_secret.encode()).hexdigest()
        return hmac.compare_digest(candidate, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class TokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens; the key object is parsed once and handed back as is on every token."""

    def __init__(self, issuer: str, key: RSAKey, audience: str) -> None:
        super().__init__(issuer, alg="RS256")
        self._key = key
        self._audience = audience

    def get_jwks(self) -> RSAKey:
        return self._key

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self._audience


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]


class Request(OAuth2Request):
    def __init__(self, method: str, uri: str, headers: dict[str, str], form: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Server(AuthorizationServer):
    """The framework-independent server with the four methods a framework integration supplies."""

    def __init__(self, clients: dict[str, Client]) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self._clients = clients

    def query_client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # stores nothing (the product writes a record per token)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request  # already a Request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = list(headers)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return status, headers, json.dumps(body).encode()


def build(
    issuer: str, client_id: str | None = None, secret: str | None = None
) -> tuple[Server, str, str, bytes]:
    """The server, its one client's id and secret (random unless given), and the public key (PEM)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    key = RSAKey.import_key(pem)  # parsed once
    client_id = client_id or secrets.token_urlsafe(16)
    secret = secret or secrets.token_urlsafe(32)
    server = Server({client_id: Client(client_id, secret, SCOPES)})
    generator = TokenGenerator(issuer, key, f"{issuer}/api")
    generator.GRANT_TYPES_EXPIRES_IN = {"client_credentials": ACCESS_LIFETIME}
    server.register_token_generator("default", generator)
    server.register_grant(ClientCredentials)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return server, client_id, secret, public


def token_response(
    server: Server, issuer: str, headers: dict[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One POST to the token endpoint: the form parsed, authlib's request built, its answer in JSON."""
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return server.create_token_response(Request("POST", issuer + TOKEN_PATH, headers, form))


def _app(oauth: Server, issuer: str) -> Callable[[HttpRequest], HttpReply]:
    def answer(request: HttpRequest) -> HttpReply:
        if request.method != "POST" or request.target != TOKEN_PATH:
            return HttpReply(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
        return HttpReply(*token_response(oauth, issuer, dict(request.headers), request.body))

    return answer


def main() -> int:
    from passport.local.http_server import HttpServer  # the local gateway's own server class

    # The issuer names the port, known once bound: the app is set before the server serves a request.
    http = HttpServer(("127.0.0.1", 0), lambda request: HttpReply(503, [], b""))
    issuer = f"http://127.0.0.1:{http.server_address[1]}"
    oauth, client_id, secret, public = build(issuer)
    http.app = _app(oauth, issuer)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=http.shutdown).start())
    print(json.dumps({"url": issuer, "client_id": client_id, "client_secret": secret,
                      "public_key": public.decode()}), flush=True)
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        http.server_close()
    return 0


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


if __name__ == "__main__":
    sys.exit(main())
