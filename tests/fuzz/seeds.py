"""The hand-made seeds of each target's corpus: ``tests/fuzz/corpus/<target>/seed-<name>``. ``make fuzz`` writes
any that are missing before it starts, and never drops them when it trims a corpus; libFuzzer mutates them.
The layouts are those described in :mod:`tests.fuzz.targets`."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.fuzz.targets import (
    ASSERTION_AUDIENCES,
    ASSERTION_CLAIMS,
    ASSERTION_HEADER,
    ASSERTION_NOW,
    DOCUMENT_URL,
    DPOP_CLAIMS,
    DPOP_DOMAIN,
    DPOP_EXPECTED_NONCE,
    DPOP_NOW,
    DPOP_PATH,
    VALID_CLAIMS,
    assertion_key,
    dpop_header,
    dpop_key,
    dpop_nonces,
    es256_compact,
    fuzz_header,
    public_jwk,
)
from tests.jws_corpus import AUDIENCE
from tests.rfc_examples import RFC7638_KEY as EXAMPLE_RSA_KEY
from tests.rfc_examples import RFC9449_RESOURCE_PROOF

#: Seeds are named so, and merged inputs by their SHA-1 (libFuzzer's names): a trim can tell them apart.
SEED_PREFIX = "seed-"

#: A real ES256 access token, kid fuzz-key, signed by a key that no longer exists: the verifier parses all of it
#: and refuses it at the signature, which is as far as a client's bytes may go.
REAL_TOKEN = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ1enota2V5IiwidHlwIjoiYXQrand0In0."
    "eyJpc3MiOiJodHRwczovL2FzLmV4YW1wbGUiLCJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJodHRwczovL2FzLmV4YW1wbGUvYXBpIiwiY2xpZW50X2lk"
    "IjoiY2xpZW50LTEiLCJqdGkiOiJqLTEiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJvcmRlcnM6cmVhZCJ9."
    "gVFHksC-Lk_lF69cVvaRTEU_OMsSdJ7mMy6CyfppZrfznd5aY9nAY1gFNOfAxKFEMyBz8Jmn7UGyuCYuMF4eQg"
)
#: A JSON text nested past Python's recursion limit (1000): the parser's RecursionError must become a refusal.
NESTED_ARRAY = b"[" * 1500


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


CLAIMS = VALID_CLAIMS
HEADER = json.loads(fuzz_header())
_, REAL_PAYLOAD, REAL_SIGNATURE = REAL_TOKEN.split(".")

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod"

DPOP_HEADER = dpop_header()
DPOP_JWK = DPOP_HEADER["jwk"]
SERVER_NONCE = dpop_nonces().current(DPOP_NOW)
#: RFC 9449 7.1's proof of its resource request (by the key of its Figure 2): a real proof of another key, URL
#: and time, whose signature verifies.
RFC9449_PROOF = RFC9449_RESOURCE_PROOF
#: RFC 7638 3.1's example RSA key (2048 bits), its public members.
RFC7638_KEY = {name: EXAMPLE_RSA_KEY[name] for name in ("kty", "n", "e")}
#: RFC 8037 A.2's Ed25519 public key.
RFC8037_KEY = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
ASSERTION_JWK = {**public_jwk(assertion_key()), "kid": ASSERTION_HEADER["kid"], "alg": "ES256", "use": "sig"}

SEEDS: dict[str, dict[str, bytes]] = {
    "jws_token": {
        "real-token": REAL_TOKEN.encode(),
        "nested-array-header": f"{_b64(NESTED_ARRAY)}.{REAL_PAYLOAD}.{REAL_SIGNATURE}".encode(),
        "alg-none": f"{_b64(_json({**HEADER, 'alg': 'none'}))}.{REAL_PAYLOAD}.".encode(),
        "padded-header": f"{_b64(_json(HEADER))}==.{REAL_PAYLOAD}.{REAL_SIGNATURE}".encode(),
        "header-not-json": f"{_b64(b'{not json')}.{REAL_PAYLOAD}.{REAL_SIGNATURE}".encode(),
        "short": b"a.b.c",
    },
    "jws_signed": {
        "valid-claims": _json(CLAIMS),
        "header-and-claims": _json(HEADER) + b"\0" + _json(CLAIMS),
        "nested-array-header": NESTED_ARRAY + b"\0" + _json(CLAIMS),
        "nested-payload": b'{"a":' * 1200,
        "id-token": _json({**HEADER, "typ": "JWT"}) + b"\0" + _json({**CLAIMS, "nonce": "n", "azp": "client-1"}),
        "aud-array-float-exp": _json({**CLAIMS, "aud": ["other", AUDIENCE], "exp": 4102444800.5}),
        "nan-exp": _json(CLAIMS)[:-1] + b',"exp":NaN}',
        "crit-header": _json({**HEADER, "crit": ["exp"]}) + b"\0" + _json(CLAIMS),
    },
    "guard_event": {
        "http-api": _json({"version": "2.0", "type": "REQUEST", "routeKey": "GET /api/orders",
                           "routeArn": f"{ARN}/GET/api/orders", "headers": {"authorization": "Bearer $TOKEN"}}),
        "rest-token": _json({"type": "TOKEN", "authorizationToken": "Bearer $TOKEN",
                             "methodArn": f"{ARN}/DELETE/api/orders/42"}),
        "rest-request": _json({"type": "REQUEST", "methodArn": f"{ARN}/GET/files/a/b", "resource": "/files/{proxy+}",
                               "httpMethod": "GET", "headers": {"Authorization": "Bearer $CLIENT_TOKEN"},
                               "multiValueHeaders": {"Authorization": ["Bearer $CLIENT_TOKEN"]}}),
        "headers-not-a-dict": _json({"type": "REQUEST", "methodArn": f"{ARN}/GET/api/orders",
                                     "headers": ["Authorization", "Bearer $TOKEN"]}),
        "two-authorization-headers": _json({"type": "REQUEST", "methodArn": f"{ARN}/GET/api/orders",
                                            "headers": {"Authorization": "Bearer $TOKEN"},
                                            "multiValueHeaders": {"Authorization": ["Bearer $TOKEN", "Bearer x"]}}),
        "not-an-object": b'["version","2.0"]',
        "dpop-rest-request": _json({
            "type": "REQUEST", "methodArn": f"{ARN}/GET/api/orders", "resource": "/api/orders", "httpMethod": "GET",
            "headers": {"Authorization": "DPoP $DPOP_TOKEN", "DPoP": "$DPOP_PROOF"},
            "multiValueHeaders": {"Authorization": ["DPoP $DPOP_TOKEN"], "DPoP": ["$DPOP_PROOF"]},
            "requestContext": {"domainName": DPOP_DOMAIN, "path": DPOP_PATH, "stage": "prod"}}),
        "dpop-http-api": _json({
            "version": "2.0", "type": "REQUEST", "routeKey": "GET /api/orders", "routeArn": f"{ARN}/GET/api/orders",
            "rawPath": DPOP_PATH, "headers": {"authorization": "DPoP $DPOP_TOKEN", "dpop": "$DPOP_PROOF"},
            "requestContext": {"domainName": DPOP_DOMAIN, "http": {"method": "GET", "path": DPOP_PATH}}}),
        "dpop-token-as-bearer": _json({
            "type": "REQUEST", "methodArn": f"{ARN}/GET/api/orders", "resource": "/api/orders", "httpMethod": "GET",
            "headers": {"Authorization": "Bearer $DPOP_TOKEN", "DPoP": "$DPOP_PROOF"},
            "requestContext": {"domainName": DPOP_DOMAIN, "path": DPOP_PATH}}),
        "bearer-token-as-dpop": _json({
            "version": "2.0", "type": "REQUEST", "routeKey": "GET /api/orders", "routeArn": f"{ARN}/GET/api/orders",
            "rawPath": DPOP_PATH, "headers": {"authorization": "DPoP $TOKEN", "dpop": "$DPOP_PROOF"},
            "requestContext": {"domainName": DPOP_DOMAIN}}),
        "dpop-two-proofs": _json({
            "type": "REQUEST", "methodArn": f"{ARN}/GET/api/orders", "resource": "/api/orders", "httpMethod": "GET",
            "headers": {"Authorization": "DPoP $DPOP_TOKEN", "DPoP": "$DPOP_PROOF"},
            "multiValueHeaders": {"DPoP": ["$DPOP_PROOF", "$DPOP_PROOF"]},
            "requestContext": {"domainName": DPOP_DOMAIN, "path": DPOP_PATH}}),
        "dpop-token-authorizer": _json({"type": "TOKEN", "authorizationToken": "DPoP $DPOP_TOKEN",
                                        "methodArn": f"{ARN}/GET/api/orders"}),
        "dpop-no-domain": _json({
            "version": "2.0", "type": "REQUEST", "routeKey": "GET /api/orders", "routeArn": f"{ARN}/GET/api/orders",
            "rawPath": DPOP_PATH, "headers": {"authorization": "DPoP $DPOP_TOKEN", "dpop": "$DPOP_PROOF"}}),
    },
    "form": {
        "code-exchange": b"grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
                         b"&client_id=client-1&code_verifier=" + b"v" * 43,
        "repeated": b"grant_type=client_credentials&grant_type=password&scope=",
        "not-utf8": b"client_id=%FF%FE&x=\xff",
        "separators": b"&&=&a==b;c=d+e%2",
        "empty": b"",
    },
    "json_body": {
        "nested-body": _json({"client_name": "App", "redirect_uris": ["https://app.example/cb"],
                              "grant_types": ["authorization_code"], "nested": {"a": [1, {"b": [None, True]}]}}),
        "nested-array": NESTED_ARRAY,
        "lone-surrogate": b'{"name":"\\ud800"}',
        "constants": b"[NaN, Infinity, -Infinity, 1e400]",
        "long-integer": b"9" * 4400,
        "utf16": '{"a": 1}'.encode("utf-16"),
    },
    "mcp": {
        "initialize": _json({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}),
        "tools-call": b"POST\nmcp-protocol-version: 2025-06-18\naccept: application/json\n"
                      b"content-type: application/json\0" + _json(
                          {"jsonrpc": "2.0", "id": "a", "method": "tools/call",
                           "params": {"name": "list_orders", "arguments": {"status": "shipped"}}}),
        "batch": _json([{"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                        {"jsonrpc": "2.0", "method": "notifications/initialized"},
                        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami"}},
                        {"jsonrpc": "2.0", "id": 4, "result": {}}, 5]),
        "get": b"GET\naccept: text/event-stream\0",
        "not-json": b"POST\naccept: application/*;q=0.5\ncontent-type: application/json; charset=utf-8\0{",
    },
    "bearer": {
        "token": f"Bearer {REAL_TOKEN}".encode(),
        "b64token": b"bearer  abc-._~+/xyz==",
        "tabs": b"\tBearer\tabc\t",
        "two-tokens": b"Bearer a, Bearer b",
        "basic": b"Basic dXNlcjpwYXNz",
        "scheme-only": b"Bearer",
    },
    "client_document": {
        "document": _json({"client_id": DOCUMENT_URL, "client_name": "Agent",
                           "redirect_uris": ["http://127.0.0.1:3000/callback"], "token_endpoint_auth_method": "none",
                           "grant_types": ["authorization_code", "refresh_token"], "scope": "orders:read"}),
        "native": _json({"client_id": DOCUMENT_URL, "application_type": "native",
                         "redirect_uris": ["cursor://anysphere.cursor-retrieval/oauth/callback"]}),
        "with-url": b"https://agent.example:8443/a/b.json?v=1\0"
                    + _json({"client_id": "https://agent.example:8443/a/b.json?v=1", "redirect_uris": ["https://a.example/cb"]}),
        "secret": _json({"client_id": DOCUMENT_URL, "client_secret": "s", "redirect_uris": ["https://a.example/cb"]}),
    },
    "authorization_request": {
        "code": b"response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
                b"&scope=openid+orders%3Aread&state=s&nonce=n&code_challenge=" + b"E" * 43
                + b"&code_challenge_method=S256",
        "native": b"response_type=code&client_id=native&redirect_uri=http%3A%2F%2F127.0.0.1%3A51004%2Fcb"
                  b"&code_challenge=" + b"E" * 43 + b"&code_challenge_method=S256&response_mode=form_post",
        "request-object": b"client_id=web&response_type=code&request=" + _b64(_json({"alg": "none"})).encode() + b"."
                          + _b64(_json({"redirect_uri": "https://app.example/cb", "state": "in", "nonce": "n",
                                        "scope": "openid", "claims": {"id_token": {"acr": {"essential": True}}}})
                                 ).encode() + b".",
        "claims": b"response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&claims="
                  b"%7B%22userinfo%22%3A%7B%22email%22%3Anull%7D%7D&acr_values=x",
    },
    "dpop_proof": {
        "header-and-claims": _json(DPOP_HEADER) + b"\0" + _json(DPOP_CLAIMS),
        "claims": _json(DPOP_CLAIMS),
        "server-nonce": _json({**DPOP_CLAIMS, "nonce": SERVER_NONCE}),
        "client-nonce": _json({**DPOP_CLAIMS, "nonce": DPOP_EXPECTED_NONCE}),
        "proof": es256_compact(dpop_key(), _json(DPOP_HEADER), _json({**DPOP_CLAIMS, "nonce": SERVER_NONCE})).encode(),
        "rfc9449-proof": RFC9449_PROOF.encode(),
        "htu-to-normalize": _json({**DPOP_CLAIMS, "htu": "HTTPS://API.Example.COM:0443/prod/./api/%6frders?q#f"}),
        "htu-userinfo": _json({**DPOP_CLAIMS, "htu": f"https://user@{DPOP_DOMAIN}{DPOP_PATH}"}),
        "htu-ip-literal": _json({**DPOP_CLAIMS, "htu": "http://[::1]:8080/a/../b/%2f"}),
        "iat-edges": _json({**DPOP_CLAIMS, "iat": DPOP_NOW - 299.5, "jti": "j" * 256}),
        "iat-nan": _json(DPOP_CLAIMS)[:-1] + b',"iat":NaN}',
        "duplicate-jti": b'{"jti":"a","jti":"b",' + _json(DPOP_CLAIMS)[1:],
        "private-jwk": _json({**DPOP_HEADER, "jwk": {**DPOP_JWK, "d": DPOP_JWK["x"]}}) + b"\0" + _json(DPOP_CLAIMS),
        "rsa-jwk": _json({"typ": "dpop+jwt", "alg": "RS256", "jwk": RFC7638_KEY}) + b"\0" + _json(DPOP_CLAIMS),
        "eddsa-jwk": _json({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": RFC8037_KEY}) + b"\0" + _json(DPOP_CLAIMS),
        "jwk-members": _json({**DPOP_HEADER, "jwk": {**DPOP_JWK, "alg": "ES256", "use": "sig",
                                                     "key_ops": ["verify"]}}) + b"\0" + _json(DPOP_CLAIMS),
        "kid-reference": _json({**DPOP_HEADER, "kid": "k", "crit": ["htu"]}) + b"\0" + _json(DPOP_CLAIMS),
        "nested-array-header": NESTED_ARRAY + b"\0" + _json(DPOP_CLAIMS),
        "two-proofs": b"a.b.c, a.b.c",
    },
    "client_assertion": {
        "header-and-claims": _json(ASSERTION_HEADER) + b"\0" + _json(ASSERTION_CLAIMS),
        "claims": _json(ASSERTION_CLAIMS),
        "no-kid-no-typ": _json({"alg": "ES256"}) + b"\0" + _json(ASSERTION_CLAIMS),
        "unknown-kid": _json({**ASSERTION_HEADER, "kid": "rotated"}) + b"\0" + _json(ASSERTION_CLAIMS),
        "kid-of-an-ed25519-key": _json({**ASSERTION_HEADER, "kid": "ed"}) + b"\0" + _json(ASSERTION_CLAIMS),
        "token-endpoint-audience": _json({**ASSERTION_CLAIMS, "aud": ["https://other.example",
                                                                      ASSERTION_AUDIENCES[1]]}),
        "typ-draft": _json({**ASSERTION_HEADER, "typ": "application/client-authentication+jwt"}) + b"\0"
                     + _json(ASSERTION_CLAIMS),
        "no-iat-float-exp": _json({name: value for name, value in ASSERTION_CLAIMS.items() if name != "iat"}
                                  | {"exp": ASSERTION_NOW + 300.5, "nbf": ASSERTION_NOW}),
        "assertion": es256_compact(assertion_key(), _json(ASSERTION_HEADER), _json(ASSERTION_CLAIMS)).encode(),
        "jwks": _json({"keys": [ASSERTION_JWK, {**RFC7638_KEY, "kid": "rsa"}, {**RFC8037_KEY, "alg": "EdDSA"}]}),
        "jwk-private": _json({**ASSERTION_JWK, "d": ASSERTION_JWK["x"]}),
        "jwks-duplicate-kid": _json({"keys": [ASSERTION_JWK, ASSERTION_JWK]}),
        "nested-payload": b'{"a":' * 1200,
    },
    "authorization_header": {
        "dpop": f"DPoP {REAL_TOKEN}".encode(),
        "bearer": b"Bearer abc-._~+/xyz==",
        "dpop-lower-spaces": b"\tdpop  abc-._~+/xyz==\t",
        "dpop-tab": b"DPoP\tabc",
        "two-schemes": b"DPoP a, Bearer b",
        "scheme-only": b"DPoP",
        "basic": b"Basic dXNlcjpwYXNz",
    },
}


def write_missing(corpus_root: Path) -> int:
    """Writes the seeds that are not in the corpus yet; how many it wrote."""
    written = 0
    for target, seeds in SEEDS.items():
        folder = corpus_root / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            path = folder / f"{SEED_PREFIX}{name}"
            if not path.exists():
                path.write_bytes(data)
                written += 1
    return written
