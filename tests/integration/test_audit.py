"""The audit trail: a structured line per token issued, refreshed, revoked or refused, with no secret in it."""

from __future__ import annotations

import json
import logging

import requests


def audit_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "passport.audit"]


def test_issued_refused_and_revoked_tokens_each_leave_one_line_without_secrets(server, client, caplog):
    caplog.set_level(logging.INFO, logger="passport.audit")
    token = server.token(client.client_id, client.secret, scope="orders:read").json()["access_token"]
    server.token(client.client_id, "wrong secret")
    requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret), data={"token": token})
    lines = audit_lines(caplog)
    events = [line["audit"] for line in lines]
    assert events == ["token_issued", "token_refused", "token_revoked"]
    issued, refused, revoked = lines
    assert issued["client_id"] == client.client_id and issued["grant_type"] == "client_credentials"
    assert issued["scopes"] == "orders:read"
    assert refused["error"] == "invalid_client" and refused["grant_type"] == "client_credentials"
    assert revoked["jti"] and revoked["token_type"] == "access_token"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert client.secret not in text and token not in text and "wrong secret" not in text


def test_an_audit_line_drops_fields_it_does_not_know():
    from passport.core.audit import ALLOWED, audit

    assert "password" not in ALLOWED and "access_token" not in ALLOWED and "code" not in ALLOWED
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("passport.audit")
    logger.addHandler(handler)
    try:
        audit("token_issued", client_id="c", password="hunter2", access_token="eyJ...")
    finally:
        logger.removeHandler(handler)
    line = json.loads(records[0].getMessage())
    assert line["client_id"] == "c" and "password" not in line and "access_token" not in line
