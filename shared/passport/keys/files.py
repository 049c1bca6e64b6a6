"""Key files on disk (``passport keys``, ``passport keys rotate``): written with mode 0600 in a 0700 folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

from passport.keys.keyring import PREVIOUS_DIR, PRIVATE_FILE, PUBLIC_FILE
from passport.keys.material import PrivateKey, generate, private_pem, public_pem, thumbprint


def _write_private(path: Path, text: str) -> None:
    """Write a fresh 0600 file and rename it over the target: a key is never readable with wider
    permissions, even when it replaces an older, laxer file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def keys_exist(path: Path) -> bool:
    return (path / PRIVATE_FILE).exists()


def write_keys(path: Path, key: PrivateKey) -> str:
    """Write the key pair as Passport names it; returns the key's kid."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    _write_private(path / PRIVATE_FILE, private_pem(key))
    _write_private(path / PUBLIC_FILE, public_pem(key.public_key()))
    return thumbprint(key.public_key())


def create_keys(path: Path, alg: str, rsa_bits: int, force: bool = False) -> str | None:
    """Create keys unless they exist (``--force`` replaces them). Returns the new kid, or None if kept."""
    if keys_exist(path) and not force:
        return None
    return write_keys(path, generate(alg, rsa_bits))


def rotate_keys(path: Path, alg: str, rsa_bits: int) -> str:
    """Make a new current key; the old public key stays published (``previous/``) so the tokens it signed
    keep verifying until they expire."""
    public_file = path / PUBLIC_FILE
    if public_file.exists():
        previous = path / PREVIOUS_DIR
        previous.mkdir(mode=0o700, exist_ok=True)
        from passport.keys.material import load_public

        old_kid = thumbprint(load_public(public_file.read_text()))
        _write_private(previous / f"{int(time.time())}-{old_kid}.key", public_file.read_text())
    return write_keys(path, generate(alg, rsa_bits))
