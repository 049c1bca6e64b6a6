"""DPoP proofs (RFC 9449): checking a proof, key thumbprints, stateless server nonces and the replay port.

The pieces the token endpoint, the guard and storage will share, without I/O:

- :func:`verify_proof`: RFC 9449 4.3 "Checking DPoP Proofs", every point, and the :class:`DpopProof` it returns
  (the key's RFC 7638 thumbprint ``jkt``, which a bound token carries as ``cnf.jkt``, RFC 9449 6.1);
- :func:`normalized_htu`: the form in which ``htu`` and the request's URI are compared (RFC 9449 4.3 point 9);
- :func:`jwk_thumbprint` (RFC 7638 3) and :func:`access_token_hash` (``ath``, RFC 9449 4.2);
- :class:`DpopNonces`: server nonces (RFC 9449 8 and 9) that any Lambda container can check without storage;
- :class:`ProofReplay`: the port through which a proof's ``jti`` is spent once (RFC 9449 11.1), and
  :func:`replay_key`, :func:`spend_once`;
- :class:`InvalidDpopProof` and :class:`UseDpopNonce`, and how each surface answers them: the token endpoint 400
  (RFC 9449 5, 8), a resource server 401 with a ``DPoP`` challenge (RFC 9449 7.1, 8).

What a proof must be, beyond RFC 9449's own points, so that one proof has one reading and hostile input stops at
the first check:

- compact serialization only (RFC 7515 7.1): three segments of canonical base64url (RFC 4648 3.5, 5), at most
  :data:`MAX_PROOF_LENGTH` characters. A value holding a comma is refused like any other malformed one, which
  covers point 1 ("not more than one DPoP header field") wherever repeated fields are joined with commas, as
  :meth:`passport.core.http.Headers.of_fields` joins them (RFC 9110 5.3);
- header and payload JSON objects in UTF-8, without ``NaN`` or ``Infinity`` and without a repeated member name
  (RFC 7515 4 lets a parser refuse duplicates; taking the last one would let two parsers read two proofs);
- ``typ`` exactly ``dpop+jwt`` (RFC 9449 4.2); ``alg`` one of the allow-list, all asymmetric
  (:data:`DPOP_ALGORITHMS`: what :mod:`passport.keys.jwa` verifies); no ``crit`` or ``b64`` (RFC 7515 4.1.11,
  RFC 7797: no extension is understood); the key is the ``jwk`` and nothing else, so a header naming a key by
  reference (``kid``, ``jku``, ``x5u``, ``x5c``, ``x5t``, ``x5t#S256``) is refused;
- the ``jwk`` (RFC 7517, RFC 7518 6, RFC 8037 2) holds a public key only, of the type ``alg`` needs: for ES256 an
  EC P-256 point on the curve, coordinates at full size (RFC 7518 6.2.1.2); for RS256 an RSA key of 2048 to 4096
  bits, ``n`` and ``e`` in their minimal octets (RFC 7518 2, Base64urlUInt), ``e`` odd and below 2**256; for
  EdDSA an Ed25519 key of 32 octets. So a key has one spelling and one thumbprint. An ``alg``, ``use`` or
  ``key_ops`` member, when present, must agree with the header (RFC 7517 4.2 to 4.4).

The guard will import this module, so it imports nothing that :mod:`passport.jws` does not already load but
``hmac`` (the nonces): ``cryptography``'s key classes are those :mod:`passport.keys.jwa` imports. Unlike the rest
of ``core/`` (docs/architecture.md, "What each seam may import"), it names ``cryptography`` itself: a proof
carries its own key, which must become a key object where the proof is checked. The base64url and JSON rules
are :mod:`passport.jose_text`'s, shared with :mod:`passport.jws` and :mod:`passport.core.client_assertions`; the
``jwk`` is read here, by the rules above, which are not quite those client assertions hold a registered JWK to
(docs/architecture.md, "What each seam may import", says where they differ).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from passport.core.errors import OAuthError, PassportError
from passport.core.hashing import scoped_digest
from passport.jose_text import (
    COMPACT,
    DuplicateMember,
    InvalidBase64url,
    InvalidJson,
    b64url_decode,
    b64url_encode,
    decode_segment,
    json_object,
)
from passport.keys import jwa
from passport.keys.material import PublicKey

#: The JWS algorithms a proof may be signed with, in order of preference (RFC 9449 5.1:
#: ``dpop_signing_alg_values_supported``): every asymmetric algorithm :mod:`passport.keys.jwa` verifies, and only
#: those; never ``none``, never an HMAC (RFC 9449 4.3 point 5).
DPOP_ALGORITHMS: tuple[str, ...] = ("ES256", "RS256", "EdDSA")
#: Far beyond a proof with an RSA-4096 key (about 1.6 KB), far below API Gateway's header limits.
MAX_PROOF_LENGTH = 8 * 1024
#: RFC 9449 4.2 asks for at least 96 bits of randomness (16 base64url characters); RFC 9449 11.1 lets a server
#: refuse "unnecessarily large jti values", which a replay store would otherwise have to keep.
MAX_JTI_LENGTH = 256
#: RFC 9449 4.3 point 11: how old a proof may be, and how far in the future its ``iat`` may lie (clock skew).
DEFAULT_MAX_AGE_SECONDS = 300
DEFAULT_LEEWAY_SECONDS = 5

#: The key type each algorithm needs (RFC 7518 3.3 and 3.4, RFC 8037 3.1).
_KEY_TYPES = {"ES256": "EC", "RS256": "RSA", "EdDSA": "OKP"}
#: RFC 7638 3.2: the required members of each key type, in lexicographic order.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
#: RFC 7518 6.2.2, 6.3.2 and 6.4, RFC 8037 2: members that only a private or symmetric key has.
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: RFC 7515 4.1.2 to 4.1.8: header parameters that name a key elsewhere; a proof's key is its ``jwk``.
_KEY_REFERENCES = ("kid", "jku", "x5u", "x5c", "x5t", "x5t#S256")
_P256_OCTETS = 32
_ED25519_OCTETS = 32
_RSA_BITS = (2048, 4096)
_RSA_MAX_EXPONENT = 2**256  # FIPS 186-4 B.3.1's upper bound; a larger one only makes each check slower

#: RFC 3986 3 and RFC 9110 4.2: an http(s) URI with an authority; query and fragment split off unread.
_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(?:[?#].*)?", re.DOTALL)
#: RFC 3986 3.2.2: reg-name (unreserved, pct-encoded, sub-delims), and an IP literal (hex digits, colons, dots).
_REG_NAME = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+")
_IP_LITERAL = re.compile(r"\[[0-9A-Fa-f:.]+\]")
#: RFC 3986 3.3: path-abempty, segments of pchar.
_PATH = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: RFC 9449 9: nonces are unpredictable; an HMAC keyed with the server's secret over the window's number is. The
#: label keeps these MACs apart from any other use of the same secret.
_NONCE_LABEL = b"passport DPoP-Nonce v1\x00"
_NONCE_LENGTH = 43  # base64url of a 32-octet HMAC-SHA256, unpadded
_MIN_NONCE_SECRET = 32


class InvalidDpopProof(PassportError):
    """A proof that fails a check of RFC 9449 4.3. ``description`` says which check, in words of this module's
    own: it never repeats what the proof or the access token carries, so it can go to the client and the log.
    ``nonce``, when set, is a nonce to give the client in ``DPoP-Nonce`` (RFC 9449 8.2)."""

    #: The error code (RFC 9449 5 at the token endpoint, 7.1 at a resource server).
    error: ClassVar[str] = "invalid_dpop_proof"

    def __init__(self, description: str, *, nonce: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.nonce = nonce

    def __str__(self) -> str:
        return f"{self.error}: {self.description}"

    def _nonce_header(self) -> dict[str, str]:
        return {"DPoP-Nonce": self.nonce} if self.nonce is not None else {}

    def oauth_error(self) -> OAuthError:
        """The token endpoint's answer: 400 with the error code (RFC 9449 5 and 8), and ``DPoP-Nonce`` when a
        nonce is known."""
        return OAuthError(self.error, self.description, status=400, headers=self._nonce_header())

    def challenge(self, algorithms: tuple[str, ...] = DPOP_ALGORITHMS) -> dict[str, str]:
        """A resource server's headers for its 401 (RFC 9449 7.1 and 8): the ``DPoP`` challenge with the error,
        its description and the algorithms accepted (``algs``), and ``DPoP-Nonce`` when a nonce is known."""
        challenge = (f'DPoP error="{self.error}", error_description="{_quoted(self.description)}", '
                     f'algs="{" ".join(algorithms)}"')
        return {"WWW-Authenticate": challenge, **self._nonce_header()}


class UseDpopNonce(InvalidDpopProof):
    """The proof lacks the server's nonce, or carries a stale one (RFC 9449 8): the client retries with the nonce
    of ``DPoP-Nonce``. A subclass, so that whoever refuses every bad proof alike refuses this one too."""

    error: ClassVar[str] = "use_dpop_nonce"


def invalid_dpop_proof(description: str) -> OAuthError:
    """The token endpoint's refusal of a proof (RFC 9449 5): 400 ``invalid_dpop_proof``."""
    return InvalidDpopProof(description).oauth_error()


def use_dpop_nonce(nonce: str, description: str = "A DPoP proof with the server's nonce is required.") -> OAuthError:
    """The token endpoint's request for a nonce (RFC 9449 8): 400 ``use_dpop_nonce`` with ``DPoP-Nonce``."""
    return UseDpopNonce(description, nonce=nonce).oauth_error()


def _quoted(text: str) -> str:
    """``text`` as the inside of an RFC 9110 5.6.4 quoted-string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class DpopProof:
    """A proof that passed every check of :func:`verify_proof`."""

    #: RFC 7638 thumbprint of the proof's public key (base64url SHA-256): what ``cnf.jkt`` binds (RFC 9449 6.1).
    jkt: str
    jti: str
    #: ``iat`` in whole seconds (a fractional NumericDate is truncated; the window was checked on the exact value).
    iat: int
    htm: str
    #: The ``htu`` claim in its :func:`normalized_htu` form, which equalled the request's.
    htu: str
    alg: str
    #: The first second at which the proof fails the age check anyway (``iat`` + max age, exclusive): how long a
    #: replay store must remember its ``jti`` (RFC 9449 11.1).
    expires_at: int


def _json_object(segment: str, what: str) -> dict[str, Any]:
    """A segment's JSON object as :func:`passport.jose_text.json_object` reads it (RFC 7515 4, RFC 7519 7.2 step
    10), of canonical base64url, or this module's refusal."""
    try:
        return json_object(decode_segment(segment))
    except DuplicateMember:
        raise InvalidDpopProof(f"The DPoP proof's {what} repeats a member name.") from None
    except (InvalidBase64url, InvalidJson):
        raise InvalidDpopProof(f"The DPoP proof's {what} is not a JSON object.") from None


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint of an EC, RSA or OKP key (RFC 7638 3, RFC 8037 2): base64url of the SHA-256 of the
    JSON object of its required members only, in lexicographic order, without whitespace, in UTF-8.

    The members are hashed as spelt: RFC 7638 3.3 relies on their one canonical form, which :func:`verify_proof`
    insists on before it calls this. ValueError for another key type or a required member that is not a string."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise ValueError("a thumbprint needs an EC, RSA or OKP key")
    required = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"the key's {name} is missing or not a string")
        required[name] = value
    canonical = json.dumps(required, separators=(",", ":"), ensure_ascii=False)  # members already in order
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(access_token: str) -> str:
    """``ath`` (RFC 9449 4.2): base64url, unpadded, of the SHA-256 of the access token's ASCII octets.
    ValueError for a token that is not ASCII (RFC 6750 2.1's b64token, RFC 9449 7.1's token68, are)."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def _octets(jwk: Mapping[str, Any], name: str) -> bytes:
    try:
        return b64url_decode(jwk.get(name))
    except InvalidBase64url:
        raise InvalidDpopProof(f"The DPoP proof's jwk member {name} is not canonical base64url.") from None


def _unsigned(jwk: Mapping[str, Any], name: str) -> int:
    """A Base64urlUInt (RFC 7518 2) in its minimal octets: one spelling per value, so one thumbprint per key."""
    raw = _octets(jwk, name)
    if not raw or raw[0] == 0:
        raise InvalidDpopProof(f"The DPoP proof's jwk member {name} is not a minimal unsigned integer.")
    return int.from_bytes(raw, "big")


def _public_key(jwk: object, alg: str) -> PublicKey:
    """The public key of a proof's ``jwk`` for ``alg`` (RFC 9449 4.3 points 5 to 7), or InvalidDpopProof."""
    if not isinstance(jwk, dict):
        raise InvalidDpopProof("The DPoP proof's header has no jwk object.")
    # RFC 9449 4.3 point 7 (and 4.2: "MUST NOT contain a private key"); k is a symmetric key's secret.
    if any(name in jwk for name in _PRIVATE_MEMBERS):
        raise InvalidDpopProof("The DPoP proof's jwk holds private key material.")
    kty = jwk.get("kty")
    if kty != _KEY_TYPES[alg]:
        raise InvalidDpopProof("The DPoP proof's jwk is not a key of the type its alg needs.")
    if "alg" in jwk and jwk["alg"] != alg:  # RFC 7517 4.4: the key's own algorithm
        raise InvalidDpopProof("The DPoP proof's jwk is meant for another algorithm.")
    if "use" in jwk and jwk["use"] != "sig":  # RFC 7517 4.2
        raise InvalidDpopProof("The DPoP proof's jwk is not a signature key.")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):  # RFC 7517 4.3
        raise InvalidDpopProof("The DPoP proof's jwk may not verify signatures.")
    try:
        if kty == "EC":
            if jwk.get("crv") != "P-256":  # RFC 7518 3.4: ES256 is ECDSA on P-256 only
                raise InvalidDpopProof("The DPoP proof's jwk is not on the curve its alg needs.")
            x, y = _octets(jwk, "x"), _octets(jwk, "y")
            if len(x) != _P256_OCTETS or len(y) != _P256_OCTETS:  # RFC 7518 6.2.1.2 and 6.2.1.3: full size
                raise InvalidDpopProof("The DPoP proof's jwk coordinates are not P-256 coordinates.")
            # Raises ValueError for a point off the curve, which no signature should be checked against.
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        if kty == "RSA":
            n, e = _unsigned(jwk, "n"), _unsigned(jwk, "e")
            if not _RSA_BITS[0] <= n.bit_length() <= _RSA_BITS[1]:
                raise InvalidDpopProof("The DPoP proof's RSA key is not 2048 to 4096 bits long.")
            if e >= _RSA_MAX_EXPONENT:
                raise InvalidDpopProof("The DPoP proof's RSA exponent is too large.")
            return rsa.RSAPublicNumbers(e, n).public_key()  # ValueError for an even or tiny exponent
        if jwk.get("crv") != "Ed25519":  # RFC 8037 3.1: EdDSA also names Ed448, which this server does not verify
            raise InvalidDpopProof("The DPoP proof's jwk is not on the curve its alg needs.")
        x = _octets(jwk, "x")
        if len(x) != _ED25519_OCTETS:
            raise InvalidDpopProof("The DPoP proof's jwk is not an Ed25519 public key.")
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    except ValueError:
        raise InvalidDpopProof("The DPoP proof's jwk is not a valid public key.") from None


def _header_algorithm(header: Mapping[str, Any], algorithms: tuple[str, ...]) -> str:
    """RFC 9449 4.3 points 4 and 5, and the header rules of the module's docstring."""
    if header.get("typ") != "dpop+jwt":
        raise InvalidDpopProof("The DPoP proof's typ is not dpop+jwt.")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise InvalidDpopProof("The DPoP proof's alg is not an accepted asymmetric algorithm.")
    if "crit" in header or "b64" in header:
        raise InvalidDpopProof("The DPoP proof's header uses an extension this server does not understand.")
    if any(name in header for name in _KEY_REFERENCES):
        raise InvalidDpopProof("The DPoP proof's header names a key by reference; its key must be its jwk.")
    return alg


def _string_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        raise InvalidDpopProof(f"The DPoP proof has no {name} claim.")
    if not isinstance(value, str):
        raise InvalidDpopProof(f"The DPoP proof's {name} claim is not a string.")
    return value


def _iat(claims: Mapping[str, Any]) -> int | float:
    """A finite NumericDate (RFC 7519 2): never null, a boolean, a string or an overflowing number."""
    value = claims.get("iat")
    if value is None:
        raise InvalidDpopProof("The DPoP proof has no iat claim.")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidDpopProof("The DPoP proof's iat claim is not a NumericDate.")
    return value


def _same_text(a: str, b: str) -> bool:
    """Constant-time equality of two strings, whatever they hold (``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    now: int | float,
    access_token: str | None = None,
    nonce: str | None = None,
    nonces: DpopNonces | None = None,
    bound_jkt: str | None = None,
    algorithms: tuple[str, ...] = DPOP_ALGORITHMS,
    max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> DpopProof:
    """The proof of a request, checked as RFC 9449 4.3 lists, or :class:`InvalidDpopProof`.

    ``method`` and ``url`` are the request's (``url`` as the client addressed it: the scheme, the host it named,
    the path as sent; its query and fragment are ignored). ``now`` is the server's time in seconds.

    - ``access_token``: the token presented with the proof at a resource server; ``ath`` must be its hash
      (point 12). ``bound_jkt``: that token's ``cnf.jkt``; the proof's key must be that key (point 12, RFC 9449
      6.1).
    - ``nonce``: the one nonce the server gave this client, or ``nonces``: the server's :class:`DpopNonces`, whose
      current or previous nonce the proof must carry (point 10). A proof without it, or with another, raises
      :class:`UseDpopNonce`, carrying the nonce to send (``nonce``, or ``nonces``' current one). Give at most one.
    - ``algorithms``: the allow-list, a subset of :data:`DPOP_ALGORITHMS` (ValueError otherwise: a deployment's
      error, not a client's).
    - ``iat`` must lie in [now - ``max_age_seconds``, now + ``leeway_seconds``] (point 11, RFC 9449 11.1).

    Nothing but :class:`InvalidDpopProof` escapes for anything a client can send. ``url`` is the server's own and
    a malformed one raises :func:`normalized_htu`'s ValueError. Replay (RFC 9449 11.1) is the caller's next step:
    :func:`spend_once` with the returned proof.
    """
    for alg in algorithms:
        if alg not in _KEY_TYPES:
            raise ValueError(f"{alg!r} is not an algorithm DPoP proofs are checked with here")
    if nonce is not None and nonces is not None:
        raise ValueError("give the expected nonce or the server's nonces, not both")
    target = normalized_htu(url)

    # Points 1 and 2: one well-formed JWT, in the compact serialization (RFC 7515 7.1).
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH or not COMPACT.fullmatch(proof):
        raise InvalidDpopProof("The DPoP header is not one compact JWS.")
    header_segment, payload_segment, signature_segment = proof.split(".")
    header = _json_object(header_segment, "header")
    alg = _header_algorithm(header, algorithms)  # points 4 and 5
    jwk = header.get("jwk")
    key = _public_key(jwk, alg)  # point 7, and the key alg needs

    # Point 6 (RFC 7515 5.2 step 8), before anything of the payload is read.
    try:
        signature = decode_segment(signature_segment)
    except InvalidBase64url:
        raise InvalidDpopProof("The DPoP proof's signature is not canonical base64url.") from None
    signing_input = proof[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    if not jwa.verify(alg, signing_input, key, signature):
        raise InvalidDpopProof("The DPoP proof's signature does not verify with its jwk.")

    # Point 3: the claims RFC 9449 4.2 requires, of their types.
    claims = _json_object(payload_segment, "payload")
    jti = _string_claim(claims, "jti")
    if not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidDpopProof(f"The DPoP proof's jti is empty or longer than {MAX_JTI_LENGTH} characters.")
    htm = _string_claim(claims, "htm")
    htu = _string_claim(claims, "htu")
    iat = _iat(claims)

    # Point 8: methods are case-sensitive (RFC 9110 9.1).
    if htm != method:
        raise InvalidDpopProof("The DPoP proof's htm is not this request's method.")
    # Point 9, compared in normalized form.
    try:
        claimed = normalized_htu(htu)
    except ValueError:
        raise InvalidDpopProof("The DPoP proof's htu is not an absolute http or https URI.") from None
    if claimed != target:
        raise InvalidDpopProof("The DPoP proof's htu is not this request's URI.")
    # Point 11.
    if iat < now - max_age_seconds:
        raise InvalidDpopProof("The DPoP proof is too old.")
    if iat > now + leeway_seconds:
        raise InvalidDpopProof("The DPoP proof's iat is in the future.")
    # Point 12.
    if access_token is not None:
        ath = claims.get("ath")
        if ath is None:
            raise InvalidDpopProof("The DPoP proof has no ath claim for the access token.")
        try:
            expected_ath = access_token_hash(access_token)
        except ValueError:
            raise InvalidDpopProof("The access token cannot be hashed for ath: it is not ASCII.") from None
        if ath != expected_ath:
            raise InvalidDpopProof("The DPoP proof's ath is not the hash of the access token.")
    jkt = jwk_thumbprint(jwk)  # type: ignore[arg-type]  # a dict, checked by _public_key
    if bound_jkt is not None and not _same_text(jkt, bound_jkt):
        raise InvalidDpopProof("The DPoP proof's key is not the key the access token is bound to.")
    # Point 10 last: a client asked for a nonce should find that nothing else is wrong once it sends one.
    if nonce is not None or nonces is not None:
        claimed_nonce = claims.get("nonce")
        fresh = nonce if nonce is not None else nonces.current(now)  # type: ignore[union-attr]
        if not isinstance(claimed_nonce, str):
            raise UseDpopNonce("The DPoP proof has no nonce; use the server's.", nonce=fresh)
        accepted = _same_text(claimed_nonce, nonce) if nonce is not None else nonces.valid(claimed_nonce, now)  # type: ignore[union-attr]
        if not accepted:
            raise UseDpopNonce("The DPoP proof's nonce is not the server's current one.", nonce=fresh)
    return DpopProof(jkt=jkt, jti=jti, iat=int(iat), htm=htm, htu=claimed, alg=alg,
                     expires_at=math.floor(iat) + max_age_seconds + 1)


def _percent_normalized(text: str, *, lower: bool = False) -> str:
    """RFC 3986 6.2.2.1 and 6.2.2.2: an encoded unreserved character decoded, every other triplet in upper-case
    hex; ``lower`` also lower-cases the rest (a host, whose case does not matter)."""
    if lower:
        text = text.lower()

    def triplet(match: re.Match[str]) -> str:
        character = chr(int(match.group(1), 16))
        if character in _UNRESERVED:
            return character.lower() if lower else character
        return "%" + match.group(1).upper()

    return _PERCENT.sub(triplet, text) if "%" in text else text


def _without_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 on an absolute path: ``.`` and ``..`` segments resolved, a trailing one leaving its slash."""
    segments = path.split("/")[1:]
    if "." not in segments and ".." not in segments:
        return path
    kept: list[str] = []
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and kept:
                kept.pop()
            if last:
                kept.append("")
            continue
        kept.append(segment)
    return "/" + "/".join(kept)


def normalized_htu(url: str) -> str:
    """The form in which RFC 9449 4.3 point 9 compares ``htu`` with the request's URI, or ValueError.

    The URI must be an absolute ``http`` or ``https`` URI with a host (RFC 9110 4.2.1, 4.2.2), in visible ASCII
    (RFC 3986 2), and without userinfo (RFC 9110 4.2.4 deprecates it and asks a recipient to treat it as an error).
    Its query and fragment are dropped (RFC 9449 4.2 and 4.3 point 9). Then, as RFC 9449 4.3 asks:

    - syntax-based normalization (RFC 3986 6.2.2): the scheme and the host in lower case (6.2.2.1);
      percent-encoded unreserved characters decoded (``%7E`` is ``~``) and every other triplet's hex digits in
      upper case (``%2f`` is ``%2F``) (6.2.2.1, 6.2.2.2); ``.`` and ``..`` path segments removed (6.2.2.3);
    - scheme-based normalization (RFC 3986 6.2.3): an empty or default port (80 for http, 443 for https) left
      out; any other port written as its number (``08443`` is ``8443``); an empty path written ``/``.

    Nothing else: the path keeps its case, its empty segments and its trailing slash; reserved characters stay
    encoded (``%2F`` is not ``/``); a host is not converted between Unicode and Punycode, keeps a trailing dot,
    and an IP literal is compared as written (lower-cased)."""
    # RFC 3986 2: a URI is visible US-ASCII: no space, no control character (DEL is not printable either).
    if not isinstance(url, str) or not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError("not a URI in visible ASCII")
    parts = _URI.fullmatch(url)
    if parts is None:
        raise ValueError("not an absolute URI with an authority")
    scheme, authority, path = parts.group(1).lower(), parts.group(2), parts.group(3)
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("not an http or https URI")
    if "@" in authority:
        raise ValueError("userinfo in an http URI")
    if authority.startswith("["):
        end = authority.find("]") + 1
        host, port = authority[:end], authority[end:]
        if not _IP_LITERAL.fullmatch(host) or (port and not port.startswith(":")):
            raise ValueError("not an IP literal")
        host, port = host.lower(), port[1:]
    else:
        host, _, port = authority.partition(":")
        if not _REG_NAME.fullmatch(host):
            raise ValueError("no host, or a host with characters a host cannot have")
        host = _percent_normalized(host, lower=True)
    if port and (not port.isdigit() or int(port) > 65535):  # ASCII digits: the URI is ASCII
        raise ValueError("not a port")
    if not _PATH.fullmatch(path):
        raise ValueError("a path with characters a path cannot have")
    netloc = host if not port or int(port) == _DEFAULT_PORTS[scheme] else f"{host}:{int(port)}"
    return f"{scheme}://{netloc}{_without_dot_segments(_percent_normalized(path)) or '/'}"


class DpopNonces:
    """Server nonces without storage (RFC 9449 8 and 9): the nonce of a time window is an HMAC-SHA256, under the
    server's secret, of the window's number, so every container holding the secret makes and checks the same
    nonces. A nonce is accepted in its own window and the next, so one handed out just before a window ends still
    serves for a whole window; a container whose clock runs behind the issuer's by the time left in the window
    asks the client for a nonce once more (RFC 9449 8.2 lets a server do so at any time)."""

    def __init__(self, secret: bytes, *, window_seconds: int = 300) -> None:
        if not isinstance(secret, bytes) or len(secret) < _MIN_NONCE_SECRET:
            raise ValueError(f"a nonce secret is at least {_MIN_NONCE_SECRET} random bytes")
        if window_seconds < 1:
            raise ValueError("a nonce window is at least a second")
        self._secret = secret
        self.window_seconds = window_seconds

    def _of_window(self, window: int) -> str:
        message = _NONCE_LABEL + window.to_bytes(8, "big", signed=True)
        return b64url_encode(hmac.digest(self._secret, message, "sha256"))

    def current(self, now: int | float) -> str:
        """The nonce to give clients at ``now``: 43 base64url characters, within RFC 9449 8's NQCHAR."""
        return self._of_window(math.floor(now) // self.window_seconds)

    def valid(self, nonce: object, now: int | float) -> bool:
        """Whether ``nonce`` is the current window's or the previous one's, compared in constant time. False,
        never an exception, for whatever a client sends."""
        if not isinstance(nonce, str) or len(nonce) != _NONCE_LENGTH or not nonce.isascii():
            return False
        window = math.floor(now) // self.window_seconds
        current = hmac.compare_digest(nonce, self._of_window(window))
        previous = hmac.compare_digest(nonce, self._of_window(window - 1))
        return current | previous  # both compared, so the time taken does not say which matched


class ProofReplay(Protocol):
    """The port through which a proof is used once (RFC 9449 11.1).

    Containers do not share memory, and a replayed proof may reach any of them, so the store is global: in
    DynamoDB, a put conditional on the item's absence (``attribute_not_exists``), keyed by :func:`replay_key`,
    with ``expires_at`` as its TTL. A TTL deletes items late, never early, so an item past ``expires_at`` may
    still refuse a proof, which is then too old anyway."""

    def spend(self, jkt: str, jti: str, expires_at: int) -> bool:
        """Record the proof ``jti`` of the key ``jkt`` (or of another scope the caller chooses) until
        ``expires_at``: True the first time, False if it was already spent."""
        ...


def replay_key(jkt: str, jti: str) -> str:
    """The store's key for a proof: :func:`passport.core.hashing.scoped_digest` of the ``jti`` within its key's
    thumbprint; 43 characters whatever the ``jti`` holds (RFC 9449 11.1: "store only a hash")."""
    return scoped_digest(jkt, jti)


def spend_once(replay: ProofReplay, proof: DpopProof) -> None:
    """Spend ``proof``'s ``jti`` for its key, or :class:`InvalidDpopProof` if it was spent before (RFC 9449 11.1).
    A jti is scoped by its key, so one client cannot spend another's."""
    if not replay.spend(proof.jkt, proof.jti, proof.expires_at):
        raise InvalidDpopProof("The DPoP proof has been used before.")


class ProofChecker:
    """Checks a request's proof and spends it: what every place that accepts DPoP does (the token endpoint, the
    guard, the resource guard, userinfo), in RFC 9449 4.3's order, then 11.1's replay check last, so that only a
    proof that passed every other check is remembered.

    ``clock``: anything with ``now()`` in seconds. ``nonces``: the server's nonces, where this surface asks for
    them (RFC 9449 8 at the token endpoint, when ``[dpop] require_nonce`` is on)."""

    def __init__(
        self, replay: ProofReplay, clock: Any, *, max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        nonces: DpopNonces | None = None, algorithms: tuple[str, ...] = DPOP_ALGORITHMS,
    ) -> None:
        self._replay = replay
        self._clock = clock
        self._nonces = nonces
        self.max_age_seconds = max_age_seconds
        self.algorithms = algorithms

    def check(
        self, proof: str, *, method: str, url: str, access_token: str | None = None, bound_jkt: str | None = None,
    ) -> DpopProof:
        """The verified proof, its ``jti`` spent; :class:`InvalidDpopProof` (or :class:`UseDpopNonce`) else."""
        verified = self._verify(proof, method=method, url=url, access_token=access_token, bound_jkt=bound_jkt)
        spend_once(self._replay, verified)
        return verified

    def _verify(
        self, proof: str, *, method: str, url: str, access_token: str | None = None, bound_jkt: str | None = None,
    ) -> DpopProof:
        """:func:`verify_proof` with this checker's clock, nonces, algorithms and age."""
        return verify_proof(
            proof, method=method, url=url, now=self._clock.now(), access_token=access_token, nonces=self._nonces,
            bound_jkt=bound_jkt, algorithms=self.algorithms, max_age_seconds=self.max_age_seconds,
        )

    def at_endpoint(self, proof: str | None, *, method: str, url: str) -> DpopProof | None:
        """An authorization server endpoint's proof (the token endpoint, RFC 9449 5; the pushed authorization
        request endpoint, 10.1): None when the request sent none, else the proof checked but not yet spent, or the
        endpoint's refusal, 400 ``invalid_dpop_proof`` or ``use_dpop_nonce`` (:meth:`InvalidDpopProof.oauth_error`).

        The endpoint spends it (:meth:`spend_at_endpoint`) once the client has authenticated: a proof costs a
        write to storage, and anyone can sign one with a key of their own, so nobody who cannot authenticate as a
        client makes the endpoint write."""
        if proof is None:
            return None
        try:
            return self._verify(proof, method=method, url=url)
        except InvalidDpopProof as refused:
            raise refused.oauth_error() from None

    def spend_at_endpoint(self, proof: DpopProof | None) -> None:
        """Spend a proof :meth:`at_endpoint` checked (RFC 9449 11.1), or the endpoint's 400 ``invalid_dpop_proof``
        when it was spent before; nothing for no proof."""
        if proof is None:
            return
        try:
            spend_once(self._replay, proof)
        except InvalidDpopProof as refused:
            raise refused.oauth_error() from None

    def answer_headers(self) -> dict[str, str]:
        """``DPoP-Nonce`` with the next nonce, for every answer of an endpoint that asks for nonces (RFC 9449
        8.2); nothing without nonces."""
        nonce = self.fresh_nonce()
        return {} if nonce is None else {"DPoP-Nonce": nonce}

    def fresh_nonce(self) -> str | None:
        """The nonce to hand out with an answer (RFC 9449 8.2: ``DPoP-Nonce`` on any response), None without
        nonces."""
        return None if self._nonces is None else self._nonces.current(self._clock.now())
