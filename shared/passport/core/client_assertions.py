"""``private_key_jwt``: a client authenticates with a JWT it signs with a key it registered (RFC 7523 2.2 and 3,
RFC 7521 4.2, OpenID Connect Core 1.0 section 9). The rules only, without I/O.

At the token endpoint the client sends ``client_assertion_type`` = :data:`CLIENT_ASSERTION_TYPE` and
``client_assertion`` = a compact JWS, with or without ``client_id`` (RFC 7521 4.2: the assertion names the client).
The caller finds the client by the form's ``client_id``, else by :func:`client_id_from_assertion`, reads its
registered keys (:class:`ClientKeys`, from :func:`parse_client_jwks` at registration), calls
:func:`verify_client_assertion`, then spends the ``jti`` once (:class:`AssertionReplay`, :func:`spend_once`).
Every refusal is :class:`InvalidClientAssertion`, for ``invalid_client`` (RFC 6749 5.2).

The choices, where the standards leave one:

- **Audience.** RFC 7523 3 point 3 wants an ``aud`` that identifies the authorization server, and lets the token
  endpoint URL be that value; OpenID Connect Core 1.0 section 9 says the token endpoint URL. draft-ietf-oauth-
  rfc7523bis asks for the issuer identifier as the sole value: a malicious server's metadata can name our token
  endpoint as its own, and so obtain from a client an assertion it could spend here, while it cannot name our
  issuer as its own. Clients in the field send either, so the caller names the issuer identifier and the token
  endpoint URL, and an ``aud`` (one string, or an array of strings, RFC 7519 4.1.3) holding either, compared
  exactly, is accepted; a caller that follows the draft names the issuer alone.
- **typ.** RFC 7523 requires none, most clients send ``JWT`` or nothing, and draft-ietf-oauth-rfc7523bis names
  ``client-authentication+jwt``. Those are accepted (absent, or either of those two, compared case-insensitively
  with ``application/`` implied, as RFC 7515 4.1.9 says media types are), and any other ``typ`` is refused: a JWT
  made for another purpose (an access token ``at+jwt``, a DPoP proof ``dpop+jwt``) is never taken for an
  assertion (RFC 8725 3.11).
- **Keys.** Only keys the client registered verify its assertion; a key in the header (``jwk``, ``jku``, ``x5c``,
  ``x5u``) is never used. A ``kid`` picks the registered key with that ``kid`` (RFC 7517 4.5), which must suit the
  ``alg``; when none has it, the client's keys registered without a ``kid`` and suiting the ``alg`` are tried (a
  signing library often names a key itself, by its RFC 7638 thumbprint). Without a ``kid``, the keys suiting the
  ``alg`` are tried, at most :data:`MAX_KEYS_TRIED` (OpenID Connect Core 1.0 section 10.1: a client with several
  keys names the one it signs with). The ``alg`` is one of :data:`ALGORITHMS`, asymmetric: never ``none``, never
  HMAC, whose secret would be the public key anyone can read (RFC 8725 2.1 and 3.1).
- **Lifetime.** ``exp`` is required and at most ``max_lifetime_seconds`` after ``iat`` (or after now, without
  ``iat``), so that the set of spent ``jti`` values the server keeps (RFC 7523 3 point 7) stays small.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from passport.core.clients import MAX_URI, InvalidClientMetadata
from passport.core.errors import PassportError
from passport.jose_text import (
    COMPACT,
    InvalidBase64url,
    InvalidJson,
    b64url_decode,
    decode_segment,
    json_object,
    json_value,
)

if TYPE_CHECKING:  # cryptography's key types: imported by the functions that need keys, not by every importer
    from passport.keys.material import PublicKey

#: RFC 7523 2.2: the ``client_assertion_type`` of a JWT client assertion.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: OpenID Connect Core 1.0 section 9 (and RFC 8414's ``token_endpoint_auth_methods_supported``).
AUTH_METHOD = "private_key_jwt"
#: The JWS algorithms a client may sign an assertion with (RFC 7518 3.3 and 3.4, RFC 8037 3.1): asymmetric only, and
#: exactly those :mod:`passport.keys.jwa` verifies. PS256 (RFC 7518 3.5) joins when jwa verifies RSASSA-PSS.
ALGORITHMS = ("ES256", "RS256", "EdDSA")
#: Which algorithms a key of each ``kty`` serves (RFC 7518 6.1, RFC 8037 2); a key's own ``alg`` narrows it to one.
KEY_TYPE_ALGORITHMS: dict[str, tuple[str, ...]] = {"EC": ("ES256",), "RSA": ("RS256",), "OKP": ("EdDSA",)}
#: JWK members that only a private or symmetric key has (RFC 7518 6.2.2, 6.3.2 and 6.4, RFC 8037 2).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: ``typ`` values accepted, lower-case, without the implied ``application/`` (RFC 7515 4.1.9).
ASSERTION_TYPES = frozenset({"jwt", "client-authentication+jwt"})

#: An assertion is a few hundred bytes (an RSA-4096 signature, 683 characters, is the largest part): anything
#: longer is refused before it is decoded.
MAX_ASSERTION_LENGTH = 8 * 1024
#: Keys in one client's ``jwks``: rotation needs two, a few more are generous.
MAX_CLIENT_KEYS = 10
#: One key's JSON, with whatever members it carries: an RSA-4096 public key is about 750 characters.
MAX_JWK_LENGTH = 4 * 1024
MAX_KID_LENGTH = 256
MAX_JTI_LENGTH = 256
#: Keys tried for an assertion that names none (each try is one signature verification).
MAX_KEYS_TRIED = 3
#: As :mod:`passport.core.client_auth`: a UUID, or the https URL of a client ID metadata document.
MAX_CLIENT_ID_LENGTH = MAX_URI
#: RSA modulus sizes accepted: 2048 bits at least (RFC 7518 3.3), and a bound on the cost of one verification.
RSA_MIN_BITS, RSA_MAX_BITS = 2048, 4096

#: A JWK member holding a big number or a point coordinate: an RSA-4096 modulus is 683 characters.
_MAX_MEMBER_LENGTH = 1024
#: SubjectPublicKeyInfo AlgorithmIdentifiers (RFC 5280 4.1.1.2): rsaEncryption with NULL parameters (RFC 8017
#: A.1), id-ecPublicKey on prime256v1 (RFC 5480 2.1.1), id-Ed25519 (RFC 8410 3).
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")
_P256_ALGORITHM = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
_ED25519_ALGORITHM = bytes.fromhex("300506032b6570")


class InvalidClientKeys(InvalidClientMetadata):
    """A ``jwks`` that cannot be registered; the message says why, without the key material, and is RFC 7591
    3.2.2's ``invalid_client_metadata`` description (as every :class:`InvalidClientMetadata`)."""


class InvalidClientAssertion(PassportError):
    """A client assertion refused; the message names the check that failed, for ``invalid_client`` (RFC 6749 5.2,
    RFC 7521 4.2.1)."""


@dataclass(frozen=True)
class ClientKey:
    """One registered public key: its ``kid`` (None when registered without one) and the algorithms it verifies."""

    kid: str | None
    algorithms: tuple[str, ...]
    key: PublicKey


@dataclass(frozen=True)
class ClientKeys:
    """A client's registered public keys (RFC 7591 2 ``jwks``, RFC 7517 5), and their canonical JSON to store: the
    public members of each key, its ``kid``, ``alg`` and ``use`` as registered, members sorted, no whitespace.
    Other members are left out (RFC 7517 4: a member not understood is ignored)."""

    keys: tuple[ClientKey, ...]
    canonical_json: str

    @classmethod
    def from_json(cls, text: str) -> ClientKeys:
        """The keys again from their stored :attr:`canonical_json` (checked again: storage is not trusted to hold
        only what this module wrote)."""
        try:
            value = json_value(text, unique_members=False)
        except InvalidJson:
            raise InvalidClientKeys("the jwks must be a JSON object") from None
        return parse_client_jwks(value)

    def document(self) -> dict[str, Any]:
        """The JWK Set as registered, for the registration response (RFC 7591 3.2.1)."""
        return json.loads(self.canonical_json)


@dataclass(frozen=True)
class VerifiedAssertion:
    """What a verified assertion proves. ``expires_at`` is its ``exp`` plus the leeway: from that second on the
    assertion is refused as expired, so until then its ``jti`` must stay spent."""

    client_id: str
    jti: str
    expires_at: int
    kid: str | None
    alg: str


class AssertionReplay(Protocol):
    """The set of spent assertions (RFC 7523 3 point 7; OpenID Connect Core 1.0 section 9: an assertion "MUST only
    be used once"). One set for the whole deployment, not per process: a replay may reach another container."""

    def spend(self, client_id: str, jti: str, expires_at: int) -> bool:
        """Record ``jti`` of ``client_id`` as spent until ``expires_at`` (Unix seconds); True the first time, False
        when it was already spent. Atomic: of two concurrent spends of one ``jti``, one wins."""
        ...


def spend_once(verified: VerifiedAssertion, replay: AssertionReplay) -> VerifiedAssertion:
    """``verified``, once its ``jti`` is spent; :class:`InvalidClientAssertion` when it was spent before."""
    if not replay.spend(verified.client_id, verified.jti, verified.expires_at):
        raise InvalidClientAssertion("the client assertion was already used (its jti has been seen)")
    return verified


# The registered keys


def parse_client_jwks(value: object) -> ClientKeys:
    """A client's ``jwks`` metadata (RFC 7591 2), checked: a JWK Set (RFC 7517 5) of 1 to :data:`MAX_CLIENT_KEYS`
    public signing keys, each at most :data:`MAX_JWK_LENGTH` characters of JSON:

    - a public key: no private member (:data:`PRIVATE_MEMBERS`), never ``kty`` ``oct`` (a shared secret is not
      ``private_key_jwt``);
    - ``RSA`` of :data:`RSA_MIN_BITS` to :data:`RSA_MAX_BITS` bits, ``EC`` on ``P-256`` or ``OKP`` ``Ed25519``, its
      members canonical base64url of the minimal (RSA, RFC 7518 6.3.1) or full-length (EC and OKP, RFC 7518
      6.2.1.2, RFC 8037 2) octets, so a key has one spelling; a point on its curve;
    - ``use``, when present, ``sig``; ``key_ops``, when present, holds ``verify`` (RFC 7517 4.2 and 4.3);
    - ``alg``, when present, one of :data:`ALGORITHMS` and one its ``kty`` serves (RFC 7517 4.4);
    - ``kid``, when present, a string of 1 to :data:`MAX_KID_LENGTH` characters, no two keys with the same.

    Anything else raises :class:`InvalidClientKeys`."""
    if not isinstance(value, dict):
        raise InvalidClientKeys("the jwks must be a JSON Web Key Set: an object with a keys array")
    members = value.get("keys")
    if not isinstance(members, list) or not members:
        raise InvalidClientKeys("the jwks must hold a non-empty keys array")
    if len(members) > MAX_CLIENT_KEYS:
        raise InvalidClientKeys(f"the jwks may hold at most {MAX_CLIENT_KEYS} keys")
    keys: list[ClientKey] = []
    stored: list[dict[str, str]] = []
    for number, jwk in enumerate(members, 1):
        key, canonical = _client_key(jwk, f"key {number} of jwks")
        if key.kid is not None and any(other.kid == key.kid for other in keys):
            raise InvalidClientKeys(f"key {number} of jwks has the kid of an earlier key: each kid names one key")
        keys.append(key)
        stored.append(canonical)
    return ClientKeys(tuple(keys), json.dumps({"keys": stored}, sort_keys=True, separators=(",", ":")))


def _client_key(jwk: object, where: str) -> tuple[ClientKey, dict[str, str]]:
    """One JWK of the set: the key, and its canonical members to store."""
    if not isinstance(jwk, dict):
        raise InvalidClientKeys(f"{where} is not a JSON object")
    try:
        size = len(json.dumps(jwk, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        raise InvalidClientKeys(f"{where} is not a JSON object") from None
    if size > MAX_JWK_LENGTH:
        raise InvalidClientKeys(f"{where} is longer than {MAX_JWK_LENGTH} characters of JSON")
    # Private material first: its presence is the mistake to name, whatever else is wrong with the key.
    private = [name for name in PRIVATE_MEMBERS if name in jwk]
    kty = jwk.get("kty")
    if kty == "oct":
        raise InvalidClientKeys(f"{where} is a symmetric key (kty oct): private_key_jwt takes public keys only")
    if private:
        raise InvalidClientKeys(
            f"{where} holds private key material ({', '.join(private)}): register the public key only")
    if not isinstance(kty, str) or kty not in KEY_TYPE_ALGORITHMS:
        raise InvalidClientKeys(f"{where} must have kty RSA, EC (P-256) or OKP (Ed25519)")
    if "use" in jwk and jwk["use"] != "sig":
        raise InvalidClientKeys(f"{where} has a use other than sig")
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops) or "verify" not in ops:
            raise InvalidClientKeys(f"{where} has key_ops without verify")
    algorithms = KEY_TYPE_ALGORITHMS[kty]
    canonical: dict[str, str] = {}
    if "alg" in jwk:
        alg = jwk["alg"]
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise InvalidClientKeys(f"{where} has an alg this server does not accept: use {', '.join(ALGORITHMS)}")
        if alg not in algorithms:
            raise InvalidClientKeys(f"{where} has alg {alg}, which a {kty} key does not sign with")
        algorithms = (alg,)
        canonical["alg"] = alg
    kid = None
    if "kid" in jwk:
        kid = jwk["kid"]
        if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
            raise InvalidClientKeys(f"{where} must have a kid of 1 to {MAX_KID_LENGTH} characters")
        canonical["kid"] = kid
    if "use" in jwk:
        canonical["use"] = "sig"
    public, der = _public_members(jwk, kty, where)
    canonical.update(public)
    return ClientKey(kid, algorithms, _load(public, der, where)), canonical


def _public_members(jwk: dict[str, Any], kty: str, where: str) -> tuple[dict[str, str], bytes]:
    """The key's required public members (RFC 7518 6.2.1 and 6.3.1, RFC 8037 2), checked, and the DER
    SubjectPublicKeyInfo they spell."""
    if kty == "RSA":
        n, e = _octets(jwk, "n", where), _octets(jwk, "e", where)
        if n[0] == 0 or e[0] == 0:  # RFC 7518 6.3.1.1 and 6.3.1.2: "the minimum number of octets"
            raise InvalidClientKeys(f"{where} has n or e with leading zero octets")
        modulus, exponent = int.from_bytes(n, "big"), int.from_bytes(e, "big")
        if not RSA_MIN_BITS <= modulus.bit_length() <= RSA_MAX_BITS or modulus % 2 == 0:
            raise InvalidClientKeys(f"{where} must be an RSA key of {RSA_MIN_BITS} to {RSA_MAX_BITS} bits")
        # An exponent of 1 makes every message its own signature; a large one only costs time.
        if exponent < 3 or exponent % 2 == 0 or len(e) > 4:
            raise InvalidClientKeys(f"{where} has an RSA exponent that is not an odd number from 3 to 2^32")
        members = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}
        return members, _spki(_RSA_ALGORITHM, _der(0x30, _der_uint(n) + _der_uint(e)))
    crv = jwk.get("crv")
    if kty == "EC":
        if crv != "P-256":
            raise InvalidClientKeys(f"{where} must be on crv P-256 (ES256)")
        x, y = _octets(jwk, "x", where, 32), _octets(jwk, "y", where, 32)
        return {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}, _spki(_P256_ALGORITHM, b"\x04" + x + y)
    if crv != "Ed25519":
        raise InvalidClientKeys(f"{where} must be on crv Ed25519 (EdDSA)")
    x = _octets(jwk, "x", where, 32)
    return {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}, _spki(_ED25519_ALGORITHM, x)


def _octets(jwk: dict[str, Any], name: str, where: str, length: int | None = None) -> bytes:
    """A member holding canonical base64url (RFC 7515 2) of ``length`` octets (any, when None)."""
    value = jwk.get(name)
    try:
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_MEMBER_LENGTH:
            raise InvalidBase64url("not a bounded string")
        raw = b64url_decode(value)
    except InvalidBase64url:
        raise InvalidClientKeys(f"{where} must have {name} in unpadded base64url") from None
    if length is not None and len(raw) != length:
        raise InvalidClientKeys(f"{where} must have {name} of {length} octets")
    return raw


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV (ITU-T X.690 8.1 and 10.1: definite length, in the fewest octets)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_uint(magnitude: bytes) -> bytes:
    """A DER INTEGER of a positive number given in minimal big-endian octets (a zero octet keeps it positive)."""
    return _der(0x02, b"\x00" + magnitude if magnitude[0] & 0x80 else magnitude)


def _spki(algorithm: bytes, public_key: bytes) -> bytes:
    """SubjectPublicKeyInfo (RFC 5280 4.1): the algorithm, then the key as a BIT STRING with no unused bits."""
    return _der(0x30, algorithm + _der(0x03, b"\x00" + public_key))


def _load(members: dict[str, str], der: bytes, where: str) -> PublicKey:
    """The key object, by :mod:`passport.keys.material`, which reads PEM and checks what our own keys are checked
    for (an EC point on its curve, the RSA size): the core imports no third-party package, so the JWK is written
    as the SubjectPublicKeyInfo that module loads, rather than read with ``cryptography`` here."""
    from passport.keys.material import KeyMaterialError, load_public

    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    try:
        return load_public(f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n")
    except KeyMaterialError:
        raise InvalidClientKeys(f"{where} is not a valid {members['kty']} public key") from None


# The assertion


def client_id_from_assertion(assertion: object) -> str | None:
    """The client an assertion says it comes from, unverified: its ``sub``, when its ``iss`` is the same string of
    1 to :data:`MAX_CLIENT_ID_LENGTH` characters (RFC 7523 3 points 1 and 2). For finding the client when the form
    has no ``client_id`` (RFC 7521 4.2); only :func:`verify_client_assertion` proves it. None for anything else,
    never an exception."""
    try:
        _, _, payload, _ = _segments(assertion)
        claims = _json_object(payload, "payload")
    except InvalidClientAssertion:
        return None
    sub = claims.get("sub")
    if isinstance(sub, str) and 0 < len(sub) <= MAX_CLIENT_ID_LENGTH and claims.get("iss") == sub:
        return sub
    return None


def assertion_kid(assertion: object) -> str | None:
    """The ``kid`` an assertion's header names (RFC 7515 4.1.4), unverified: for a key source that fetches a
    client's keys (``jwks_uri``) to tell a rotation (a ``kid`` it has not seen) from a key it holds. None when
    the header names none or cannot be read, never an exception."""
    try:
        _, header, _, _ = _segments(assertion)
        kid = _json_object(header, "header").get("kid")
    except InvalidClientAssertion:
        return None
    return kid if isinstance(kid, str) and 0 < len(kid) <= MAX_KID_LENGTH else None


def verify_client_assertion(
    assertion: object,
    *,
    client_id: str | None,
    keys: ClientKeys,
    audiences: tuple[str, ...],
    now: int,
    max_lifetime_seconds: int = 300,
    leeway_seconds: int = 5,
    single_audience: bool = False,
) -> VerifiedAssertion:
    """Verify a ``client_assertion`` (RFC 7523 3, OpenID Connect Core 1.0 section 9) against the registered
    ``keys`` of the client it is for, or raise :class:`InvalidClientAssertion` naming the failed check. Nothing else
    escapes for anything a client can send.

    ``client_id`` is the form's, or None when the form has none (RFC 7521 4.2). ``keys`` are those of the client
    named by ``client_id``, or by :func:`client_id_from_assertion` when it is None; the caller takes the client
    as :attr:`VerifiedAssertion.client_id`. ``audiences``: the issuer identifier and the token endpoint URL (the
    module's docstring says why both).

    1. A compact JWS (RFC 7515 7.1) of at most :data:`MAX_ASSERTION_LENGTH` characters, each segment canonical
       base64url; the header a JSON object with ``alg`` in :data:`ALGORITHMS`, an accepted ``typ`` or none, no
       ``crit`` or ``b64`` (RFC 7515 4.1.11, RFC 7797: no extension is understood here), ``kid`` a string if any.
    2. The signature, by a registered key chosen as the module's docstring says (RFC 7523 3 point 9).
    3. The claims, a JSON object: ``iss`` and ``sub`` the same client_id, and the form's when it sent one (RFC 7523
       3 points 1 and 2, RFC 7521 4.2); ``aud`` holds one of ``audiences`` (point 3); ``exp`` required, not
       passed, at most ``max_lifetime_seconds`` after ``iat``, or after ``now`` when there is no ``iat`` (point
       4); ``nbf`` and ``iat``, when present, not in the future (points 5 and 6); ``jti`` required, 1 to
       :data:`MAX_JTI_LENGTH` characters (point 7). Times are NumericDates (RFC 7519 2) compared in whole
       seconds, with ``leeway_seconds`` for clock skew.

    ``single_audience``: ``aud`` must be one string (FAPI 2.0; the caller then names the issuer alone).

    Replay is the caller's: spend :attr:`VerifiedAssertion.jti` once, deployment-wide, until
    :attr:`VerifiedAssertion.expires_at` (:func:`spend_once`)."""
    if isinstance(audiences, str) or not audiences:  # a string would match its own substrings
        raise ValueError("name the audiences, as a tuple: the issuer identifier and the token endpoint URL")
    signing_input, header_octets, payload, signature = _segments(assertion)
    header = _json_object(header_octets, "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise InvalidClientAssertion(
            f"the client assertion's alg must be an asymmetric signature: one of {', '.join(ALGORITHMS)}")
    _check_type(header)
    if "crit" in header or "b64" in header:
        raise InvalidClientAssertion("the client assertion uses a JWS extension (crit or b64) this server refuses")
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):
        raise InvalidClientAssertion("the client assertion's kid is not a string")
    from passport.keys import jwa

    key = next((candidate for candidate in _candidates(keys, alg, kid)
                if jwa.verify(alg, signing_input, candidate.key, signature)), None)
    if key is None:
        raise InvalidClientAssertion("the client assertion's signature does not verify with the client's keys")
    claims = _json_object(payload, "payload")
    subject = _check_client(claims, client_id)
    _check_audience(claims, audiences, single_audience)
    exp = _check_times(claims, now, max_lifetime_seconds, leeway_seconds)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidClientAssertion(f"the client assertion needs a jti of 1 to {MAX_JTI_LENGTH} characters")
    return VerifiedAssertion(subject, jti, exp + leeway_seconds, key.kid, alg)


def _check_type(header: dict[str, Any]) -> None:
    """``typ``: absent, ``JWT`` or ``client-authentication+jwt`` (the module's docstring says why)."""
    if "typ" not in header:
        return
    typ = header["typ"]
    media = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
    if media not in ASSERTION_TYPES:
        raise InvalidClientAssertion("the client assertion's typ must be JWT or client-authentication+jwt")


def _candidates(keys: ClientKeys, alg: str, kid: str | None) -> list[ClientKey]:
    """The registered keys to try, in order (the module's docstring says how they are chosen)."""
    if kid is not None:
        named = [key for key in keys.keys if key.kid == kid]
        if named:
            if alg not in named[0].algorithms:
                raise InvalidClientAssertion("the key the client assertion's kid names is not a key for its alg")
            return named
        candidates = [key for key in keys.keys if key.kid is None and alg in key.algorithms]
        if not candidates:
            raise InvalidClientAssertion("the client assertion's kid names none of the client's keys")
    else:
        candidates = [key for key in keys.keys if alg in key.algorithms]
        if not candidates:
            raise InvalidClientAssertion("the client has registered no key for the client assertion's alg")
    if len(candidates) > MAX_KEYS_TRIED:
        raise InvalidClientAssertion("the client has several keys for this alg: the client assertion must name "
                                     "its key with kid")
    return candidates


def _check_client(claims: dict[str, Any], client_id: str | None) -> str:
    """RFC 7523 3 points 1 and 2, OpenID Connect Core 1.0 section 9: ``iss`` and ``sub`` are both the client_id;
    RFC 7521 4.2: a ``client_id`` in the form names the same client."""
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not iss:
        raise InvalidClientAssertion("the client assertion has no iss")
    if not isinstance(sub, str) or not sub:
        raise InvalidClientAssertion("the client assertion has no sub")
    if len(sub) > MAX_CLIENT_ID_LENGTH:
        raise InvalidClientAssertion(f"the client assertion's sub is longer than {MAX_CLIENT_ID_LENGTH} characters")
    if iss != sub:
        raise InvalidClientAssertion("the client assertion's iss and sub differ: both must be the client_id")
    if client_id is not None and sub != client_id:
        raise InvalidClientAssertion("the client assertion's sub is not the client_id of the request")
    return sub


def _check_audience(claims: dict[str, Any], audiences: tuple[str, ...], single: bool = False) -> None:
    """RFC 7523 3 point 3 and RFC 7519 4.1.3: one string or an array of strings, holding one of ``audiences``;
    ``single``: one string only (the FAPI 2.0 Security Profile 5.3.2.1: the issuer identifier "as a string", so
    that an assertion made for another server cannot be replayed here, the audience injection attack)."""
    aud = claims.get("aud")
    if single and not isinstance(aud, str):
        raise InvalidClientAssertion("the client assertion's aud must be the issuer identifier, as a string")
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
        raise InvalidClientAssertion("the client assertion's aud must be a string or an array of strings")
    if not any(value in audiences for value in values):
        raise InvalidClientAssertion("the client assertion's aud names neither this server's issuer nor its "
                                     "token endpoint")


def _check_times(claims: dict[str, Any], now: int, max_lifetime: int, leeway: int) -> int:
    """RFC 7523 3 points 4 to 6: the assertion's ``exp``, once it is current and short-lived."""
    exp, nbf, iat = (_numeric_date(claims, name) for name in ("exp", "nbf", "iat"))
    if exp is None:
        raise InvalidClientAssertion("the client assertion has no exp")
    if exp <= now - leeway:
        raise InvalidClientAssertion("the client assertion has expired")
    if nbf is not None and nbf > now + leeway:
        raise InvalidClientAssertion("the client assertion is not valid yet (nbf)")
    if iat is not None and iat > now + leeway:
        raise InvalidClientAssertion("the client assertion's iat is in the future")
    # With iat both times are the client's, so no skew between clocks; without it, exp is measured against ours.
    lifetime = exp - iat if iat is not None else exp - now - leeway
    if lifetime > max_lifetime:
        raise InvalidClientAssertion(f"the client assertion lives longer than {max_lifetime} seconds (exp)")
    return exp


def _numeric_date(claims: dict[str, Any], name: str) -> int | None:
    """A NumericDate (RFC 7519 2), in whole seconds: a finite number, never a boolean, a string or null."""
    if name not in claims:
        return None
    value = claims[name]
    # A float may be inf (JSON's 1e400); an int is any size, which math.isfinite would overflow converting.
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise InvalidClientAssertion(f"the client assertion's {name} is not a NumericDate")
    return int(value)


# JWS parsing, to the rules of passport.jose_text (as passport.jws): an assertion has one spelling


def _segments(assertion: object) -> tuple[bytes, bytes, bytes, bytes]:
    """The signing input, and the octets of the header, payload and signature, of a compact JWS (RFC 7515 7.1 and
    5.2) of at most :data:`MAX_ASSERTION_LENGTH` characters, each segment canonical base64url."""
    if not isinstance(assertion, str) or len(assertion) > MAX_ASSERTION_LENGTH or not COMPACT.fullmatch(assertion):
        raise InvalidClientAssertion("the client assertion is not a compact JWS in base64url")
    header, payload, signature = assertion.split(".")
    try:
        octets = decode_segment(header), decode_segment(payload), decode_segment(signature)
    except InvalidBase64url:
        raise InvalidClientAssertion("the client assertion is not in canonical base64url") from None
    return f"{header}.{payload}".encode("ascii"), *octets


def _json_object(octets: bytes, what: str) -> dict[str, Any]:
    """A segment's JSON object, as :func:`passport.jose_text.json_object` reads it (RFC 7515 4, RFC 7519 7.2 step
    10: no repeated member either)."""
    try:
        return json_object(octets)
    except InvalidJson:
        raise InvalidClientAssertion(f"the client assertion's {what} is not a JSON object") from None
