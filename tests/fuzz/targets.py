"""The fuzz targets. Each takes the fuzzer's bytes and holds one component to the contract it keeps for any input:
it answers, or it refuses in its own way (its own exception, or an error answer), and it never raises anything
else. A target raises :class:`InvariantBroken`, or lets the unexpected exception through, when the contract breaks.

Every target is deterministic for its input: verifiers, guards and requests are built afresh for each input, and
the keys are made once per process; so an input that broke a target once breaks it again when
``tests/unit/test_fuzz_corpus.py`` replays it (without atheris: nothing here imports it).

What a corpus file means, target by target:

- ``jws_token``: the bytes, as UTF-8 (an undecodable byte as a lone surrogate, as any ``str`` may hold), are the
  token a client sends.
- ``jws_signed``: ``<header JSON> NUL <payload JSON>``, or the payload JSON alone under a valid header: both are
  base64url-encoded and signed with the real key, so the input gets past the signature to the claim checks. A
  text that holds a JSON object is also laid over a valid header or valid claims and signed again, so a few bytes
  (``{"aud":{}}``) reach the check they change.
- ``guard_event``: an API Gateway authorizer event as JSON (bytes that are not JSON are skipped: API Gateway only
  sends JSON). ``$TOKEN`` and ``$CLIENT_TOKEN`` stand for a user's and a client's valid access token, signed when
  the target starts, so the input reaches the route rules and the policy.
- ``form``: a token endpoint body, ``application/x-www-form-urlencoded`` (RFC 6749 appendix B).
- ``json_body``: a JSON request body (RFC 8259), as registration and the account API read it.
- ``mcp``: ``<request head> NUL <body>``, or the body alone (a POST with the MCP SDK client's headers). A head is
  a method line, then ``name: value`` lines.
- ``bearer``: an ``Authorization`` header value (RFC 6750 2.1).
- ``client_document``: ``<client ID URL> NUL <document>``, or the document alone under :data:`DOCUMENT_URL`: a
  client ID metadata document as fetched (draft-ietf-oauth-client-id-metadata-document-03).
- ``authorization_request``: an authorization request's query (or form body), request objects and ``claims``
  included (RFC 6749 4.1.1, OpenID Connect Core 3.1.2.1, 5.5, 6.1), for the registered clients of
  :data:`AUTHORIZE_CLIENTS`.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from passport.bearer import MalformedAuthorization, bearer_credentials
from passport.config import RouteRule, Settings
from passport.core.errors import OAuthError
from passport.core.http import Headers, MalformedJson, Request, Response, parse_json, single
from passport.endpoints.mcp_server import INTERNAL_ERROR, handle
from passport.guard.context import TokenContext
from passport.guard.decision import Guard
from passport.guard.events import AuthorizerCall, Unauthorized, authorize, parse
from passport.guard.revocation import RevocationCache
from passport.guard.rules import RuleTable
from passport.jws import ACCESS_TOKEN, ID_TOKEN, InvalidToken, TokenKind, TokenVerifier
from passport.keys.material import VerificationKey, generate
from passport.routes import route_table

from tests.jws_corpus import AUDIENCE, ISSUER, LEEWAY, Signer

#: RFC 6750 2.1: ``b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="``.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: The key is new in every process, so a committed input cannot name it by its thumbprint: it is published under
#: this kid as well (a key set may hold one key under two names; the verifier looks a kid up as it is given).
FUZZ_KID = "fuzz-key"
MCP_AUDIENCE = "https://as.example/mcp"
#: A lifetime that outlives the corpus: a token signed now and replayed in years is still valid (2100-01-01).
FAR_FUTURE = 4_102_444_800


class InvariantBroken(AssertionError):
    """A component answered in a way its contract rules out (raised by a target, never by the component)."""


def require(condition: object, message: str) -> None:
    # Not `assert`: an invariant must hold under `python -O` too.
    if not condition:
        raise InvariantBroken(message)


# --- keys and tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    signer: Signer
    published: Mapping[str, VerificationKey]


@functools.cache
def keys() -> Keys:
    """One ES256 key per process (generated: no key is committed), published under its thumbprint and FUZZ_KID."""
    signer = Signer(generate("ES256"))
    return Keys(signer, {signer.public.kid: signer.public, FUZZ_KID: signer.public})


def fuzz_header(**members: Any) -> bytes:
    """A valid access token header naming the key by FUZZ_KID, as compact JSON."""
    header = {"alg": "ES256", "kid": FUZZ_KID, "typ": "at+jwt", **members}
    return json.dumps(header, separators=(",", ":")).encode()


def access_claims(sub: str, client_id: str, scope: str, jti: str) -> dict[str, Any]:
    return {"iss": ISSUER, "sub": sub, "aud": AUDIENCE, "client_id": client_id, "jti": jti,
            "iat": int(time.time()) - 60, "exp": FAR_FUTURE, "scope": scope}


@functools.cache
def valid_tokens() -> dict[bytes, bytes]:
    """The placeholders of ``guard_event`` inputs and the tokens they stand for (signed once per process)."""
    signer = keys().signer
    return {
        b"$CLIENT_TOKEN": signer.sign(fuzz_header(), access_claims("client-2", "client-2", "files", "j-2")).encode(),
        b"$TOKEN": signer.sign(fuzz_header(), access_claims("user-1", "client-1", "orders:read orders:write",
                                                            "j-1")).encode(),
    }


# --- 1. the token verifier -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """One way a caller uses the verifier; the same modes as ``tests/unit/test_jws_differential.py``'s MODES."""

    name: str
    kind: TokenKind
    audiences: tuple[str, ...] | None
    check_expiry: bool


MODES = (
    Mode("the guard's", ACCESS_TOKEN, (AUDIENCE,), check_expiry=True),
    Mode("revocation's (any age)", ACCESS_TOKEN, (AUDIENCE, MCP_AUDIENCE), check_expiry=False),
    Mode("logout's ID token hint (any audience)", ID_TOKEN, None, check_expiry=False),
)
#: Refusals no mode can change: the token's form, its key, its signature, its payload's JSON. After one of them the
#: other modes would refuse alike, so they are skipped (most fuzzed inputs end so: twice the executions a second).
#: A refusal not listed here, or one reworded, runs every mode.
SAME_IN_EVERY_MODE = frozenset({
    "not a compact JWS in base64url", "a segment is not canonical base64url", "the header is not a JSON object",
    "the header names no key or no algorithm", "unsupported header extension", "unknown kid",
    "alg does not match the key", "bad signature", "the payload is not a JSON object",
})


def pyjwt_decode(token: str, mode: Mode, key: VerificationKey) -> dict[str, Any] | None:
    """``jwt.decode`` with the options that say what ``mode`` says; None for any refusal, whatever PyJWT raises."""
    options: dict[str, Any] = {"require": list(mode.kind.required)}
    audience: dict[str, Any] = {}
    if mode.audiences is None:
        options["verify_aud"] = False
    else:
        audience["audience"] = list(mode.audiences)
    if not mode.check_expiry:
        options["verify_exp"] = False
    try:
        return jwt.decode(token, key.key, algorithms=[key.alg], issuer=ISSUER, leeway=LEEWAY, options=options,
                          **audience)
    except Exception:
        return None


def verify_every_way(token: str) -> None:
    """Claims or InvalidToken, in every mode; and what ours accepts, ``jwt.decode`` accepts and reads the same."""
    published = keys().published
    for mode in MODES:
        verifier = TokenVerifier(published, issuer=ISSUER, audiences=mode.audiences, kind=mode.kind, leeway=LEEWAY)
        try:
            claims = verifier.verify(token, check_expiry=mode.check_expiry)
        except InvalidToken as refusal:
            if str(refusal) in SAME_IN_EVERY_MODE:
                return
            continue
        require(isinstance(claims, dict), f"verify returned {type(claims).__name__}, not claims")
        theirs = pyjwt_decode(token, mode, keys().signer.public)
        require(theirs is not None, f"accepted in {mode.name} mode a token jwt.decode refuses")
        require(theirs == claims, f"accepted in {mode.name} mode with claims that jwt.decode reads otherwise")


def jws_token(data: bytes) -> None:
    verify_every_way(data.decode("utf-8", "surrogateescape"))


#: The claims of a valid access token for the guard until 2100: what a fuzzed JSON object is laid over.
VALID_CLAIMS = {"iss": ISSUER, "sub": "user-1", "aud": AUDIENCE, "client_id": "client-1", "jti": "j-1",
                "iat": 1_700_000_000, "exp": FAR_FUTURE, "scope": "orders:read"}


def json_object(text: bytes) -> dict[str, Any]:
    """The JSON object a text holds, as Python's parser reads it (NaN and all); empty if it holds none."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def laid_over(base: dict[str, Any], text: bytes) -> bytes | None:
    """``base`` with the members of the object in ``text`` put over it, as JSON; None when there is no object or
    it cannot be written (nested too deep)."""
    members = json_object(text)
    if not members:
        return None
    try:
        return json.dumps({**base, **members}).encode()  # ASCII: ensure_ascii escapes every other character
    except (ValueError, RecursionError):
        return None


def jws_signed(data: bytes) -> None:
    header, separator, payload = data.partition(b"\0")
    if not separator:
        header, payload = fuzz_header(), data
    signer = keys().signer
    verify_every_way(signer.sign(header, payload))  # the texts as they are: spelling, encoding, duplicates
    # And laid over a valid token: {"aud":{}} is a few bytes for the fuzzer to find, where a whole valid payload
    # around it is hundreds; this is what gets a mutation past every other claim check to the one it changes.
    claims = laid_over(VALID_CLAIMS, payload)
    fields = laid_over(json.loads(fuzz_header()), header) if separator else None
    if claims is not None or fields is not None:
        verify_every_way(signer.sign(fields or fuzz_header(), claims or payload))


# --- 2. the authorizer's event parser --------------------------------------------------------------------------


class AllLive:
    """The revocation lookup, in memory: every token and client is live (the fuzzer aims at parsing, not
    revocation)."""

    def lookup(self, jti: str | None, client_id: str | None) -> tuple[bool | None, bool | None]:
        return True, True


@functools.cache
def rules() -> RuleTable:
    """The demo API's rules, and one of each other kind: a template, a greedy path, a user-only and a client-only
    route, any-of scopes."""
    extra = {
        "DELETE /api/orders/{id}": RouteRule("DELETE", "/api/orders/{id}", scopes=("orders:write",), subject="user"),
        "POST /api/orders": RouteRule("POST", "/api/orders", any_scopes=("orders:write", "admin")),
        "ANY /files/{proxy+}": RouteRule("ANY", "/files/{proxy+}", subject="client"),
    }
    return RuleTable({**dict(RuleTable.from_routes(route_table(Settings()))), **extra})


def guard() -> Guard:
    verifier = TokenVerifier(keys().published, issuer=ISSUER, audiences=(AUDIENCE,), leeway=LEEWAY)
    return Guard(verifier, RevocationCache(AllLive, ttl_seconds=60), rules())


def with_tokens(data: bytes) -> bytes:
    for placeholder, token in valid_tokens().items():
        data = data.replace(placeholder, token)
    return data


def check_call(call: AuthorizerCall) -> None:
    require(call.kind in ("TOKEN", "REQUEST", "HTTP"), f"parse made a call of kind {call.kind!r}")
    require(call.token is None or (isinstance(call.token, str) and B64TOKEN.fullmatch(call.token)),
            f"parse took {call.token!r} for a Bearer token")
    require(all(isinstance(part, str) for part in (call.method, call.path, call.arn)), f"parse made {call!r}")


def check_answer(event: Mapping[str, Any], answer: object) -> None:
    """An HTTP API simple response or a REST policy, as the event's kind asks; flat string context (API Gateway
    refuses anything else); JSON that API Gateway can read."""
    require(isinstance(answer, dict), f"authorize answered {type(answer).__name__}")
    assert isinstance(answer, dict)
    context = answer.get("context")
    require(isinstance(context, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()),
            f"the context is not flat strings: {context!r}")
    if event.get("version") == "2.0":
        require(set(answer) == {"isAuthorized", "context"} and isinstance(answer["isAuthorized"], bool),
                f"not an HTTP API simple response: {answer!r}")
    else:
        document = answer.get("policyDocument")
        statements = document.get("Statement") if isinstance(document, dict) else None
        # The whole stage allowed first, then a Deny per route the token may not call.
        require(isinstance(answer.get("principalId"), str) and isinstance(statements, list) and statements
                and statements[0].get("Effect") == "Allow", f"not a REST authorizer policy: {answer!r}")
    json.dumps(answer, allow_nan=False)


def guard_event(data: bytes) -> None:
    try:
        event = json.loads(with_tokens(data))
    except (ValueError, RecursionError):  # not JSON: API Gateway never sends the authorizer such an event
        return
    if isinstance(event, Mapping):
        check_call(parse(event))
    try:
        answer = authorize(event, guard())
    except Unauthorized:
        return
    check_answer(event, answer)


# --- 3. the form parser ----------------------------------------------------------------------------------------

FORM_HEADERS = Headers({"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})


def form(data: bytes) -> None:
    try:
        params = Request("POST", "/oauth/token", FORM_HEADERS, body=data).form()
    except OAuthError:
        return
    require(isinstance(params, dict), f"form() returned {type(params).__name__}")
    for name, values in params.items():
        require(isinstance(name, str) and values and all(isinstance(v, str) for v in values),
                f"form() returned {name!r}: {values!r}")
    for name in (*params, "grant_type", "client_id"):
        for required in (False, True):
            try:
                value = single(params, name, required=required)
            except OAuthError:
                continue
            # One value, never an empty one: "" is None when optional and refused when required.
            require(value is None or (isinstance(value, str) and value), f"single({name!r}) returned {value!r}")
            require(value is not None or not required, f"single({name!r}, required=True) returned None")


# --- 4. the JSON body parser -----------------------------------------------------------------------------------


def json_body(data: bytes) -> None:
    try:
        value = parse_json(data)
    except MalformedJson:
        return
    try:
        json.dumps(value, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError) as error:  # UnicodeEncodeError is a ValueError
        raise InvariantBroken(f"parse_json returned a value that cannot be written back: {error}") from error


# --- 5. the MCP server -----------------------------------------------------------------------------------------

#: What the MCP SDK's client sends (as tests/unit/test_mcp_server.py); no MCP-Protocol-Version, so 2025-03-26 is
#: assumed and batches are open to the fuzzer.
MCP_CLIENT_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
#: A user with the tool's scope; a client whose parent scope grants it only when inherited scopes are on.
MCP_CALLERS = (
    (TokenContext(sub="user-1", client_id="client-1", user_id="user-1", scopes=("orders:read",), jti="j-1"), False),
    (TokenContext(sub="client-2", client_id="client-2", user_id=None, scopes=("orders",), jti="j-2"), True),
)


def mcp_request(data: bytes) -> Request:
    head, separator, body = data.partition(b"\0")
    if not separator:
        return Request("POST", "/mcp", Headers(MCP_CLIENT_HEADERS), body=data)
    method, *lines = head.decode("utf-8", "surrogateescape").split("\n")
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip(" \t\r")
    return Request(method.strip() or "POST", "/mcp", Headers(headers), body=body)


def no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def check_mcp_response(response: object) -> None:
    require(isinstance(response, Response), f"handle returned {type(response).__name__}")
    assert isinstance(response, Response)
    require(200 <= response.status < 500, f"status {response.status}: {response.body[:200]}")
    if response.status == 202 or not response.body:
        require(response.status == 202 and not response.body, f"status {response.status} with body "
                f"{response.body[:200]!r}")
        return
    require(response.headers.get("Content-Type") == "application/json", f"a body as {response.headers}")
    try:
        answer = json.loads(response.body, parse_constant=no_constant)
    except ValueError as error:
        raise InvariantBroken(f"the body is not JSON: {response.body[:200]!r}") from error
    for message in answer if isinstance(answer, list) else [answer]:
        require(isinstance(message, dict) and message.get("jsonrpc") == "2.0", f"not JSON-RPC: {message!r}")
        # A method that crashed is answered -32603 and logged: a crash all the same, so it counts as one.
        require((message.get("error") or {}).get("code") != INTERNAL_ERROR, f"an internal error: {message!r}")


def mcp(data: bytes) -> None:
    request = mcp_request(data)
    for caller, inherit in MCP_CALLERS:
        check_mcp_response(handle(request, caller, inherit=inherit))


# --- 6. the Bearer header parser -------------------------------------------------------------------------------


def bearer(data: bytes) -> None:
    require(bearer_credentials(data) is None, "bytes (not a header value) read as a Bearer token")
    value = data.decode("utf-8", "surrogateescape")
    try:
        token = bearer_credentials(value)
    except MalformedAuthorization:
        return
    if token is None:
        return
    require(isinstance(token, str) and B64TOKEN.fullmatch(token), f"{token!r} is not a b64token")
    require(token in value, f"{token!r} is not in the header {value!r}")
    require(bearer_credentials(f"Bearer {token}") == token, f"{token!r} does not read back as itself")


# --- 7. a client ID metadata document --------------------------------------------------------------------------

DOCUMENT_URL = "https://agent.example/oauth/client.json"
DOCUMENT_SCOPES = {"orders:read": "Read your orders"}


def client_document(data: bytes) -> None:
    from passport.core.client_documents import DocumentRefused, client_from_document, parse_client_id_url
    from passport.core.clients import validate_redirect_uri

    url_bytes, separator, body = data.partition(b"\0")
    url = url_bytes.decode("utf-8", "surrogateescape") if separator else DOCUMENT_URL
    body = body if separator else data
    try:
        parse_client_id_url(url)
        client = client_from_document(url, body, defined_scopes=DOCUMENT_SCOPES, now=1_800_000_000,
                                      cache_seconds=600)
    except DocumentRefused as refused:
        require(isinstance(str(refused), str) and str(refused), "a refusal without a reason")
        return
    # What a document may make: a public code-flow client under its own URL, every redirect URI one the rules
    # of every client accept, and nothing a document must not carry.
    require(client.client_id == url and client.public and client.auth_method == "none", f"{client!r}")
    require(set(client.grant_types) <= {"authorization_code", "refresh_token"}, f"grants {client.grant_types}")
    require(client.redirect_uris and all(validate_redirect_uri(u, client.application_type) == u
                                         for u in client.redirect_uris), f"redirect URIs {client.redirect_uris}")
    require(client.from_document and not client.vetted and not client.registered, "a document's client is vetted")
    require(all(s in DOCUMENT_SCOPES or s in ("openid", "profile", "email", "offline_access")
                for s in client.scopes), f"scopes {client.scopes}")


# --- 8. the authorization request --------------------------------------------------------------------------------

AUTHORIZE_ISSUER = "https://as.example"
AUTHORIZE_REDIRECT = "https://app.example/cb"


@functools.cache
def authorize_clients() -> Any:
    from passport.core.models import Client

    from tests.unit.fakes import MemoryClientStore

    return MemoryClientStore(
        Client(client_id="web", name="Web", secret_hash="sha256:00", redirect_uris=(AUTHORIZE_REDIRECT,),
               grant_types=("authorization_code", "refresh_token", "implicit"), scopes=("orders:read", "openid")),
        Client(client_id="native", name="Native", redirect_uris=("http://127.0.0.1/cb", "com.example.app:/cb"),
               grant_types=("authorization_code",), application_type="native"),
    )


def authorization_request(data: bytes) -> None:
    from urllib.parse import parse_qs

    from passport.core.authorization import AuthorizationRequest, RedirectError, validate
    from passport.core.errors import PageError
    from passport.core.scopes import ScopePolicy

    text = data.decode("utf-8", "surrogateescape")
    try:
        params = parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return
    try:
        request = validate(params, clients=authorize_clients(), scopes=ScopePolicy(DOCUMENT_SCOPES),
                           response_types=("code", "token"), resources=(f"{AUTHORIZE_ISSUER}/api",),
                           issuer=AUTHORIZE_ISSUER)
    except PageError:
        return  # an error page: the client or its redirect URI is not trusted
    except RedirectError as failure:
        # Back to a registered redirect URI only, with an OAuth error code.
        require(failure.request.client.client_id in ("web", "native"), "a redirect for an unknown client")
        require(failure.error.error and failure.error.error.isascii(), f"error {failure.error.error!r}")
        return
    require(isinstance(request, AuthorizationRequest), f"validate returned {type(request).__name__}")
    require(request.client.client_id in ("web", "native"), f"client {request.client.client_id!r}")
    require(request.response_type in ("code", "token"), f"response_type {request.response_type!r}")
    require(request.response_type != "code" or request.client.secret_hash or request.challenge,
            "a public client's code request without PKCE")


# --- the registry ----------------------------------------------------------------------------------------------

JSON_WORDS = (b"{", b"}", b"[", b"]", b'"', b":", b",", b"true", b"false", b"null", b"\\u", b"\\ud800", b"\\u0000",
              b"1e400", b"-0", b"0.5", b"NaN", b"Infinity", b"12345678901234567890")
JWS_WORDS = (b'"iss"', b'"sub"', b'"aud"', b'"exp"', b'"nbf"', b'"iat"', b'"jti"', b'"client_id"', b'"scope"',
             b'"azp"', b'"nonce"', b'"typ"', b'"alg"', b'"kid"', b'"crit"', b'"b64"', b'"at+jwt"', b'"JWT"',
             b'"application/at+jwt"', b'"ES256"', b'"none"', b'"HS256"', f'"{FUZZ_KID}"'.encode(),
             f'"{ISSUER}"'.encode(), f'"{AUDIENCE}"'.encode(), f'"{MCP_AUDIENCE}"'.encode(), b"4102444800")
EVENT_WORDS = (b'"version"', b'"2.0"', b'"routeKey"', b'"routeArn"', b'"methodArn"', b'"type"', b'"TOKEN"',
               b'"REQUEST"', b'"headers"', b'"multiValueHeaders"', b'"authorization"', b'"Authorization"',
               b'"authorizationToken"', b'"httpMethod"', b'"resource"', b"Bearer ", b"$TOKEN", b"$CLIENT_TOKEN",
               b"arn:aws:execute-api:eu-west-1:123456789012:api/prod/", b"GET /api/orders", b"/api/orders/{id}",
               b"/files/{proxy+}", b"DELETE", b"ANY")
FORM_WORDS = (b"=", b"&", b"%", b"%FF", b"%C3%28", b"%00", b"+", b";", b"grant_type", b"client_id",
              b"authorization_code")
MCP_WORDS = (b'"jsonrpc"', b'"2.0"', b'"id"', b'"method"', b'"params"', b'"initialize"', b'"ping"',
             b'"tools/list"', b'"tools/call"', b'"notifications/initialized"', b'"name"', b'"arguments"',
             b'"list_orders"', b'"whoami"', b'"status"', b'"protocolVersion"', b'"capabilities"', b'"clientInfo"',
             b'"cursor"', b'"result"', b'"error"', b"\0", b"POST", b"\nmcp-protocol-version: ", b"2025-03-26",
             b"2025-06-18", b"\naccept: ", b"\ncontent-type: ", b"application/json", b";q=0", b"*/*")
BEARER_WORDS = (b"Bearer ", b"bearer", b"\t", b"=", b"~", b"+/", b",", b"Basic ", b"eyJ")
DOCUMENT_WORDS = (b'"client_id"', b'"client_name"', b'"redirect_uris"', b'"grant_types"', b'"response_types"',
                  b'"token_endpoint_auth_method"', b'"application_type"', b'"native"', b'"web"', b'"none"',
                  b'"client_secret"', b'"client_secret_post"', b'"scope"', b'"logo_uri"', b'"client_uri"',
                  f'"{DOCUMENT_URL}"'.encode(), b'"http://127.0.0.1:3000/cb"', b'"cursor://a.b/cb"',
                  b'"javascript:x"', b'"authorization_code"', b'"refresh_token"', b"https://", b"\0", b"/..", b"#")
AUTHORIZE_WORDS = (b"response_type=code", b"response_type=token", b"client_id=web", b"client_id=native",
                   b"redirect_uri=https%3A%2F%2Fapp.example%2Fcb", b"redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
                   b"scope=openid+orders%3Aread", b"code_challenge=", b"code_challenge_method=S256", b"state=",
                   b"nonce=", b"prompt=none", b"max_age=", b"request=", b"request_uri=", b"claims=", b"acr_values=",
                   b"response_mode=form_post", b"resource=", b"eyJhbGciOiJub25lIn0.", b"&", b"%", b"=")


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    #: libFuzzer's -max_len: room for every shape the target parses (JSON nested past the recursion limit, an
    #: integer past Python's 4300-digit limit where the target parses JSON).
    max_len: int = 4096
    #: libFuzzer's -dict: the words the fuzzer would otherwise have to find byte by byte.
    words: tuple[bytes, ...] = ()
    #: The input is JSON (each part, around a NUL): tests.fuzz.mutator changes its values as well as its bytes.
    json: bool = False


TARGETS: dict[str, Target] = {target.name: target for target in (
    Target("jws_token", jws_token, words=(*JWS_WORDS, b".", b"eyJ", b"=", b"-", b"_")),
    Target("jws_signed", jws_signed, max_len=8192, words=JSON_WORDS + JWS_WORDS, json=True),
    Target("guard_event", guard_event, words=JSON_WORDS + EVENT_WORDS, json=True),
    Target("form", form, words=FORM_WORDS),
    Target("json_body", json_body, max_len=8192, words=JSON_WORDS, json=True),
    Target("mcp", mcp, words=JSON_WORDS + MCP_WORDS, json=True),
    Target("bearer", bearer, words=BEARER_WORDS),
    Target("client_document", client_document, max_len=8192, words=JSON_WORDS + DOCUMENT_WORDS, json=True),
    Target("authorization_request", authorization_request, max_len=8192, words=AUTHORIZE_WORDS),
)}
