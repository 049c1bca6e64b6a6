"""Shared fixtures: the local stores over HTTP on loopback (never an in-process mock), per-test tables and keys,
and the local gateway on a real socket.

DynamoDB is AWS's DynamoDB Local (in memory), as the local server keeps its tables; Secrets Manager and
CloudFormation, which it does not serve, are moto's server. One of each runs per test process; each test gets its
own tables (unique names, dropped afterwards) and its own key folder.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from passport import compose
from passport.config import Settings, load_settings
from passport.keys.keyring import KEYS
from passport.local.dynamodb_local import DynamoDBLocal, store_environment
from passport.local.store import activate

from tests.moto_store import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Stores:
    """Where this test process's AWS calls go."""

    dynamodb: str  # AWS's DynamoDB Local, in memory
    aws: str  # moto's server: Secrets Manager, CloudFormation
    access_key: str  # the key id DynamoDB Local files this process's tables under

    def environment(self) -> dict[str, str]:
        return {**store_environment(self.dynamodb, self.access_key), "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.aws,
                "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def stores() -> Iterator[Stores]:
    dynamodb, moto = DynamoDBLocal(), EmbeddedStore()
    dynamodb.start()
    try:
        found = Stores(dynamodb.endpoint, moto.start(), dynamodb.access_key)
        activate(found.environment())
        yield found
    finally:
        moto.stop()
        dynamodb.stop()


@pytest.fixture(scope="session")
def store_endpoint(stores: Stores) -> str:
    """DynamoDB's endpoint (DynamoDB Local)."""
    return stores.dynamodb


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, *, issuer: str, extra: str = "", tables: str | None = None) -> Path:
    prefix = tables or f"t{uuid.uuid4().hex[:10]}"
    path.write_text(
        f'issuer = "{issuer}"\n'
        f'data_dir = "data"\n'
        f"{extra}\n"
        "[storage]\n"
        f'clients_table = "{prefix}-clients"\n'
        f'users_table = "{prefix}-users"\n'
        f'tokens_table = "{prefix}-tokens"\n'
    )
    return path


def reset_caches() -> None:
    compose.reset()
    KEYS.clear()


@dataclass
class Env:
    """A configured deployment: settings, the tables made, keys created."""

    settings: Settings
    config_path: Path
    monkeypatch: pytest.MonkeyPatch

    def reconfigure(self, **env: str) -> Settings:
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        reset_caches()
        self.settings = load_settings()
        return self.settings


@pytest.fixture
def env(store_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request) -> Iterator[Env]:
    from passport import admin
    from passport.storage.repositories import DynamoClientStore
    from passport.storage.tables import drop_tables, ensure_tables

    marker = request.node.get_closest_marker("passport_config")
    extra = marker.args[0] if marker else ""
    port = free_port()
    config = write_config(tmp_path / "passport.toml", issuer=f"http://127.0.0.1:{port}", extra=extra)
    for name in [n for n in os.environ if n.startswith("PASSPORT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PASSPORT_CONFIG", str(config))
    # The demo API and MCP server, which most tests call, as under `passport serve` (a deployment's default is off).
    monkeypatch.setenv("PASSPORT_DEMO_ENABLED", "true")
    monkeypatch.setenv("PORT", str(port))
    reset_caches()
    settings = load_settings()
    ensure_tables(settings.storage)
    admin.create_keys(settings)
    _ = DynamoClientStore  # the adapters bind through compose.bind_storage()
    yield Env(settings, config, monkeypatch)
    reset_caches()
    drop_tables(settings.storage)


@dataclass
class Server:
    url: str
    env: Env
    gateway: Any

    def token(self, client_id: str, secret: str, **form: str) -> requests.Response:
        return requests.post(f"{self.url}/oauth/token", auth=(client_id, secret),
                             data={"grant_type": "client_credentials", **form}, timeout=10)


@pytest.fixture
def server(env: Env) -> Iterator[Server]:
    """The local gateway on a real socket, at the issuer's port."""
    from passport.local.gateway import LocalGateway, make_server

    port = int(env.settings.issuer_url.rsplit(":", 1)[1])
    for _ in range(5):
        try:
            gateway = LocalGateway(env.settings)
            httpd = make_server(gateway, "127.0.0.1", port)
            break
        except OSError:
            # Another process took the port between free_port() and now: move the issuer to a new one.
            port = free_port()
            env.reconfigure(PASSPORT_ISSUER=f"http://127.0.0.1:{port}", PORT=str(port))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Server(env.settings.issuer_url, env, gateway)
    httpd.shutdown()
    httpd.server_close()


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None
    raw: dict[str, Any]


def make_client(env: Env, *, fields: dict[str, Any] | None = None, **options: Any) -> RegisteredClient:
    """A client made by ``new_client(**options)``, with ``fields`` of the record set beside (what no option of
    ``new_client`` sets: ``dpop_bound``, ``require_par``, ``profile``)."""
    from dataclasses import replace

    from passport.core.clients import new_client
    from passport.storage.repositories import DynamoClientStore

    options.setdefault("grant_types", ("client_credentials",))
    options.setdefault("name", "test client")
    made = new_client(defined_scopes=env.settings.scopes, **options)
    record = replace(made.client, **fields) if fields else made.client
    compose.bind_storage()  # the models on this test's tables
    DynamoClientStore().create(record)
    return RegisteredClient(record.client_id, made.secret, json.loads(json.dumps(record.__dict__)))


@pytest.fixture
def client(env: Env) -> RegisteredClient:
    return make_client(env, scopes=("orders:read",))
