"""Strict-Transport-Security (RFC 6797) on every answer a function gives through ``apigw.serve``: when the issuer
is https, and never on a plain-http issuer (a local one), where it would only pin localhost to https."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from passport import apigw
from passport.core.errors import StorageUnavailable
from passport.core.http import Request, Response, json_response

HSTS = "max-age=63072000; includeSubDomains"
EVENT = {"httpMethod": "GET", "path": "/x", "headers": {}, "requestContext": {}}


@pytest.fixture
def issuer(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[pytest.MonkeyPatch]:
    """Settings from the environment alone (an empty file), and the per-process cache forgotten around each test."""
    for name in [n for n in os.environ if n.startswith("PASSPORT_")]:
        monkeypatch.delenv(name)
    empty = tmp_path / "passport.toml"
    empty.write_text("")
    monkeypatch.setenv("PASSPORT_CONFIG", str(empty))
    apigw.strict_transport_security.cache_clear()
    yield monkeypatch
    apigw.strict_transport_security.cache_clear()


def ok(_: Request) -> Response:
    return json_response({"ok": True})


def fails(_: Request) -> Response:
    raise RuntimeError("boom")


def unavailable(_: Request) -> Response:
    raise StorageUnavailable("down")


@pytest.mark.parametrize("endpoint", [ok, fails, unavailable], ids=["answer", "crash", "storage"])
def test_an_https_issuer_sends_hsts_on_every_answer_errors_included(issuer, endpoint):
    issuer.setenv("PASSPORT_ISSUER", "https://auth.example.com")
    assert apigw.serve(EVENT, endpoint)["headers"]["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://auth.example.com"])
def test_a_plain_http_issuer_never_sends_hsts(issuer, url):
    issuer.setenv("PASSPORT_ISSUER", url)
    assert "Strict-Transport-Security" not in apigw.serve(EVENT, ok)["headers"]


def test_the_issuer_is_read_once_per_process_not_per_request(issuer):
    issuer.setenv("PASSPORT_ISSUER", "https://auth.example.com")
    apigw.serve(EVENT, ok)
    issuer.setenv("PASSPORT_ISSUER", "http://127.0.0.1:8000")  # not seen: the first answer's reading is kept
    assert apigw.serve(EVENT, ok)["headers"]["Strict-Transport-Security"] == HSTS


def test_the_endpoints_response_object_is_not_changed(issuer):
    """An endpoint may answer with the same Response on every call (a cached one): serve adds to a copy."""
    issuer.setenv("PASSPORT_ISSUER", "https://auth.example.com")
    cached = json_response({"ok": True})
    apigw.serve(EVENT, lambda _: cached)
    assert "Strict-Transport-Security" not in cached.headers


def test_unreadable_settings_still_answer_without_the_header(issuer, tmp_path):
    issuer.setenv("PASSPORT_CONFIG", str(tmp_path / "absent.toml"))
    result = apigw.serve(EVENT, ok)
    assert result["statusCode"] == 200
    assert "Strict-Transport-Security" not in result["headers"]
