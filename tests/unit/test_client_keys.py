"""Where a ``private_key_jwt`` client's keys come from (``passport.core.client_keys``; RFC 7591 2 ``jwks`` and
``jwks_uri``, OpenID Connect Core 1.0 section 10.1.1 on rotation): a registered set parsed once per process, a
``jwks_uri`` fetched through the fetcher port (a fake here: no I/O), kept for a bounded time, fetched again for an
unknown ``kid`` at most once a minute, a failure remembered, and never a fetch per request."""

from __future__ import annotations

import json

import pytest
from passport.core.client_assertions import InvalidClientAssertion, parse_client_jwks
from passport.core.client_documents import DocumentRefused, FetchedDocument
from passport.core.client_keys import (
    CACHE_SECONDS,
    FAILURE_SECONDS,
    MAX_JWKS_BYTES,
    REFETCH_SECONDS,
    UNAVAILABLE,
    RegisteredKeys,
    jwks_url,
    published_keys,
)
from passport.core.models import Client
from passport.keys.material import generate, public_jwk_members

URI = "https://client.example.com/jwks.json"


def jwk(key, kid: str, **members: str) -> dict[str, str]:
    return {**public_jwk_members(key.public_key()), "kid": kid, **members}


def body(*jwks: dict) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


class Fetcher:
    """The fetcher port: answers in turn (bytes, or a DocumentRefused to raise), each URL asked noted."""

    def __init__(self, *answers: bytes | DocumentRefused) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def fetch(self, url):
        self.asked.append(url.url)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, DocumentRefused):
            raise answer
        return FetchedDocument(answer, {"content-type": "application/json"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def keys():
    return {name: generate("ES256") for name in ("k1", "k2", "k3")}


def uri_client(uri: str = URI) -> Client:
    return Client("77777777-7777-4777-8777-777777777777", "fetches", jwks_uri=uri)


def kids(found) -> list[str | None]:
    return [key.kid for key in found.keys]


def test_a_registered_jwks_is_read_from_the_record_and_parsed_once(keys):
    registered = parse_client_jwks({"keys": [jwk(keys["k1"], "k1")]}).canonical_json
    client = Client("88888888-8888-4888-8888-888888888888", "registered", jwks=registered)
    source = RegisteredKeys(None)
    first = source.keys(client, "k1")
    assert kids(first) == ["k1"] and source.keys(client, None) is first


def test_a_stored_jwks_that_no_longer_parses_is_refused_without_saying_more():
    client = Client("88888888-8888-4888-8888-888888888888", "broken", jwks='{"keys": [{"kty": "oct", "k": "AA"}]}')
    with pytest.raises(InvalidClientAssertion, match="registered keys cannot be used"):
        RegisteredKeys(None).keys(client, None)


def test_a_jwks_uri_is_fetched_once_and_kept_for_its_time(keys):
    fetcher, clock = Fetcher(body(jwk(keys["k1"], "k1"))), Clock()
    source = RegisteredKeys(fetcher, clock=clock)
    for _ in range(5):
        assert kids(source.keys(uri_client(), "k1")) == ["k1"]
    assert fetcher.asked == [URI]
    clock.now += CACHE_SECONDS
    source.keys(uri_client(), "k1")
    assert fetcher.asked == [URI, URI]


def test_an_unknown_kid_fetches_the_set_again_once_then_not_for_a_while(keys):
    """Rotation (OpenID Connect Core 10.1.1): the client signs with a key it just published. An unknown kid fetches
    the set again at once, and any other unknown kid within REFETCH_SECONDS is refused without a fetch."""
    fetcher, clock = Fetcher(body(jwk(keys["k1"], "k1")), body(jwk(keys["k1"], "k1"), jwk(keys["k2"], "k2"))), Clock()
    source = RegisteredKeys(fetcher, clock=clock)
    source.keys(uri_client(), "k1")
    clock.now += 1
    assert kids(source.keys(uri_client(), "k2")) == ["k1", "k2"]
    assert len(fetcher.asked) == 2
    for attempt in range(10):
        clock.now += 1
        assert kids(source.keys(uri_client(), f"unknown-{attempt}")) == ["k1", "k2"]
    assert len(fetcher.asked) == 2
    clock.now += REFETCH_SECONDS
    source.keys(uri_client(), "unknown-again")
    assert len(fetcher.asked) == 3


def test_a_known_kid_or_none_never_fetches_again_before_its_time(keys):
    fetcher, clock = Fetcher(body(jwk(keys["k1"], "k1"))), Clock()
    source = RegisteredKeys(fetcher, clock=clock)
    for kid in ("k1", None, "k1", None):
        clock.now += 10
        source.keys(uri_client(), kid)
    assert len(fetcher.asked) == 1


def test_a_failed_fetch_is_refused_without_the_reason_and_remembered(keys, caplog):
    refused = DocumentRefused("client.example.com resolves to a private address (10.0.0.7)")
    fetcher, clock = Fetcher(refused, body(jwk(keys["k1"], "k1"))), Clock()
    source = RegisteredKeys(fetcher, clock=clock)
    with caplog.at_level("INFO", logger="passport.audit"):
        with pytest.raises(InvalidClientAssertion) as caught:
            source.keys(uri_client(), "k1")
    assert str(caught.value) == UNAVAILABLE and "10.0.0.7" not in str(caught.value)
    lines = [json.loads(record.getMessage()) for record in caplog.records]
    assert [(line["audit"], line["host"]) for line in lines] == [("client_keys_refused", "client.example.com")]
    assert "10.0.0.7" in lines[0]["reason"]  # the operator's audit trail says why
    clock.now += FAILURE_SECONDS - 1
    with pytest.raises(InvalidClientAssertion):
        source.keys(uri_client(), "k1")
    assert len(fetcher.asked) == 1
    clock.now += 1
    assert kids(source.keys(uri_client(), "k1")) == ["k1"]
    assert len(fetcher.asked) == 2


def test_a_failed_fetch_for_an_unknown_kid_keeps_the_set_it_had(keys):
    fetcher = Fetcher(body(jwk(keys["k1"], "k1")), DocumentRefused("client.example.com answered HTTP 503"))
    source = RegisteredKeys(fetcher, clock=Clock())
    source.keys(uri_client(), "k1")
    assert kids(source.keys(uri_client(), "k2")) == ["k1"]
    assert kids(source.keys(uri_client(), "k1")) == ["k1"] and len(fetcher.asked) == 2


def test_the_number_of_sets_kept_is_bounded(keys):
    fetcher = Fetcher(body(jwk(keys["k1"], "k1")))
    source = RegisteredKeys(fetcher, clock=Clock(), max_sets=2)
    uris = [f"https://client{i}.example.com/jwks.json" for i in range(3)]
    for uri in uris:
        source.keys(uri_client(uri), "k1")
    source.keys(uri_client(uris[2]), "k1")  # kept
    source.keys(uri_client(uris[0]), "k1")  # the least recently used went first: fetched again
    assert fetcher.asked == [*uris, uris[0]]


def test_a_jwks_uri_that_is_no_https_url_is_never_fetched():
    fetcher = Fetcher(b"{}")
    for uri in ("http://client.example.com/jwks.json", "https://user@client.example.com/jwks.json", "file:///etc/x"):
        with pytest.raises(InvalidClientAssertion):
            RegisteredKeys(fetcher, clock=Clock()).keys(uri_client(uri), None)
    assert fetcher.asked == []


def test_without_a_fetcher_a_jwks_uri_client_is_refused():
    with pytest.raises(InvalidClientAssertion, match="jwks_uri"):
        RegisteredKeys(None).keys(uri_client(), None)


def test_a_client_without_keys_has_none_to_give():
    with pytest.raises(InvalidClientAssertion, match="no keys"):
        RegisteredKeys(None).keys(Client("c", "no keys", secret_hash="sha256:00"), None)


def test_a_published_set_leaves_encryption_keys_out_and_holds_the_rest_to_the_registration_rules(keys):
    """OpenID Connect Core 10.2: a client may publish its encryption keys at the same jwks_uri."""
    assert kids(published_keys(body(jwk(keys["k1"], "enc", use="enc"), jwk(keys["k2"], "sig", use="sig")))) == ["sig"]
    private = {**jwk(keys["k1"], "k1"), "d": "AAAA"}
    for bad in (body(private), b"[]", b"{\"keys\": []}", b"not json", b" " * (MAX_JWKS_BYTES + 1)):
        with pytest.raises(DocumentRefused):
            published_keys(bad)


def test_the_url_fetched_is_the_registered_one_with_its_port_and_query():
    url = jwks_url("https://Client.Example.com:8443/keys?v=2")
    assert (url.host, url.port, url.target, url.authority) == ("client.example.com", 8443, "/keys?v=2",
                                                               "client.example.com:8443")
    assert jwks_url("https://client.example.com").target == "/"
