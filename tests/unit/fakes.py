"""In-memory stand-ins for the core's ports (passport.ports): plain dicts, no AWS, no I/O. The stores are the
bench's (bench/memory.py), which the token handler's issuance figure runs on."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote_plus, urlencode

from passport.core.http import Headers, Request
from passport.core.models import Client, PushedRequest

from bench.memory import MemoryAccessTokenStore as MemoryAccessTokenStore  # re-exported for the tests
from bench.memory import MemoryClientStore as BenchClientStore
from bench.memory import SpentOnce

FORM = "application/x-www-form-urlencoded"
#: passport.core.client_assertions.AssertionReplay in memory: (client_id, jti) spent, and until when.
SpentAssertions = SpentOnce


class MemoryClientStore(BenchClientStore):
    """bench.memory's ClientStore over a dict, recording every lookup so a test can see whether storage was asked."""

    def __init__(self, *clients: Client) -> None:
        super().__init__(*clients)
        self.lookups: list[str] = []

    def get(self, client_id: str) -> Client | None:
        self.lookups.append(client_id)
        return super().get(client_id)


class FixedClock:
    def __init__(self, now: int = 1_800_000_000) -> None:
        self.current = now

    def now(self) -> int:
        return self.current


class MemoryPushedRequests:
    """passport.ports.PushedRequests over a dict, keyed by the request_uri's hash as the DynamoDB adapter is."""

    def __init__(self) -> None:
        self.items: dict[str, PushedRequest] = {}

    def save(self, pushed: PushedRequest) -> None:
        assert pushed.uri_hash not in self.items, "a pushed request is never written over another"
        self.items[pushed.uri_hash] = pushed

    def take(self, uri_hash: str, client_id: str, now: int, decide_within: int) -> PushedRequest | None:
        pushed = self.items.get(uri_hash)
        if pushed is None or pushed.client_id != client_id or pushed.used or pushed.expires_at <= now:
            return None
        if not pushed.started_at:
            pushed = self.items[uri_hash] = replace(pushed, started_at=now, expires_at=now + decide_within)
        return pushed

    def spend(self, uri_hash: str, client_id: str, now: int) -> bool:
        pushed = self.items.get(uri_hash)
        if pushed is None or pushed.client_id != client_id or pushed.used or pushed.expires_at <= now:
            return False
        self.items[uri_hash] = replace(pushed, used=True)
        return True


def basic(client_id: str, secret: str) -> str:
    """An Authorization header value as RFC 6749 2.3.1 builds it: form-urlencode each part, then Basic."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode("ascii")


def form_request(
    form: Mapping[str, str] | list[tuple[str, str]] | bytes = b"",
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = FORM,
) -> Request:
    """A POST to the token endpoint as the core sees it."""
    body = form if isinstance(form, bytes) else urlencode(form).encode("utf-8")
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers.setdefault("Content-Type", content_type)
    return Request("POST", "/oauth/token", Headers(all_headers), body=body)


