"""A generated corpus of crafted tokens, every one signed with a real key: each claim and each header field mutated
in type and value, each segment in every base64url variant, and the classic forgeries (``alg`` none, HMAC keyed with
the public key). The differential test (``tests/unit/test_jws_differential.py``) runs each through
``passport.jws.TokenVerifier`` and PyJWT's ``jwt.decode`` with the same options; ``make fuzz`` mutates them further.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
from passport.keys.material import VerificationKey

ISSUER, AUDIENCE, LEEWAY = "https://as.example", "https://as.example/api", 30
ACCESS_REQUIRED = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")

#: Stands for "the member is absent".
MISSING = object()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Crafted:
    description: str
    token: str


def values(now: int) -> list[Any]:
    """Every JSON type, and the values near each rule's edge."""
    return [
        MISSING, None, True, False, 0, -1, 1, 1.5, -0.5, 2**53, 10**20, -(10**20), 10**400, 1e300, "", "x",
        "9999999999", str(now), [], ["x"], [1], [None], [""], {}, {"a": 1}, [[AUDIENCE]], ISSUER, ISSUER + "/",
        AUDIENCE, [AUDIENCE], [AUDIENCE, "other"], ["other", AUDIENCE], [AUDIENCE, 1], [AUDIENCE, None],
        [AUDIENCE, ""], now, now + 3600, now - 3600, now + LEEWAY - 1, now + LEEWAY + 1, now - LEEWAY - 1,
        now - LEEWAY + 1, now + 0.5, float(now), now - LEEWAY + 0.5, now - LEEWAY - 0.5, "at+jwt", "JWT",
        "application/at+jwt", "AT+JWT", "none", "HS256", "RS256", "ES256", "EdDSA", ["exp"], ["b64"], "\u202e",
        "\ud800", "a" * 5000,
    ]


#: JSON text no value above can produce: constants Python's parser reads but JSON does not have, and numbers
#: that overflow or look unusual.
LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-0", "1E9", "0.0", "1" + "0" * 5000,
            "[" * 3000 + "]" * 3000, '"\\ud800"', "true", "[]"]


def base_claims(now: int) -> dict[str, Any]:
    return {"iss": ISSUER, "sub": "u1", "aud": AUDIENCE, "client_id": "c1", "jti": "j1", "iat": now,
            "nbf": now, "exp": now + 3600, "scope": "orders:read"}


class Signer:
    def __init__(self, private_key: Any) -> None:
        self.key = private_key
        self.public = VerificationKey.of(private_key.public_key())
        self._algorithm = jwt.get_algorithm_by_name(self.public.alg)

    def header(self, **overrides: Any) -> dict[str, Any]:
        header: dict[str, Any] = {"alg": self.public.alg, "kid": self.public.kid, "typ": "at+jwt"}
        for name, value in overrides.items():
            if value is MISSING:
                header.pop(name, None)
            else:
                header[name] = value
        return header

    def segments(self, header_segment: str, payload_segment: str) -> str:
        signing_input = f"{header_segment}.{payload_segment}".encode()
        return f"{header_segment}.{payload_segment}.{b64(self._algorithm.sign(signing_input, self.key))}"

    def sign(self, header: dict[str, Any] | bytes, claims: dict[str, Any] | bytes) -> str:
        header_bytes = header if isinstance(header, bytes) else _dumps(header)
        payload_bytes = claims if isinstance(claims, bytes) else _dumps(claims)
        return self.segments(b64(header_bytes), b64(payload_bytes))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _with(claims: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    changed = dict(claims)
    if value is MISSING:
        changed.pop(name, None)
    else:
        changed[name] = value
    return changed


def _variants(segment: str, raw: bytes) -> Iterator[tuple[str, str]]:
    """Other spellings of one segment's bytes, and near-misses."""
    yield "padded", base64.urlsafe_b64encode(raw).decode()
    yield "standard alphabet", base64.b64encode(raw).decode().rstrip("=")
    yield "standard alphabet padded", base64.b64encode(raw).decode()
    if len(segment) % 4 in (2, 3):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        index = alphabet.index(segment[-1])
        yield "non-zero trailing bits", segment[:-1] + alphabet[index + 1]
    yield "one char short", segment[:-1]
    yield "one char long", segment + "A"
    yield "inner space", segment[:4] + " " + segment[4:]
    yield "inner newline", segment[:4] + "\n" + segment[4:]
    yield "trailing =", segment + "="
    yield "leading =", "=" + segment
    yield "percent-encoded", segment[:3] + "%41" + segment[3:]
    yield "non-ASCII", segment[:3] + "é" + segment[3:]


def crafted(signer: Signer, now: int) -> Iterator[Crafted]:
    """The whole corpus, deterministic for a given key and time."""
    claims = base_claims(now)
    header = signer.header()
    yield Crafted("baseline", signer.sign(header, claims))
    for name in (*claims, "azp", "nonce", "cnf"):
        for value in values(now):
            yield Crafted(f"claim {name}={_show(value)}", signer.sign(header, _with(claims, name, value)))
        for literal in LITERALS:
            text = _dumps(_with(claims, name, MISSING)).decode("utf-8", "surrogatepass")
            payload = text[:-1] + (", " if len(text) > 2 else "") + f'"{name}":{literal}}}'
            yield Crafted(f"claim {name}={literal[:20]} (literal)", signer.sign(header, payload.encode()))
    for name in ("alg", "kid", "typ", "crit", "b64", "jku", "x5u", "jwk", "cty", "zip"):
        for value in values(now):
            yield Crafted(f"header {name}={_show(value)}", signer.sign(signer.header(**{name: value}), claims))
        for literal in LITERALS:
            text = _dumps(signer.header(**{name: MISSING})).decode()
            yield Crafted(f"header {name}={literal[:20]} (literal)",
                          signer.sign((text[:-1] + f',"{name}":{literal}}}').encode(), claims))
    yield from _structural(signer, header, claims)
    yield from _forgeries(signer, header, claims)


def _structural(signer: Signer, header: dict[str, Any], claims: dict[str, Any]) -> Iterator[Crafted]:
    header_raw, payload_raw = _dumps(header), _dumps(claims)
    good = signer.sign(header, claims)
    h, p, s = good.split(".")
    for label, spelled in _variants(h, header_raw):
        yield Crafted(f"header segment {label} (signed)", signer.segments(spelled, p))
    for label, spelled in _variants(p, payload_raw):
        yield Crafted(f"payload segment {label} (signed)", signer.segments(h, spelled))
    signature = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    for label, spelled in _variants(s, signature):
        yield Crafted(f"signature segment {label}", f"{h}.{p}.{spelled}")
    for label, token in [
        ("two segments", f"{h}.{p}"), ("four segments", f"{good}.{s}"), ("trailing dot", good + "."),
        ("leading dot", "." + good), ("empty payload", signer.segments(h, "")), ("empty signature", f"{h}.{p}."),
        ("surrounding space", f" {good} "), ("payload is []", signer.sign(header, b"[]")),
        ("payload is null", signer.sign(header, b"null")), ("payload is UTF-16", signer.sign(header, json.dumps(
            claims).encode("utf-16"))), ("header is UTF-16", signer.sign(json.dumps(header).encode("utf-16"), claims)),
        ("payload not UTF-8", signer.sign(header, payload_raw.replace(b'"u1"', b'"u\xff"'))),
        ("header not UTF-8", signer.sign(header_raw.replace(b'"at+jwt"', b'"at+jwt\xff"'), claims)),
        ("header nested", signer.sign(b"[" * 1500, claims)), ("payload nested", signer.sign(header, b"{\"a\":" * 3000)),
        ("duplicate typ", signer.sign(header_raw[:-1] + b',"typ":"JWT"}', claims)),
        ("duplicate iss", signer.sign(header, payload_raw[:-1] + b',"iss":"https://evil.example"}')),
        ("duplicate exp", signer.sign(header, payload_raw[:-1] + b',"exp":1}')),
        ("BOM before header", signer.sign(b"\xef\xbb\xbf" + header_raw, claims)),
        ("BOM before payload", signer.sign(header, b"\xef\xbb\xbf" + payload_raw)),
        ("whitespace around payload", signer.sign(header, b" \n" + payload_raw + b"\t")),
    ]:
        yield Crafted(label, token)


def _forgeries(signer: Signer, header: dict[str, Any], claims: dict[str, Any]) -> Iterator[Crafted]:
    """RFC 8725 2.1 and 3.1: a token that names another algorithm than its key's."""
    signing_input = f"{b64(_dumps(signer.header(alg='none')))}.{b64(_dumps(claims))}"
    yield Crafted("alg none, no signature", signing_input + ".")
    public_pem = signer.public.key.public_bytes(*_pem_format())
    for alg, digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)):
        forged_input = f"{b64(_dumps(signer.header(alg=alg)))}.{b64(_dumps(claims))}"
        mac = hmac.new(public_pem, forged_input.encode(), digest).digest()
        yield Crafted(f"{alg} keyed with the public key", f"{forged_input}.{b64(mac)}")


def _pem_format() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def _show(value: Any) -> str:
    if value is MISSING:
        return "<missing>"
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."
