"""Client ID Metadata Documents without I/O (passport.core.client_documents; draft-ietf-oauth-client-id-metadata-
document-03): the client ID URL's rules, the document's, how long a document is kept, and the client store in
front of the fetch (kept while fresh, fetched again after, a failure never kept, a revoked client never revived)."""

from __future__ import annotations

import dataclasses
import json
from email.utils import formatdate

import pytest
from passport.core.client_auth import ClientCredentials, authenticate_client
from passport.core.client_documents import (
    DEFAULT_CACHE_SECONDS,
    MAX_CACHE_SECONDS,
    MAX_DOCUMENT_BYTES,
    MIN_CACHE_SECONDS,
    DocumentClients,
    DocumentRefused,
    DocumentUrl,
    FetchedDocument,
    cache_seconds,
    client_from_document,
    is_document_client_id,
    only_loopback,
    page_client,
    parse_client_id_url,
)
from passport.core.errors import OAuthError, PageError
from passport.core.models import Client

from tests.unit.fakes import MemoryClientStore

URL = "https://agent.example.com/oauth/client.json"
SCOPES = {"orders:read": "Read your orders"}
NOW = 1_800_000_000
DOCUMENT = {
    "client_id": URL, "client_name": "Agent", "redirect_uris": ["http://127.0.0.1:3000/callback"],
    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    "token_endpoint_auth_method": "none", "client_uri": "https://agent.example.com",
}


def document(**changes: object) -> bytes:
    return json.dumps({k: v for k, v in {**DOCUMENT, **changes}.items() if v is not None}).encode()


def client_of(body: bytes, url: str = URL) -> Client:
    return client_from_document(url, body, defined_scopes=SCOPES, now=NOW, cache_seconds=600)


def refusal(body: bytes, url: str = URL) -> str:
    with pytest.raises(DocumentRefused) as refused:
        client_of(body, url)
    return str(refused.value)


# -- the client ID URL ---------------------------------------------------------------------------------------------


def test_an_https_url_names_a_document_and_a_uuid_does_not():
    assert is_document_client_id(URL) and is_document_client_id("HTTPS://agent.example.com/c")
    assert not is_document_client_id("0b7f8f1e-6b1a-4d8e-9a43-1f3c2d4e5f60")
    assert not is_document_client_id("http://agent.example.com/client.json") and not is_document_client_id(None)


def test_a_client_id_url_is_taken_apart_as_it_is_written():
    parsed = parse_client_id_url("https://Agent.Example.com:8443/a/client.json?v=2")
    assert (parsed.host, parsed.port, parsed.target) == ("agent.example.com", 8443, "/a/client.json?v=2")
    assert parsed.authority == "agent.example.com:8443"
    assert parse_client_id_url("https://[2001:db8::1]/c.json").authority == "[2001:db8::1]"
    assert parse_client_id_url(URL).authority == "agent.example.com"


@pytest.mark.parametrize("url, reason", [
    ("http://agent.example.com/client.json", "https"),
    ("https://agent.example.com", "path"),
    ("https://agent.example.com/", "path"),
    ("https://agent.example.com/client.json#x", "fragment"),
    ("https://user:pw@agent.example.com/client.json", "user info"),
    ("https://agent.example.com/a/../client.json", "dot"),
    ("https://agent.example.com/./client.json", "dot"),
    ("https://agent.example.com/cli ent.json", "ASCII"),
    ("https://agent.example.com/caf\u00e9.json", "ASCII"),
    ("https://agent.example.com/" + "a" * 600, "longer"),
    ("https://agent.example.com:99999/client.json", "valid URL"),
    ("https:///client.json", "host"),
])
def test_a_client_id_url_that_breaks_the_drafts_rules_is_refused(url, reason):
    """draft-ietf-oauth-client-id-metadata-document-03, Client Identifier URL."""
    with pytest.raises(DocumentRefused, match=reason):
        parse_client_id_url(url)


# -- the document --------------------------------------------------------------------------------------------------


def test_a_document_describes_a_public_code_flow_client_nobody_vetted():
    client = client_of(document())
    assert client.client_id == URL and client.name == "Agent" and client.public
    assert client.redirect_uris == ("http://127.0.0.1:3000/callback",)
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.from_document and client.document_expires_at == NOW + 600
    assert not client.vetted and not client.registered and client.token_endpoint_auth_method == "none"


def test_a_native_apps_document_may_name_a_private_use_scheme():
    """RFC 8252 7.1 and OpenID Connect Dynamic Client Registration 1.0 section 2, as for registration."""
    client = client_of(document(application_type="native",
                                redirect_uris=["cursor://anysphere.cursor-retrieval/oauth/callback"]))
    assert client.application_type == "native"
    assert "application_type native" in refusal(document(redirect_uris=["cursor://anysphere.cursor-retrieval/cb"]))


@pytest.mark.parametrize("changes, reason", [
    ({"client_id": "https://agent.example.com/oauth/other.json"}, "client_id is not the URL"),
    ({"client_id": URL.upper()}, "client_id is not the URL"),
    ({"client_id": URL + "/"}, "client_id is not the URL"),
    ({"client_id": None}, "no client_id"),
    ({"client_secret": "s3cret"}, "client_secret"),
    ({"client_secret_expires_at": 0}, "client_secret_expires_at"),
    ({"token_endpoint_auth_method": "client_secret_basic"}, "client_secret_basic"),
    ({"token_endpoint_auth_method": "client_secret_post"}, "client_secret_post"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt"),
    ({"grant_types": ["client_credentials"]}, "grant_types"),
    ({"grant_types": ["implicit"]}, "grant_types"),
    ({"grant_types": "authorization_code"}, "grant_types"),
    ({"redirect_uris": None}, "redirect_uris"),
    ({"redirect_uris": []}, "redirect_uris"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "redirect URI"),
    ({"redirect_uris": ["https://agent.example.com/cb#frag"]}, "fragment"),
    ({"redirect_uris": ["http://agent.example.com/cb"]}, "loopback"),
    ({"client_name": 7}, "client_name"),
    ({"client_name": "Goo\u202egle"}, "U+202E"),
    ({"logo_uri": "javascript:alert(1)"}, "logo_uri"),
    ({"scope": "photos"}, "photos"),
])
def test_a_document_that_breaks_the_rules_is_refused_with_the_reason(changes, reason):
    """The draft's Client ID Metadata Document (client_id the URL, simple string comparison, no shared secret)
    and the rules of every client (RFC 7591 2, RFC 6749 3.1.2, RFC 8252)."""
    assert reason in refusal(document(**changes))


@pytest.mark.parametrize("body, reason", [
    (b"", "not valid JSON"), (b"{", "not valid JSON"), (b"[]", "JSON object"), (b'"x"', "JSON object"),
    (b"\xff\xfe", "not valid JSON"), (b" " * (MAX_DOCUMENT_BYTES + 1), "larger than"),
    (b'{"client_id": "' + URL.encode() + b'", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "larger than"),
])
def test_a_body_that_is_no_document_is_refused(body, reason):
    assert reason in refusal(body)


def test_a_document_without_a_name_is_named_by_its_host():
    assert client_of(document(client_name=None)).name == "agent.example.com"
    assert client_of(document(client_name="  ")).name == "agent.example.com"


# -- how long a document is kept -----------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, seconds", [
    ({}, DEFAULT_CACHE_SECONDS),
    ({"cache-control": "max-age=3600"}, 3600),
    ({"cache-control": "public, max-age=120"}, 120),
    ({"cache-control": 'max-age="300"'}, 300),
    ({"cache-control": "max-age=5"}, MIN_CACHE_SECONDS),
    ({"cache-control": "max-age=99999999"}, MAX_CACHE_SECONDS),
    ({"cache-control": "max-age=-1"}, MIN_CACHE_SECONDS),
    ({"cache-control": "max-age=abc"}, MIN_CACHE_SECONDS),
    ({"cache-control": "no-store"}, 0),
    ({"cache-control": "max-age=600, no-cache"}, 0),
    ({"expires": "Thu, 15 Jan 2037 08:00:00 GMT"}, MAX_CACHE_SECONDS),
    ({"expires": formatdate(NOW + 120, usegmt=True)}, 120),
    ({"expires": "not a date"}, MIN_CACHE_SECONDS),
    ({"expires": "0"}, MIN_CACHE_SECONDS),
    ({"cache-control": "max-age=900", "expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, 900),
])
def test_a_document_is_kept_as_its_caching_headers_say_within_bounds(headers, seconds):
    """RFC 9111 5.2.2 and 5.3 (max-age wins over Expires; an invalid value is stale at once), bounded."""
    assert cache_seconds(headers, now=NOW) == seconds


# -- the client store in front of the fetch -----------------------------------------------------------------------


class Fetcher:
    """Answers each fetch with the next of ``answers`` (a body, or a DocumentRefused to raise); records URLs."""

    def __init__(self, *answers: bytes | DocumentRefused, headers: dict[str, str] | None = None) -> None:
        self.answers = list(answers)
        self.headers = headers or {"cache-control": "max-age=300"}
        self.fetched: list[str] = []

    def fetch(self, url: DocumentUrl) -> FetchedDocument:
        self.fetched.append(url.url)
        answer = self.answers.pop(0)
        if isinstance(answer, DocumentRefused):
            raise answer
        return FetchedDocument(answer, self.headers)


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def clients(fetcher: Fetcher, store: MemoryClientStore | None = None, **options: object):
    clock = Clock()
    return DocumentClients(store or MemoryClientStore(), fetcher, defined_scopes=SCOPES, clock=clock,
                           **options), clock


def test_a_document_is_fetched_once_and_kept_while_fresh_then_fetched_again():
    fetcher = Fetcher(document(), document(client_name="Agent 2"))
    store, clock = clients(fetcher)
    assert store.get(URL).name == "Agent" and store.get(URL).name == "Agent"
    assert fetcher.fetched == [URL]
    clock.now += 301
    assert store.get(URL).name == "Agent 2" and fetcher.fetched == [URL, URL]


def test_a_failure_is_never_kept():
    fetcher = Fetcher(DocumentRefused("agent.example.com answered HTTP 503, not 200"), document())
    store, _ = clients(fetcher)
    with pytest.raises(DocumentRefused, match="503"):
        store.get(URL)
    assert store.get(URL).name == "Agent" and len(fetcher.fetched) == 2


def test_a_document_that_stopped_being_valid_ends_its_client_at_the_next_fetch():
    fetcher = Fetcher(document(), document(client_id="https://elsewhere.example/c.json"))
    store, clock = clients(fetcher)
    assert store.get(URL) is not None
    clock.now += 301
    with pytest.raises(DocumentRefused, match="client_id"):
        store.get(URL)


def test_a_client_the_operator_revoked_stays_revoked_and_is_not_fetched_again():
    memory = MemoryClientStore()
    fetcher = Fetcher(document(), document())
    store, clock = clients(fetcher, memory)
    store.get(URL)
    memory.revoke(URL)
    clock.now += 10 * MAX_CACHE_SECONDS
    assert store.get(URL).revoked and fetcher.fetched == [URL]


def test_another_clients_id_is_never_fetched_and_a_uuid_never_reaches_the_fetcher():
    other = Client(client_id="0b7f8f1e-6b1a-4d8e-9a43-1f3c2d4e5f60", name="CLI app")
    fetcher = Fetcher()
    store, _ = clients(fetcher, MemoryClientStore(other))
    assert store.get(other.client_id) == other and store.get("unknown") is None and not fetcher.fetched


def test_only_the_allowed_hosts_documents_are_fetched():
    fetcher = Fetcher(document())
    store, _ = clients(fetcher, allowed_hosts=("tools.example.org",))
    with pytest.raises(DocumentRefused, match=r"only from tools\.example\.org"):
        store.get(URL)
    assert not fetcher.fetched


def test_an_authorization_page_says_why_a_document_cannot_be_used():
    store, _ = clients(Fetcher(document(client_secret="x")))
    with pytest.raises(PageError) as page:
        page_client(store, URL)
    assert "cannot be used" in page.value.message and "client_secret" in page.value.message
    assert page_client(store, "https://agent.example.com/" + "a" * 600) is None


def test_the_token_endpoint_answers_invalid_client_saying_why():
    store, _ = clients(Fetcher(DocumentRefused("agent.example.com answered with a redirect (HTTP 302)")))
    with pytest.raises(OAuthError) as refused:
        authenticate_client(ClientCredentials(URL, None, "none"), store)
    assert refused.value.error == "invalid_client" and "redirect" in refused.value.description


def test_a_document_client_authenticates_as_a_public_client_only():
    store, _ = clients(Fetcher(document()))
    assert authenticate_client(ClientCredentials(URL, None, "none"), store).client_id == URL
    with pytest.raises(OAuthError, match="no secret"):
        authenticate_client(ClientCredentials(URL, "guess", "client_secret_post"), store)


@pytest.mark.parametrize("uris, expected", [
    (("http://127.0.0.1:3000/cb",), True), (("http://localhost/cb", "http://[::1]:9/cb"), True),
    (("http://127.0.0.1:3000/cb", "https://agent.example.com/cb"), False),
    (("cursor://anysphere.cursor-retrieval/oauth/callback",), False), ((), False),
])
def test_only_loopback_redirect_uris_are_told_apart(uris, expected):
    assert only_loopback(uris) is expected


def test_the_kept_client_is_what_the_store_answers():
    memory = MemoryClientStore()
    store, _ = clients(Fetcher(document()), memory)
    assert store.get(URL) == dataclasses.replace(memory.get(URL))


def test_every_fetch_leaves_an_audit_line_with_its_outcome(caplog):
    store, clock = clients(Fetcher(document(), DocumentRefused("agent.example.com answered HTTP 404, not 200")))
    with caplog.at_level("INFO", logger="passport.audit"):
        store.get(URL)
        clock.now += 301
        with pytest.raises(DocumentRefused):
            store.get(URL)
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "passport.audit"]
    assert [(line["audit"], line["client_id"], line["host"]) for line in lines] == [
        ("client_document_fetched", URL, "agent.example.com"), ("client_document_refused", URL, "agent.example.com")]
    assert lines[0]["expires_at"] == NOW + 300 and "HTTP 404" in lines[1]["reason"]


def test_each_source_address_may_have_only_so_many_documents_fetched():
    """A client ID is any URL a caller picks: the fetches are counted per source address (the adapter's
    SOURCE_ADDRESS), a kept document costs nothing, and past the limit the refusal says so without fetching."""
    from passport.core.http import SOURCE_ADDRESS

    taken: list[str] = []

    def limit(key: str) -> bool:
        taken.append(key)
        return taken.count(key) <= 1

    fetcher = Fetcher(document(), document())
    store, clock = clients(fetcher, rate_limit=limit)
    address = SOURCE_ADDRESS.set("203.0.113.7")
    try:
        assert store.get(URL) is not None and store.get(URL) is not None  # the second is the kept copy
        clock.now += 301
        with pytest.raises(DocumentRefused, match="too many metadata documents"):
            store.get(URL)
    finally:
        SOURCE_ADDRESS.reset(address)
    assert taken == ["client-document:203.0.113.7"] * 2 and fetcher.fetched == [URL]
    other = SOURCE_ADDRESS.set("198.51.100.9")
    try:
        assert store.get(URL).name == "Agent"  # another address has its own share
    finally:
        SOURCE_ADDRESS.reset(other)


def test_a_client_id_url_is_bounded_as_every_clients_uris_are():
    from passport.core import client_documents, clients

    assert client_documents.MAX_URI == clients.MAX_URI
