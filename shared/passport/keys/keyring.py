"""Where keys come from, and the per-process key set built from them (docs/keys.md).

Sources, first match wins: ``PASSPORT_PRIVATE_KEY`` / ``PASSPORT_PUBLIC_KEY`` (PEM text, as Passport), a
Secrets Manager secret named by ``keys.secret_name``, key files under ``keys.path`` (``oauth-private.key``
and ``oauth-public.key``, as Passport's ``loadKeysFrom``; keys retired by a rotation in ``previous/``).

A key set is built once per process and kept: parsing a PEM costs 30 to 200 ms.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from passport.keys import jwa
from passport.keys.material import (
    KeyMaterialError,
    PrivateKey,
    VerificationKey,
    load_private,
    load_public,
)

PRIVATE_FILE = "oauth-private.key"
PUBLIC_FILE = "oauth-public.key"
PREVIOUS_DIR = "previous"


class KeysMissing(KeyMaterialError):
    """No key is configured or created yet."""


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


#: ``json.dumps(claims, separators=(",", ":"))``, with one encoder for every token (it keeps no state between calls).
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


class JwtSigner:
    """The current private key as a :class:`passport.ports.Signer`.

    A JWS in compact serialization (RFC 7515 3.1, 7.1): the header segment is the same for every token of one
    kind, so it is encoded once; the signature is the key's one algorithm (:mod:`passport.keys.jwa`, including
    ES256's raw r||s form, RFC 7518 3.4). The output is what ``jwt.encode`` gives for the same claims and
    headers, without its per-call plumbing (the header's JSON, a copy of the claims, date conversions)."""

    def __init__(self, key: PrivateKey) -> None:
        self.verification_key = VerificationKey.of(key.public_key())
        self.kid = self.verification_key.kid
        self.alg = self.verification_key.alg
        self._key = key
        self._header_segments: dict[tuple[tuple[str, str], ...], bytes] = {}

    def _header_segment(self, headers: Mapping[str, str]) -> bytes:
        kind = tuple(headers.items())
        segment = self._header_segments.get(kind)
        if segment is None:
            # As PyJWT writes it: typ defaults to JWT, keys sorted, no spaces.
            header = {"typ": "JWT", **headers, "alg": self.alg}
            segment = _b64(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
            self._header_segments[kind] = segment  # a handful of kinds: access tokens, ID tokens
        return segment

    def derived_secret(self, label: bytes) -> bytes:
        """32 bytes for ``label``'s use (HMAC-SHA256 of the label under the private key's PKCS #8 encoding): a
        secret every container holding this key shares without storing another, changing when the key rotates
        (DPoP nonces, RFC 9449 9)."""
        from cryptography.hazmat.primitives import serialization

        der = self._key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        return hmac.digest(der, label, "sha256")

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, str]) -> str:
        payload = _b64(_compact_json(claims).encode())
        signing_input = self._header_segment(headers) + b"." + payload
        return (signing_input + b"." + _b64(jwa.sign(self.alg, signing_input, self._key))).decode("ascii")


@dataclass(frozen=True)
class KeySet:
    """The published keys (current first, then those retired but still verifying) and, for signers, the
    current private key."""

    verification: dict[str, VerificationKey]
    signer: JwtSigner | None = None
    source: str = ""
    errors: tuple[str, ...] = field(default=())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.verification.values()]}

    def require_signer(self) -> JwtSigner:
        if self.signer is None:
            raise KeysMissing(f"no private key is available from {self.source or 'any source'}")
        return self.signer


def _pem_env(name: str, environ: Mapping[str, str]) -> str | None:
    value = environ.get(name)
    # Environment variables often carry a PEM with literal "\n" (Passport accepts the same).
    return value.replace("\\n", "\n") if value else None


def _build(
    private_pem: str | None, public_pems: list[str], need_private: bool, source: str, *, generated_here: bool = False
) -> KeySet:
    signer = None
    verification: dict[str, VerificationKey] = {}
    if private_pem and need_private:
        signer = JwtSigner(load_private(private_pem, generated_here=generated_here))
        verification[signer.kid] = signer.verification_key
    elif private_pem and not public_pems:
        # Only a private key is configured: publish its public half.
        only = VerificationKey.of(load_private(private_pem, generated_here=generated_here).public_key())
        verification[only.kid] = only
    for pem in public_pems:
        key = VerificationKey.of(load_public(pem))
        verification.setdefault(key.kid, key)
    if need_private and signer is None:
        raise KeysMissing(f"no private key in {source}")
    if not verification:
        raise KeysMissing(f"no key in {source}")
    return KeySet(verification, signer, source)


def load_from_files(path: Path, need_private: bool) -> KeySet:
    private_file, public_file = path / PRIVATE_FILE, path / PUBLIC_FILE
    if not private_file.exists() and not public_file.exists():
        raise KeysMissing(f"no keys in {path}; run `passport keys` (make serve creates them)")
    private = private_file.read_text() if need_private and private_file.exists() else None
    publics = [public_file.read_text()] if public_file.exists() else []
    if not publics and private_file.exists():
        private = private_file.read_text()
    previous = path / PREVIOUS_DIR
    if previous.is_dir():
        publics += [p.read_text() for p in sorted(previous.glob("*.key"))]
    return _build(private, publics, need_private, str(path))


def secrets_manager_client(timeout_seconds: int = 4, retries: int = 2) -> Any:
    """A Secrets Manager client for the key secret: bounded as DynamoDB calls are ([storage] timeout_seconds,
    retries; botocore's defaults, 60 s and 5 attempts, would outlast API Gateway's 29 s on a cold start while
    Secrets Manager is down), and with private keys kept out of botocore's DEBUG lines."""
    import botocore.config  # lazily: only deployments that use a secret pay for it
    import botocore.session

    from passport.keys.redaction import redact_private_keys_in_botocore_logs

    redact_private_keys_in_botocore_logs()
    config = botocore.config.Config(
        connect_timeout=min(2, timeout_seconds), read_timeout=timeout_seconds,
        retries={"total_max_attempts": 1 + retries, "mode": "standard"},
    )
    return botocore.session.get_session().create_client("secretsmanager", config=config)


def load_from_secret(
    secret_name: str, need_private: bool, *, timeout_seconds: int = 4, retries: int = 2,
    environ: Mapping[str, str] | None = None,
) -> KeySet:
    """The secret holds ``{"current": {"private_key": PEM}, "previous": [{"public_key": PEM}, ...]}``."""
    document = parse_secret(_secret_string(secret_name, timeout_seconds, retries, environ))
    current = document.get("current") or {}
    publics = [p["public_key"] for p in document.get("previous", []) if p.get("public_key")]
    private = current.get("private_key")
    if current.get("public_key"):
        publics.insert(0, current["public_key"])
    # Only passport.keys.secret writes the secret, and only keys it generated: no user key is ever in it.
    return _build(private, publics, need_private, f"secret {secret_name}", generated_here=True)


@dataclass(frozen=True)
class _SecretCall:
    """The limits of the key secret's read: those of ``[storage]``, in the environment's own region (the
    stack's secret is in the functions' region; ``[storage] region`` names DynamoDB's)."""

    timeout_seconds: int
    retries: int
    region: str = ""


def _secret_string(
    secret_name: str, timeout_seconds: int, retries: int, environ: Mapping[str, str] | None
) -> str:
    """The secret's current value. Read with the signed standard-library client (passport.aws_json) wherever it
    serves as botocore would, as on Lambda, so a function's first request does not import botocore for it;
    else with botocore. A secret that does not exist is :class:`KeysMissing`; anything else that fails, a 503
    (StorageUnavailable): the server fails closed."""
    from passport.aws_json import SECRETS_MANAGER, ServiceError, SignedClient
    from passport.core.errors import StorageUnavailable

    signed = SignedClient.configured(SECRETS_MANAGER, _SecretCall(timeout_seconds, retries), environ)
    if signed is not None:
        try:
            answer = signed.call("GetSecretValue", {"SecretId": secret_name})
        except ServiceError as error:
            if error.code == "ResourceNotFoundException":
                raise KeysMissing(f"the secret {secret_name} does not exist") from None
            raise StorageUnavailable(f"cannot read the key secret: {error.code or 'an error'}") from error
        except StorageUnavailable as error:
            raise StorageUnavailable(f"cannot read the key secret: {error}") from error
        finally:
            signed.close()
        value = answer.get("SecretString")
        if not isinstance(value, str):
            raise KeyMaterialError("the key secret holds no text (SecretString)")
        return value
    client = secrets_manager_client(timeout_seconds, retries)
    try:
        return client.get_secret_value(SecretId=secret_name)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        raise KeysMissing(f"the secret {secret_name} does not exist") from None
    except Exception as exc:  # throttled, denied or unreachable: fail closed, as a 503
        raise StorageUnavailable(f"cannot read the key secret: {type(exc).__name__}") from exc


def parse_secret(value: str) -> dict[str, Any]:
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        raise KeyMaterialError("the key secret is not JSON") from None
    if not isinstance(document, dict):
        raise KeyMaterialError("the key secret must be a JSON object")
    return document


def load_keyset(settings: Any, need_private: bool, environ: Mapping[str, str] | None = None) -> KeySet:
    environ = os.environ if environ is None else environ
    private = _pem_env("PASSPORT_PRIVATE_KEY", environ)
    public = _pem_env("PASSPORT_PUBLIC_KEY", environ)
    if private or public:
        return _build(private, [public] if public else [], need_private, "PASSPORT_PRIVATE_KEY/PUBLIC_KEY")
    if settings.keys.secret_name:
        return load_from_secret(settings.keys.secret_name, need_private,
                                timeout_seconds=settings.storage.timeout_seconds, retries=settings.storage.retries)
    return load_from_files(settings.keys_path, need_private)


class KeyCache:
    """One key set per process and purpose, reloaded on request (a kid the set does not know) or, for a caller
    that says how stale it may be (``max_age``), once it is older than that."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sets: dict[bool, tuple[KeySet, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, settings: Any, need_private: bool = False, max_age: float | None = None) -> KeySet:
        found = self._sets.get(need_private)
        if found is not None and (max_age is None or self._clock() - found[1] < max_age):
            return found[0]
        with self._lock:
            found = self._sets.get(need_private)
            if found is None or (max_age is not None and self._clock() - found[1] >= max_age):
                found = (load_keyset(settings, need_private), self._clock())
                self._sets[need_private] = found
        return found[0]

    def reload(self, settings: Any, need_private: bool = False) -> KeySet:
        with self._lock:
            self._sets.pop(need_private, None)
        return self.get(settings, need_private)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()


#: The process-wide cache every handler shares.
KEYS = KeyCache()

#: Least seconds between two reloads for an unknown kid: a stream of made-up kids costs one key read a while.
RELOAD_INTERVAL_SECONDS = 10.0


class PublishedKeys(Mapping[str, VerificationKey]):
    """The published keys by kid, looked up again when asked for a kid they do not hold (at most once every
    ``RELOAD_INTERVAL_SECONDS``): after ``passport keys rotate``, a warm container verifies the new key's tokens
    (userinfo, introspection, revocation, logout hints) without waiting to be replaced."""

    def __init__(self, current: Callable[[], Mapping[str, VerificationKey]],
                 reload: Callable[[], Mapping[str, VerificationKey]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._current, self._reload, self._clock = current, reload, clock
        self._last_reload = -RELOAD_INTERVAL_SECONDS

    @classmethod
    def of(cls, settings: Any, cache: KeyCache = KEYS) -> PublishedKeys:
        return cls(lambda: cache.get(settings).verification, lambda: cache.reload(settings).verification)

    def __getitem__(self, kid: str) -> VerificationKey:
        keys = self._current()
        if kid not in keys and self._clock() - self._last_reload >= RELOAD_INTERVAL_SECONDS:
            self._last_reload = self._clock()
            keys = self._reload()
        return keys[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
