"""Keys in a Secrets Manager secret (deployed): create once, rotate by adding, never replace silently.

The secret is ``{"current": {"kid", "alg", "private_key", "public_key"}, "previous": [{"kid", "alg",
"public_key", "retired_at"}]}``; only ``current`` holds a private key.
"""

from __future__ import annotations

import json
import time
from typing import Any

from passport.keys.keyring import KeysMissing, parse_secret, secrets_manager_client
from passport.keys.material import PrivateKey, generate, private_pem, public_pem, thumbprint
from passport.keys.material import algorithm_for as _alg


def _entry(key: PrivateKey) -> dict[str, str]:
    public = key.public_key()
    return {"kid": thumbprint(public), "alg": _alg(public), "private_key": private_pem(key),
            "public_key": public_pem(public)}


def read_secret(secret_name: str) -> dict[str, Any] | None:
    client = secrets_manager_client()
    try:
        value = client.get_secret_value(SecretId=secret_name)
    except client.exceptions.ResourceNotFoundException:
        return None
    if "SecretString" not in value:
        return None
    return parse_secret(value["SecretString"])


def create_keys_in_secret(secret_name: str, alg: str, rsa_bits: int, force: bool = False) -> str | None:
    """Put a new key in the secret unless it already has one (``force`` replaces it). Returns the new kid,
    or None when the existing key was kept."""
    client = secrets_manager_client()
    document = read_secret(secret_name)
    if document and document.get("current") and not force:
        return None
    entry = _entry(generate(alg, rsa_bits))
    text = json.dumps({"current": entry, "previous": []})
    try:
        client.put_secret_value(SecretId=secret_name, SecretString=text)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=secret_name, SecretString=text)
    return entry["kid"]


def rotate_keys_in_secret(secret_name: str, alg: str, rsa_bits: int) -> str:
    document = read_secret(secret_name)
    if not document or not document.get("current"):
        raise KeysMissing(f"the secret {secret_name} holds no key to rotate")
    old = document["current"]
    previous = [
        {"kid": old["kid"], "alg": old["alg"], "public_key": old["public_key"], "retired_at": int(time.time())},
        *document.get("previous", []),
    ]
    entry = _entry(generate(alg, rsa_bits))
    secrets_manager_client().put_secret_value(
        SecretId=secret_name, SecretString=json.dumps({"current": entry, "previous": previous})
    )
    return entry["kid"]
