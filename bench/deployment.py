"""A throw-away local deployment: AWS's DynamoDB Local on loopback (in memory) for the tables, moto's server for a
Secrets Manager secret holding the signing keys (where a deployed stack keeps them: every function that signs or
verifies reads it on its first request; DynamoDB Local serves no Secrets Manager), a settings file in a temporary
folder, and one client."""

from __future__ import annotations

import base64
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

#: Long enough that no cached revocation status expires during the run (the shipped default is 30 s).
REVOCATION_CACHE_SECONDS = 600
SCOPE = "orders:read"
REDIRECT_URI = "https://app.example.com/callback"


@dataclass
class Deployment:
    settings: Any
    client: Any  # passport.core.models.Client
    secret: str
    gateway: Any  # passport.local.gateway.LocalGateway

    def token_request(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """POST /oauth/token, client_credentials with HTTP Basic (RFC 6749 2.3.1)."""
        basic = base64.b64encode(f"{quote(self.client.client_id, safe='')}:{quote(self.secret, safe='')}".encode())
        headers = [
            ("Host", self.host),
            ("Authorization", f"Basic {basic.decode()}"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("User-Agent", "passport-bench"),
        ]
        return "/oauth/token", headers, urlencode({"grant_type": "client_credentials", "scope": SCOPE}).encode()

    def form_request(
        self, form: dict[str, str], path: str = "/oauth/token"
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """POST this form (to the token endpoint unless told), the client authenticated with HTTP Basic."""
        _, headers, _ = self.token_request()
        return path, headers, urlencode(form).encode()

    def api_request(self, token: str) -> tuple[str, list[tuple[str, str]], bytes]:
        return "/api/orders", [("Host", self.host), ("Authorization", f"Bearer {token}")], b""

    @property
    def host(self) -> str:
        return self.settings.issuer_url.split("://", 1)[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_caches() -> None:
    """What tests/conftest.py's reset_caches does: forget settings, wiring, the guard and the keys."""
    from passport import compose
    from passport.keys.keyring import KEYS

    compose.reset()
    KEYS.clear()


def _write_config(path: Path, issuer: str) -> Path:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    path.write_text(
        f'issuer = "{issuer}"\n'
        'data_dir = "data"\n'
        "[guard]\n"
        f"revocation_cache_seconds = {REVOCATION_CACHE_SECONDS}\n"
        "[grants]\n"
        "password = true\n"  # its DynamoDB calls are counted too
        "[storage]\n"
        f'clients_table = "{prefix}-clients"\n'
        f'users_table = "{prefix}-users"\n'
        f'tokens_table = "{prefix}-tokens"\n'
        "[keys]\n"
        f'secret_name = "{prefix}-keys"\n'
    )
    return path


@contextmanager
def local_deployment() -> Iterator[Deployment]:
    """The deployment, with this process pointed at it; the environment is restored afterwards."""
    saved = dict(os.environ)
    # The shipped settings, not whatever PASSPORT_* overrides this shell carries.
    for name in [n for n in os.environ if n.startswith("PASSPORT_")]:
        del os.environ[name]
    try:
        with tempfile.TemporaryDirectory(prefix="passport-bench-") as folder:
            yield from _deploy(Path(folder))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _deploy(folder: Path) -> Iterator[Deployment]:
    from passport import admin, compose
    from passport.config import load_settings
    from passport.core.clients import new_client
    from passport.local.dynamodb_local import DynamoDBLocal
    from passport.local.gateway import LocalGateway
    from passport.local.store import activate
    from passport.storage.repositories import DynamoClientStore
    from passport.storage.tables import ensure_tables

    from tests.moto_store import EmbeddedStore

    dynamodb, secrets = DynamoDBLocal(), EmbeddedStore()  # both in memory
    dynamodb.start()
    try:
        # DynamoDB to DynamoDB Local (under its key id), Secrets Manager to moto: 127.0.0.1 only, never AWS
        activate({**dynamodb.environment(), "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets.start()})
        port = _free_port()
        config = _write_config(folder / "passport.toml", f"http://127.0.0.1:{port}")
        os.environ["PASSPORT_CONFIG"] = str(config)
        os.environ["PORT"] = str(port)
        # The bench calls the demo API (GET /api/orders) through the guard, as `passport serve` runs it.
        os.environ["PASSPORT_DEMO_ENABLED"] = "true"
        reset_caches()
        settings = load_settings()
        ensure_tables(settings.storage)
        admin.create_keys(settings)
        made = new_client(
            name="bench client",
            grant_types=(
                "client_credentials", "authorization_code", "refresh_token", "password",
                "urn:ietf:params:oauth:grant-type:device_code",
            ),
            redirect_uris=(REDIRECT_URI,),
            scopes=(SCOPE,),
            defined_scopes=settings.scopes,
        )
        compose.bind_storage()  # the models on this deployment's tables
        DynamoClientStore().create(made.client)
        assert made.secret is not None
        yield Deployment(settings, made.client, made.secret, LocalGateway(settings))
    finally:
        reset_caches()
        secrets.stop()
        dynamodb.stop()
