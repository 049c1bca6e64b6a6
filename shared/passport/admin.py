"""Operations behind the CLI, ``make serve``'s first start and the install-keys custom resource: keys,
default clients, clients and users. Each works on whatever store the environment points at."""

from __future__ import annotations

from dataclasses import dataclass, field

from passport.config import Settings
from passport.core.clients import PERSONAL_ACCESS, NewClient, new_client
from passport.keys import files, secret
from passport.ports import ClientStore


@dataclass
class InstallResult:
    #: kid of a key created now; None when keys were already there
    kid: str | None = None
    clients: list[NewClient] = field(default_factory=list)


def create_keys(
    settings: Settings, *, force: bool = False, alg: str | None = None, bits: int | None = None
) -> str | None:
    alg = alg or settings.keys.algorithm
    bits = bits or settings.keys.rsa_bits
    if settings.keys.secret_name:
        return secret.create_keys_in_secret(settings.keys.secret_name, alg, bits, force)
    return files.create_keys(settings.keys_path, alg, bits, force)


def rotate_keys(settings: Settings, *, alg: str | None = None, bits: int | None = None) -> str:
    alg = alg or settings.keys.algorithm
    bits = bits or settings.keys.rsa_bits
    if settings.keys.secret_name:
        return secret.rotate_keys_in_secret(settings.keys.secret_name, alg, bits)
    return files.rotate_keys(settings.keys_path, alg, bits)


def install(settings: Settings, clients: ClientStore, *, force: bool = False) -> InstallResult:
    """Passport's ``passport:install``: the keys, the personal access client and, when the password grant is
    on, a password grant client. Idempotent: what exists is kept (``force`` replaces the keys and adds
    fresh clients)."""
    result = InstallResult(kid=create_keys(settings, force=force))
    existing = list(clients.all())

    def has(grant: str) -> bool:
        return any(grant in c.grant_types and not c.revoked for c in existing)

    wanted = [("Personal Access Client", (PERSONAL_ACCESS,))]
    if settings.grants.password:
        wanted.append(("Password Grant Client", ("password", "refresh_token")))
    for name, grants in wanted:
        if force or not has(grants[0]):
            made = new_client(name=name, grant_types=grants, first_party=True, defined_scopes=settings.scopes)
            clients.create(made.client)
            result.clients.append(made)
    return result
