"""Fetching client ID metadata documents (passport.client_documents_fetch; draft-ietf-oauth-client-id-metadata-
document-03, Security Considerations: SSRF, maximum response size; Client Information Discovery: no redirects,
200 only), against a real HTTPS host on 127.0.0.1 (tests/document_host.py), and through the local gateway.

No test sends a byte to a private or special-use address: a refusal of one is proven before any connection
(the fetcher's connect is a trap that fails the test), and every name is resolved by the test itself."""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import pytest
import requests
from passport.client_documents_fetch import SafeFetcher, special_use
from passport.core.client_documents import MAX_DOCUMENT_BYTES, DocumentRefused, parse_client_id_url

from tests.document_host import Reply, document_host, resolver_to_loopback
from tests.integration.browser import Browser, pkce_pair, query_of
from tests.integration.conftest import PASSWORD

PATH = "/oauth/client.json"


def document_for(url: str, **changes: object) -> bytes:
    body = {"client_id": url, "client_name": "Agent", "redirect_uris": ["http://127.0.0.1:3000/callback"],
            "token_endpoint_auth_method": "none", **changes}
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


@pytest.fixture
def host(tmp_path: Path):
    with document_host(tmp_path) as running:
        yield running


def fetcher(host, **options) -> SafeFetcher:
    options.setdefault("allow_loopback", True)
    return SafeFetcher(tls=ssl.create_default_context(cafile=str(host.bundle)), **options)


def trap(*_args, **_kwargs):
    raise AssertionError("a connection was attempted")


def refused(fetch: SafeFetcher, url: str) -> str:
    with pytest.raises(DocumentRefused) as caught:
        fetch.fetch(parse_client_id_url(url))
    return str(caught.value)


# -- what is fetched -------------------------------------------------------------------------------------------------


def test_a_document_is_fetched_over_https_with_its_caching_headers(host):
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url), headers={"Cache-Control": "max-age=120"})
    fetched = fetcher(host).fetch(parse_client_id_url(url))
    assert json.loads(fetched.body)["client_id"] == url and fetched.headers["cache-control"] == "max-age=120"
    assert host.requests == [f"GET {PATH} HTTP/1.1"]


def test_a_name_is_resolved_once_and_the_connection_goes_to_the_address_checked(host):
    """DNS rebinding: the name is resolved once, its addresses checked, and the connection made to the checked
    address; TLS still verifies the certificate for the name."""
    url = host.url(PATH, "rebind.test")
    host.replies[PATH] = Reply(body=document_for(url))
    answers: list[str] = []

    def resolve(name, port, **kwargs):
        answers.append(name)
        return resolver_to_loopback("rebind.test")(name, port, **kwargs)

    connected: list[tuple[str, int]] = []

    def connect(address, timeout):
        import socket

        connected.append(address)
        return socket.create_connection(address, timeout=timeout)

    fetched = fetcher(host, resolve=resolve, connect=connect).fetch(parse_client_id_url(url))
    assert json.loads(fetched.body)["client_id"] == url
    assert answers == ["rebind.test"] and connected == [("127.0.0.1", host.port)]


def test_a_certificate_not_valid_for_the_name_is_refused(host):
    url = host.url(PATH, "other.test")
    host.replies[PATH] = Reply(body=document_for(url))
    assert "certificate" in refused(fetcher(host, resolve=resolver_to_loopback("other.test")), url)


def test_an_untrusted_certificate_is_refused(host):
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url))
    assert "certificate" in refused(SafeFetcher(allow_loopback=True), url)


# -- where it is never fetched from -----------------------------------------------------------------------------------


@pytest.mark.parametrize("address, why", [
    ("10.0.0.7", "private"), ("172.16.5.4", "private"), ("192.168.1.10", "private"),
    ("169.254.169.254", "link-local"),  # the instance metadata service
    ("100.64.0.1", "special-use"),  # shared address space (RFC 6598)
    ("127.0.0.1", "loopback"), ("127.8.8.8", "loopback"), ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"), ("255.255.255.255", "private"), ("198.18.0.1", "private"),
    ("192.0.2.1", "private"), ("240.0.0.1", "private"), ("192.0.0.8", "special-use"), ("192.88.99.1", "special-use"),
    ("::1", "loopback"), ("fe80::1", "link-local"), ("fd00:ec2::254", "private"), ("::", "unspecified"),
    ("ff02::1", "multicast"), ("::ffff:10.0.0.7", "private"), ("::ffff:127.0.0.1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("2002:a00:7::", "private"), ("2001:db8::1", "private"),
    ("2001::1", "private"), ("fc00::1", "private"), ("100::1", "private"),
])
def test_a_name_that_resolves_to_a_special_use_address_is_refused_before_connecting(address, why):
    """RFC 6890's special-purpose addresses, an IPv4 address inside an IPv6 one judged as itself."""
    def resolve(name, port, **kwargs):
        return [(0, 0, 0, "", (address, port))]

    fetch = SafeFetcher(resolve=resolve, connect=trap)
    message = refused(fetch, "https://agent.example.com/client.json")
    assert f"a {why} address" in message and "public addresses only" in message
    import ipaddress
    assert special_use(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("url", [
    "https://10.0.0.7/client.json", "https://169.254.169.254/latest/meta-data/", "https://[::1]/client.json",
    "https://[::ffff:169.254.169.254]/client.json", "https://127.0.0.1:8443/client.json",
])
def test_an_address_in_the_url_is_judged_the_same_way(url):
    assert "public addresses only" in refused(SafeFetcher(resolve=trap, connect=trap), url)


def test_one_special_use_address_among_public_ones_refuses_them_all():
    def resolve(name, port, **kwargs):
        return [(0, 0, 0, "", ("93.184.215.14", port)), (0, 0, 0, "", ("10.0.0.7", port))]

    assert "private" in refused(SafeFetcher(resolve=resolve, connect=trap), "https://agent.example.com/c.json")


def test_loopback_is_allowed_only_with_the_development_setting(host):
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url))
    assert "loopback" in refused(fetcher(host, allow_loopback=False), url)
    assert host.connections == 0
    fetcher(host).fetch(parse_client_id_url(url))
    assert host.connections == 1


def test_the_development_setting_allows_loopback_and_nothing_else():
    def resolve(name, port, **kwargs):
        return [(0, 0, 0, "", ("127.0.0.1", port)), (0, 0, 0, "", ("192.168.1.10", port))]

    assert "private" in refused(SafeFetcher(allow_loopback=True, resolve=resolve, connect=trap),
                                "https://agent.example.com/c.json")
    assert "private" in refused(SafeFetcher(allow_loopback=True, resolve=trap, connect=trap),
                                "https://10.1.2.3/c.json")


def test_a_name_that_does_not_resolve_is_refused():
    assert "could not be resolved" in refused(SafeFetcher(resolve=resolver_to_loopback()),
                                              "https://nowhere.test/client.json")


# -- what it answers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reply, words", [
    (Reply(302, headers={"Location": "https://elsewhere.example/c.json"}), "redirect (HTTP 302)"),
    (Reply(301, headers={"Location": "/other.json"}), "redirect (HTTP 301)"),
    (Reply(307), "redirect (HTTP 307)"),
    (Reply(404), "HTTP 404, not 200"),
    (Reply(500), "HTTP 500, not 200"),
    (Reply(204), "HTTP 204, not 200"),
    (Reply(body=b"x" * (MAX_DOCUMENT_BYTES + 1)), "larger than"),
    (Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{}"), "larger than"),
    (Reply(raw=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1000\r\n" + b"x" * 4096 + b"\r\n"
           + b"1000\r\n" + b"x" * 4096 + b"\r\n0\r\n\r\n"), "larger than"),
    (Reply(raw=b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * (MAX_DOCUMENT_BYTES + 10)), "larger than"),
    (Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"client_id\""), "ended before"),
    (Reply(raw=b"SSH-2.0-OpenSSH_9.2\r\n"), "could not be fetched"),
    (Reply(raw=b""), "could not be fetched"),
])
def test_anything_but_a_whole_200_of_bounded_size_is_refused_with_a_clear_reason(host, reply, words):
    host.replies[PATH] = reply
    assert words in refused(fetcher(host), host.url(PATH))


def test_a_host_that_answers_slowly_is_given_up_on_at_the_deadline(host):
    """A byte every 50 ms keeps every read under any read timeout; the deadline cuts the whole fetch."""
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url) * 3, drip=0.05)
    started = time.monotonic()
    message = refused(fetcher(host, deadline_seconds=1.0), url)
    assert "did not answer within 1 s" in message
    assert time.monotonic() - started < 2.5


# -- through the local gateway ----------------------------------------------------------------------------------------


@pytest.mark.passport_config("[client_documents]\nallow_loopback = true\n")
def test_an_authorization_request_from_a_document_client_is_consented_and_redeemed_and_its_token_works(
    server, user, host, monkeypatch
):
    """The whole code flow of a client whose client_id is its document's URL: the consent page names the
    document's host and warns of a localhost-only client; the code is redeemed with PKCE and no secret; the
    document was fetched once (then kept in the clients table for every function)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(host.bundle))
    url = host.url(PATH)
    redirect = "http://127.0.0.1:3000/callback"
    host.replies[PATH] = Reply(body=document_for(url, client_name="Agent", scope=None),
                               headers={"Cache-Control": "max-age=300"})
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    verifier, challenge = pkce_pair()
    page = browser.authorize(response_type="code", client_id=url, redirect_uri=redirect, scope="orders:read",
                             state="s1", code_challenge=challenge, code_challenge_method="S256")
    assert page.status_code == 200, page.text
    assert "describes itself in a document at <strong class=\"document-host\">127.0.0.1</strong>" in page.text
    assert "only-loopback" in page.text
    approve, _ = browser.consent_forms(page)
    answer = browser.submit(approve)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(redirect)
    code = query_of(answer.headers["Location"])["code"]
    tokens = requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": url,
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert requests.get(f"{server.url}/api/orders", timeout=10,
                        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}).status_code == 200
    assert host.connections == 1


@pytest.mark.passport_config("[client_documents]\nallow_loopback = true\n")
def test_a_document_that_cannot_be_used_gets_an_error_page_naming_the_reason_and_no_redirect(server, user, host,
                                                                                            monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(host.bundle))
    url = host.url(PATH)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    for reply, reason in ((Reply(body=document_for(host.url("/other.json"))), "client_id is not the URL"),
                          (Reply(body=document_for(url, token_endpoint_auth_method="client_secret_post")),
                           "client_secret_post"),
                          (Reply(302, headers={"Location": "https://127.0.0.1/x"}), "redirect"),
                          (Reply(body=b"x" * 6000), "larger than")):
        host.replies[PATH] = reply
        page = browser.authorize(response_type="code", client_id=url, redirect_uri="http://127.0.0.1:3000/callback",
                                 state="s1", code_challenge=pkce_pair()[1], code_challenge_method="S256")
        assert page.status_code == 400 and "Location" not in page.headers, (reason, page.status_code)
        assert reason in page.text, (reason, page.text[-600:])


def test_without_the_development_setting_a_loopback_document_is_refused_before_any_connection(server, user, host):
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url))
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    page = browser.authorize(response_type="code", client_id=url, redirect_uri="http://127.0.0.1:3000/callback",
                             state="s1", code_challenge=pkce_pair()[1], code_challenge_method="S256")
    assert page.status_code == 400 and "public addresses only" in page.text
    assert host.connections == 0


def test_discovery_advertises_client_id_metadata_documents_and_keeps_registration(server):
    metadata = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["registration_endpoint"] == f"{server.url}/oauth/register"


@pytest.mark.passport_config("[client_documents]\nallow_loopback = true\nfetches_per_hour = 2\n")
def test_an_address_that_had_its_share_of_fetches_gets_an_error_page_and_nothing_is_fetched(server, user, host,
                                                                                            monkeypatch):
    """client_documents.fetches_per_hour, counted per source address in the tokens table (storage/throttles.py):
    a document that asks not to be kept is fetched on every request, until the address has had its share."""
    monkeypatch.setenv("SSL_CERT_FILE", str(host.bundle))
    url = host.url(PATH)
    host.replies[PATH] = Reply(body=document_for(url), headers={"Cache-Control": "no-store"})
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    answers = [browser.authorize(response_type="code", client_id=url, redirect_uri="http://127.0.0.1:3000/callback",
                                 state="s1", code_challenge=pkce_pair()[1], code_challenge_method="S256")
               for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 400]
    assert "too many metadata documents" in answers[2].text and host.connections == 2
