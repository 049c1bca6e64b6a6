"""Malformed tokens at every place that accepts one, through the local gateway: each is refused in the endpoint's
own style (RFC 6750 3.1's 401 ``invalid_token`` at the guarded API, the MCP server and userinfo; RFC 7662 2.2's
``{"active": false}`` at introspection), and no handler raises. The first of them, a header of nested arrays,
made the guard raise instead of refuse: 503 at ``/api/*`` and 500 at ``/mcp``."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests

pytestmark = pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def malformed_tokens(real: str, kid: str) -> dict[str, str]:
    """Every token is a well-formed b64token (RFC 6750 2.1), so each reaches the verifier itself."""
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {
        "nested header (about 1,500 characters)": b64(b"[" * 1100) + ".e30." + signature[:16],
        "nested header object": b64(b'{"a":' * 400) + ".e30." + signature[:16],
        "nested payload": header + "." + b64(b"[" * 3000) + "." + signature,
        "header not UTF-8": b64(b'\xff\xfe{"alg":"RS256"}') + "." + payload + "." + signature,
        "header in UTF-16": b64(json.dumps({"alg": "RS256", "kid": kid, "typ": "at+jwt"}).encode("utf-16")) + "."
                            + payload + "." + signature,
        "payload not UTF-8": header + "." + b64(b'{"sub":"\xff"}') + "." + signature,
        "header NaN": b64(b'{"alg":"RS256","kid":NaN,"typ":"at+jwt"}') + "." + payload + "." + signature,
        "exp Infinity (unsigned)": header + "." + b64(json.dumps(claims).replace(
            f'"exp": {claims["exp"]}', '"exp": Infinity').encode()) + "." + signature,
        "padded signature": real + "=",
        "padded payload": f"{header}.{payload}{'=' * (-len(payload) % 4) or '=='}.{signature}",
        "standard alphabet": real.replace("-", "+").replace("_", "/") if ("-" in real or "_" in real) else real + "+",
        "alg none": b64(json.dumps({"alg": "none", "kid": kid, "typ": "at+jwt"}).encode()) + "." + payload + ".",
        "header is an array": b64(b"[]") + "." + payload + "." + signature,
        "unknown kid": b64(json.dumps({"alg": "RS256", "kid": "k" * 40, "typ": "at+jwt"}).encode()) + "." + payload
                       + "." + signature,
        "two segments": f"{header}.{payload}",
        "four segments": f"{real}.{signature}",
        "dots only": "..",
        "not a JWS": "abc",
        "too long": "A" * 9000 + "." + "A" * 100 + "." + "A" * 100,
        "signature cut": real[:-10],
    }


@pytest.fixture
def tokens(server, client):
    real = server.token(client.client_id, client.secret).json()["access_token"]
    kid = json.loads(base64.urlsafe_b64decode(real.split(".")[0] + "=="))["kid"]
    return real, malformed_tokens(real, kid)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_malformed_token_gets_401_at_the_api_the_mcp_server_and_userinfo(server, tokens, caplog):
    real, crafted = tokens
    assert requests.get(f"{server.url}/api/ping", headers=bearer(real), timeout=10).status_code == 200
    caplog.set_level(logging.WARNING)
    mcp = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for name, token in crafted.items():
        api = requests.get(f"{server.url}/api/ping", headers=bearer(token), timeout=10)
        assert api.status_code == 401 and api.json()["error"] == "invalid_token", (name, api.status_code, api.text)
        assert api.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"'), name
        answer = requests.post(f"{server.url}/mcp", json=mcp, headers={
            **bearer(token), "Accept": "application/json, text/event-stream"}, timeout=10)
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token", (name, answer.text)
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"], name
        userinfo = requests.get(f"{server.url}/oauth/userinfo", headers=bearer(token), timeout=10)
        assert userinfo.status_code == 401 and userinfo.json()["error"] == "invalid_token", (name, userinfo.text)
    # No handler raised: the gateway logs a function that failed, the guard's failures and unhandled errors.
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not failures, failures


def test_every_malformed_token_is_exactly_inactive_at_introspection_and_ignored_by_revocation(
        server, client, tokens, caplog):
    _, crafted = tokens
    caplog.set_level(logging.WARNING)
    for name, token in crafted.items():
        answer = requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                               data={"token": token}, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"active": False}, (name, answer.text)
        revoked = requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret),
                                data={"token": token}, timeout=10)
        assert revoked.status_code == 200, (name, revoked.text)  # RFC 7009 2.2: invalid tokens are not an error
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_malformed_bearer_header_is_refused_like_a_malformed_token(server, tokens):
    """RFC 6750 2.1: one scheme, one b64token. Two Authorization headers, a token with a space in it or one outside
    the b64token alphabet are not a token at all."""
    real, _ = tokens
    for header in (f"Bearer {real} {real}", f"Bearer {real},Bearer {real}", "Bearer \u00e9t\u00e9", "Bearer =x",
                   f"Bearer  {real}x y"):
        api = requests.get(f"{server.url}/api/ping", headers={"Authorization": header.encode("utf-8")}, timeout=10)
        assert api.status_code == 401, (header, api.status_code)
        userinfo = requests.get(f"{server.url}/oauth/userinfo", headers={"Authorization": header.encode("utf-8")},
                                timeout=10)
        assert userinfo.status_code == 401 and userinfo.json()["error"] == "invalid_token", header
