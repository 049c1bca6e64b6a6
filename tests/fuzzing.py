"""Shared pieces of the fuzz tests (tests/integration/test_fuzz.py and test_schemathesis.py): hostile-input
strategies, a raw HTTP sender, and the checks that every answer is in its endpoint's style (docs/http.md,
"Everywhere": malformed input gets a clear error in the endpoint's style, never a 500 or a stack trace).

The strategies build *structured* hostility: forms made of the endpoint's real field names with random,
duplicated, missing, huge or non-UTF-8 values, sent with the right or a wrong content type, so examples get
past the first check and reach the grant, the client lookup and storage, not only the form parser.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import requests
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

FORM = "application/x-www-form-urlencoded"

#: Deterministic, no example database, no deadline (requests go over loopback to the gateway and moto). No
#: shrinking: each step is a real request, so shrinking can take minutes; the failure message shows the request.
FUZZ = settings(
    derandomize=True, database=None, deadline=None, print_blob=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)

#: Every answer's status and error, counted: ``FUZZ_STATS=1`` prints them after each test (how deep it got).
OUTCOMES: Counter[str] = Counter()
STATS = bool(os.environ.get("FUZZ_STATS"))

#: ``FUZZ_SCALE=20`` fuzzes twenty times longer (a local hunt); CI runs the budgeted counts.
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    """:data:`FUZZ` with a per-test example budget (sized so each file stays within its CI time)."""
    return settings(FUZZ, max_examples=max(1, int(max_examples * SCALE)))


#: The errors OAuth endpoints may answer with: RFC 6749 5.2 (token), 7009 2.2.1 (revoke), 7662 2.3
#: (introspect: 6749's), 8628 3.5 (device polling) and 3.1 (device authorization: 6749's). No 5xx is
#: expected here, so neither ``server_error`` nor ``temporarily_unavailable`` is in the set.
OAUTH_ERRORS = frozenset({
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
    "invalid_scope", "unsupported_token_type",
    "authorization_pending", "slow_down", "access_denied", "expired_token",
})

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token", "password", DEVICE_GRANT, "implicit")

# -- values ----------------------------------------------------------------------------------------------------

#: Strings that have broken parsers before: empty, separators, escapes, injections, JSON, CR/LF, NUL, RTL.
NASTY = (
    "", " ", "%", "%%", "%FF", "%C3%28", "+", "&", "=", "==", ";", ",", ".", "..", "../../etc/passwd", "/", "//",
    "\\", "\x00", "\r\n", "\r\nSet-Cookie: x=1", "null", "true", "0", "-1", "1e999", "[]", "{}", '{"a":1}',
    "<script>alert(1)</script>", "' OR '1'='1", "${jndi:x}", "{{7*7}}", "\u202e", "\ufeff", "😀", "a.b.c",
    "eyJhbGciOiJub25lIn0.e30.", "Bearer", "Basic", "S256", "plain", "none", "login", "consent", "*",
)

#: Sizes around the limits: DynamoDB's key (2 KB), the client id (128), the form (64 KB), a 100 KB value.
HUGE_SIZES = (129, 2049, 5000, 40_000, 100_000)


def huge_text() -> st.SearchStrategy[str]:
    return st.builds(lambda c, n: c * n, st.sampled_from(("A", "é", "%", ".", "😀")), st.sampled_from(HUGE_SIZES))


def hostile_text(*, huge: bool = True) -> st.SearchStrategy[str]:
    """Random and nasty strings; with ``huge``, sometimes a value of 100 KB."""
    parts = [
        st.sampled_from(NASTY),
        st.text(st.characters(codec="utf-8"), max_size=24),
        st.text(st.characters(codec="ascii"), max_size=12),
        st.sampled_from(NASTY),
    ]
    if huge:
        parts.append(huge_text())
    return st.one_of(parts)


def plausible(*pool: str) -> st.SearchStrategy[str]:
    """A field's plausible values (real ids, real tokens, near misses); :func:`form_pairs` makes some hostile."""
    return st.sampled_from(pool)


def values(*pool: str, huge: bool = True) -> st.SearchStrategy[str]:
    """Two times in three a plausible value (from ``pool``), else hostile text: plausible values reach deeper."""
    hostile = hostile_text(huge=huge)
    return st.one_of(st.sampled_from(pool), st.sampled_from(pool), hostile) if pool else hostile


Pairs = list[tuple[str, str]]


@st.composite
def form_pairs(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[str]], *, required: tuple[str, ...] = ()
               ) -> Pairs:
    """A form made of the endpoint's field names: the ``required`` ones nearly always present, the others half
    the time; up to two fields get a hostile value (random, nasty, huge), the others a plausible one; now and
    then a field is repeated (RFC 6749 3.1 and 3.2: parameters MUST NOT be repeated) or unknown names are
    added. Most examples are nearly valid forms, so they get past the first check and reach deeper code."""
    present = [name for name in sorted(fields)
               if draw(st.sampled_from((True,) * 9 + (False,) if name in required else (True, False)))]
    hostile = draw(st.sets(st.sampled_from(sorted(fields)), max_size=2))
    pairs = [(name, draw(hostile_text() if name in hostile else fields[name])) for name in present]
    mutation = draw(st.sampled_from(("none",) * 6 + ("repeat", "repeat", "unknown")))
    if mutation == "repeat" and present:
        name = draw(st.sampled_from(present))
        pairs.append((name, draw(fields[name])))
    elif mutation == "unknown":
        pairs += draw(st.lists(st.tuples(hostile_text(huge=False), hostile_text(huge=False)), min_size=1, max_size=3))
    return draw(st.permutations(pairs))


def query_string(pairs: Pairs, *, limit: int = 8000) -> str:
    """The pairs as a query string, kept under API Gateway's URL limit (10 KB: a longer URL never reaches a
    function there, and the local server refuses request lines over 64 KB with a bare 414)."""
    pairs = [(name[:2000], value[:2000]) for name, value in pairs]
    encoded = urlencode(pairs)
    while len(encoded) > limit:
        pairs = pairs[:-1] if len(pairs) > 1 else [(pairs[0][0][:200], pairs[0][1][:200])]
        encoded = urlencode(pairs)
    return encoded


#: Raw query endings no encoder makes: percent-escapes that are not UTF-8, NUL, empty names, bad escapes.
QUERY_TAILS = st.sampled_from(("",) * 5 + ("&%FF=%FE", "&state=%C3%28", "&%00=%00", "&&=&", "&client_id=%ZZ",
                                         "&user_code=%F0%9F%98", "&next=%2F%2Fevil.example"))


#: Content types an endpoint can be sent besides the right one.
WRONG_TYPES = (
    None, "text/plain", "application/json", "multipart/form-data; boundary=x", "application/xml", "*/*",
    "application/x-www-form-urlencoded-but-not", "text/html; charset=utf-8", "garbage", "",
)


@dataclass
class Body:
    """A request body and the Content-Type it is sent with (None: no Content-Type header at all)."""

    data: bytes
    content_type: str | None
    label: str = ""


def _corrupt(data: bytes, how: int) -> bytes:
    """Make a form body not UTF-8: raw bytes, a percent-encoded invalid sequence, or a lone surrogate."""
    return [data + b"&x=\xff\xfe", b"\xc3\x28" + data, data + b"&\x80=%C3%28", data.replace(b"=", b"=%ED%A0%80", 1),
            data + b"%FF"][how % 5]


@st.composite
def bodies(draw: st.DrawFn, pairs: st.SearchStrategy[Pairs]) -> Body:
    """A form, mostly well-sent, else with a wrong content type, as JSON instead of a form, or not UTF-8."""
    drawn = draw(pairs)
    encoded = urlencode(drawn).encode("utf-8")
    kind = draw(st.sampled_from(("form",) * 6 + ("charset", "wrong_type", "json", "not_utf8", "noise")))
    if kind == "form":
        return Body(encoded, FORM, kind)
    if kind == "charset":
        return Body(encoded, draw(st.sampled_from((f"{FORM}; charset=utf-8", f"{FORM.upper()};charset=latin-1",
                                                   f"{FORM}; boundary"))), kind)
    if kind == "wrong_type":
        return Body(encoded, draw(st.sampled_from(WRONG_TYPES)), kind)
    if kind == "json":
        document: object = dict(drawn) if draw(st.booleans()) else drawn
        return Body(json.dumps(document).encode(), draw(st.sampled_from(("application/json", FORM))), kind)
    if kind == "not_utf8":
        return Body(_corrupt(encoded, draw(st.integers(0, 4))), FORM, kind)
    return Body(draw(st.binary(max_size=64)), draw(st.sampled_from((FORM, None, "application/json"))), kind)


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: each part form-urlencoded, then Basic."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


#: Broken Basic credentials: not base64, no colon, not UTF-8 inside, an empty id, huge, another scheme.
BROKEN_AUTHORIZATIONS = (
    "Basic !!!not base64!!!", "Basic ", "Basic", "basic " + _b64(b"no-colon-here"), "Basic " + _b64(b":secret"),
    "Basic " + _b64(b"\xff\xfe:\xc3\x28"), "Basic " + _b64(b"id:") + "=", "BASIC " + _b64(b"%ZZ:%"),
    "Basic " + _b64(b"x" * 200 + b":y"), "Bearer abc", "Digest x", "Basic " + "A" * 3000, "Basic " + _b64(b"\x00:\x00"),
)


@st.composite
def client_authentications(draw: st.DrawFn, confidential: list[tuple[str, str]], public: list[str]
                           ) -> tuple[str | None, Pairs]:
    """How a client authenticates (RFC 6749 2.3.1): an Authorization header (or None) and body fields. Real
    credentials by Basic or in the body, a public client's id alone, both methods at once, a wrong secret,
    broken Basic credentials, random latin-1 noise, or nothing."""
    client_id, secret = draw(st.sampled_from(confidential))
    mode = draw(st.sampled_from(("basic", "post", "public", "basic", "both", "wrong", "broken", "noise", "none")))
    if mode == "basic":
        return basic(client_id, secret), []
    if mode == "post":
        return None, [("client_id", client_id), ("client_secret", secret)]
    if mode == "public":
        return None, [("client_id", draw(st.sampled_from(public)))]
    if mode == "both":
        return basic(client_id, secret), [("client_id", draw(st.sampled_from((client_id, *public)))),
                                          ("client_secret", secret)][:draw(st.integers(1, 2))]
    if mode == "wrong":
        wrong = draw(hostile_text(huge=False))
        return (basic(client_id, wrong), []) if draw(st.booleans()) else (None, [("client_id", client_id),
                                                                                  ("client_secret", wrong)])
    if mode == "broken":
        return draw(st.sampled_from(BROKEN_AUTHORIZATIONS)), []
    if mode == "noise":
        return draw(st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=40)), []
    return None, []


# -- sending ----------------------------------------------------------------------------------------------------


@dataclass
class Sent:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


_FIELD_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_value(value: str) -> str:
    """A header value as a client puts it on the wire: UTF-8 bytes (so the server sees non-ASCII as latin-1
    characters, RFC 9110 5.5), without the control characters a field value cannot hold (RFC 9110 5.5: only HTAB
    among them). The gateway's HTTP parser refuses those before any function runs, as its own tests show
    (tests/integration/test_http_server.py); here the endpoints behind it are fuzzed."""
    raw = value.encode("utf-8", "surrogatepass").decode("latin-1")
    return _FIELD_CONTROLS.sub("", raw).strip()


def send(http: requests.Session, base: str, sent: Sent) -> requests.Response:
    """Send exactly this request (no redirects followed; the body and its Content-Type as given)."""
    url = base + sent.path + (f"?{sent.query}" if sent.query else "")
    headers = {name: header_value(value) for name, value in sent.headers.items()}
    request = requests.Request(sent.method, url, headers=headers, data=sent.body or None)
    prepared = http.prepare_request(request)
    if sent.body and "Content-Type" not in sent.headers:
        prepared.headers.pop("Content-Type", None)
    return http.send(prepared, allow_redirects=False, timeout=30)


def form_request(method: str, path: str, body: Body, *, authorization: str | None = None,
                 headers: dict[str, str] | None = None, query: str = "") -> Sent:
    sent_headers = dict(headers or {})
    if body.content_type is not None:
        sent_headers["Content-Type"] = body.content_type
    if authorization is not None:
        sent_headers["Authorization"] = authorization
    return Sent(method, path, query, sent_headers, body.data)


# -- the properties ------------------------------------------------------------------------------------------------


def describe(response: requests.Response) -> str:
    request = response.request
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return (f"{request.method} {request.url[:300]} headers={dict(request.headers)!r:.600} body={body[:300]!r} -> "
            f"{response.status_code} {response.headers.get('Content-Type')} {response.text[:400]!r}")


def assert_no_crash(response: requests.Response) -> None:
    """Never a 5xx, never a stack trace or a source path in the body. Records the outcome for
    ``--hypothesis-show-statistics`` (how deep the examples got)."""
    outcome = str(response.status_code)
    if media_type(response) == "application/json" and response.content:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            outcome += f" {body['error']}: {str(body.get('error_description', ''))[:60]}"
    elif response.is_redirect:
        outcome += " -> " + urlsplit(response.headers.get("Location", "")).path[:40]
    elif "<title>" in response.text:
        outcome += " " + response.text.split("<title>", 1)[1].split("<", 1)[0][:60]
    OUTCOMES[outcome] += 1
    if currently_in_test_context():
        event(outcome)
    assert response.status_code < 500, describe(response)
    text = response.text
    assert "Traceback" not in text and 'File "' not in text, describe(response)


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def assert_oauth_style(response: requests.Response, *, empty_ok: bool = False) -> dict | None:
    """RFC 6749 5.2: errors are a JSON object with an ``error`` from the registered set, never cached;
    ``invalid_client`` is 401 and, when the client tried Basic, names the scheme in WWW-Authenticate."""
    assert_no_crash(response)
    if empty_ok and response.status_code == 200 and not response.content:
        return None  # RFC 7009 2.2: revocation answers 200 with no body
    assert media_type(response) == "application/json", describe(response)
    body = response.json()
    assert isinstance(body, dict), describe(response)
    assert response.headers.get("Cache-Control") == "no-store", describe(response)
    if response.status_code >= 400:
        assert body.get("error") in OAUTH_ERRORS, describe(response)
        assert isinstance(body.get("error_description", ""), str), describe(response)
        if body["error"] == "invalid_client":
            assert response.status_code == 401, describe(response)
            sent = response.request.headers.get("Authorization", "")
            if sent[:6].lower() == "basic ":
                assert response.headers.get("WWW-Authenticate", "").startswith("Basic"), describe(response)
        else:
            assert response.status_code == 400, describe(response)
    else:
        assert response.status_code == 200, describe(response)
    return body


def assert_page_style(response: requests.Response) -> None:
    """Browser pages answer errors with an HTML page (never JSON, never a redirect to an unchecked place),
    with the page security headers."""
    assert_no_crash(response)
    if response.status_code in (301, 302, 303, 307, 308):
        assert response.headers.get("Location"), describe(response)
        return
    assert media_type(response) == "text/html", describe(response)
    assert response.headers.get("X-Frame-Options") == "DENY", describe(response)
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), describe(response)


def assert_json_style(response: requests.Response) -> object:
    """The JSON API and the gateway's own answers: JSON, with ``error`` on every error."""
    assert_no_crash(response)
    if response.status_code == 204:
        assert not response.content, describe(response)
        return None
    assert media_type(response) == "application/json", describe(response)
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], describe(response)
    return body


def print_outcomes(name: str) -> None:
    if STATS:
        print(f"\n{name}:")
        for outcome, count in sorted(OUTCOMES.items(), key=lambda item: -item[1]):
            print(f"  {count:4d}  {outcome}")
    OUTCOMES.clear()
