"""AWS's DynamoDB Local as this server's local store (passport.local.dynamodb_local): the product's own storage
adapters against it over HTTP, as on AWS. What it acknowledged survives a kill -9; one code is spent once by
50 concurrent redemptions with no lock anywhere; no web page and no other local user can read or change it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from passport.config import Storage
from passport.core.models import AccessTokenRecord, AuthorizationCode, TokenFamily
from passport.local.dynamodb_local import KEY_FILE, LOG_FILE, DynamoDBLocal, database_files
from passport.ports import CodeAlreadyUsed
from passport.storage.connection import forget_client
from passport.storage.models import bind

pytestmark = pytest.mark.slow


def tables() -> Storage:
    prefix = f"d{uuid.uuid4().hex[:10]}"
    return Storage(clients_table=f"{prefix}-clients", users_table=f"{prefix}-users", tokens_table=f"{prefix}-tokens")


@pytest.fixture
def pointed(monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    """Point this process's storage at a DynamoDB Local (its endpoint and access key id), as the server does."""

    def point(store: DynamoDBLocal, storage: Storage) -> None:
        for name, value in store.environment().items():
            monkeypatch.setenv(name, value)
        forget_client()
        bind(storage)

    yield point
    forget_client()


def token_record(client_id: str) -> AccessTokenRecord:
    now = int(time.time())
    return AccessTokenRecord(jti=uuid.uuid4().hex, client_id=client_id, scopes=("orders:read",), issued_at=now,
                             expires_at=now + 600, grant_type="client_credentials")


def test_what_the_store_acknowledged_survives_a_kill_9_of_it(tmp_path, pointed):
    from passport.core.clients import new_client
    from passport.storage.repositories import DynamoAccessTokenStore, DynamoClientStore
    from passport.storage.tables import ensure_tables

    storage = tables()
    store = DynamoDBLocal(tmp_path / "store")
    store.start()
    try:
        pointed(store, storage)
        ensure_tables(storage)
        made = new_client(name="svc", grant_types=("client_credentials",), defined_scopes=("orders:read",))
        DynamoClientStore().create(made.client)
        records = [token_record(made.client.client_id) for _ in range(5)]
        for record in records:
            DynamoAccessTokenStore().save(record)
        assert store.pid is not None
        os.kill(store.pid, signal.SIGKILL)  # right after the last acknowledged write
    finally:
        store.stop()
    again = DynamoDBLocal(tmp_path / "store")
    again.start()
    try:
        pointed(again, storage)
        assert DynamoClientStore().get(made.client.client_id) == made.client
        assert [DynamoAccessTokenStore().get(r.jti) for r in records] == records
    finally:
        again.stop()
    assert journal_modes(tmp_path / "store", again.access_key) == ["wal"]  # durable with the write-ahead log


def journal_modes(folder: Path, key: str) -> list[str]:
    modes = []
    for database in database_files(folder, key):
        connection = sqlite3.connect(database)
        try:
            modes.append(connection.execute("PRAGMA journal_mode").fetchone()[0])
        finally:
            connection.close()
    return modes


def test_the_store_keeps_a_write_ahead_log_and_turns_an_older_rollback_journal_into_one(tmp_path, pointed):
    from passport.core.clients import new_client
    from passport.storage.repositories import DynamoClientStore
    from passport.storage.tables import ensure_tables

    storage, folder = tables(), tmp_path / "store"
    with DynamoDBLocal(folder) as store:
        pointed(store, storage)
        ensure_tables(storage)
        made = new_client(name="svc", grant_types=("client_credentials",), defined_scopes=("orders:read",))
        DynamoClientStore().create(made.client)
    assert journal_modes(folder, store.access_key) == ["wal"]
    for kept in [*folder.glob("*.db*"), folder / LOG_FILE]:  # the database, its log, the store's own log
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600, kept.name
    # A store made before the write-ahead log: SQLite's rollback journal, as DynamoDB Local leaves it.
    (database,) = database_files(folder, store.access_key)
    connection = sqlite3.connect(database)
    assert connection.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    connection.close()
    with DynamoDBLocal(folder) as again:
        pointed(again, storage)
        assert DynamoClientStore().get(made.client.client_id) == made.client
    assert journal_modes(folder, again.access_key) == ["wal"]


def test_fifty_concurrent_redemptions_of_one_code_spend_it_exactly_once(pointed):
    from passport.storage.grants import DynamoGrantStore
    from passport.storage.tables import ensure_tables

    storage = tables()
    with DynamoDBLocal() as store:
        pointed(store, storage)
        ensure_tables(storage)
        now = int(time.time())
        code = AuthorizationCode(code_hash=uuid.uuid4().hex, client_id="c", user_id="u", redirect_uri="https://a/cb",
                                 redirect_uri_sent=True, scopes=("openid",), expires_at=now + 60, auth_time=now)
        grants = DynamoGrantStore()
        grants.save_code(code)
        outcomes: list[str] = []
        start = threading.Barrier(50)

        def redeem() -> None:
            family = TokenFamily(family_id=uuid.uuid4().hex, client_id="c", user_id="u", auth_time=now,
                                 expires_at=now + 3600)
            start.wait()
            try:
                grants.redeem_code(code, family, token_record("c"), None)
                outcomes.append("redeemed")
            except CodeAlreadyUsed:
                outcomes.append("already used")
            except Exception as error:  # a 503 would be a wrong answer to a replay
                outcomes.append(type(error).__name__)

        threads = [threading.Thread(target=redeem) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(set(outcomes)) == ["already used", "redeemed"] and outcomes.count("redeemed") == 1, outcomes
    assert len(outcomes) == 50


def test_no_web_page_and_no_other_local_user_can_read_or_change_the_store(tmp_path, pointed):
    from passport.storage.tables import ensure_tables

    storage = tables()
    with DynamoDBLocal(tmp_path / "store") as store:
        pointed(store, storage)
        ensure_tables(storage)
        port = int(store.endpoint.rsplit(":", 1)[1])

        def send(method: str, headers: dict[str, str], body: bytes | None = None) -> http.client.HTTPResponse:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, "/", body=body, headers=headers)
            return connection.getresponse()

        # A page's script: the preflight its X-Amz-Target needs allows no origin, so the browser sends nothing.
        preflight = send("OPTIONS", {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                                     "Access-Control-Request-Headers": "content-type,x-amz-target"})
        preflight.read()
        assert preflight.getheader("Access-Control-Allow-Origin") is None
        # Another local user can connect, but without this store's key id reaches a database of their own.
        other = send("POST", {"Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": "DynamoDB_20120810.ListTables",
                              "Authorization": "AWS4-HMAC-SHA256 Credential=SOMEONEELSE0000000000/20260101/"
                                               "us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"},
                     b"{}")
        assert json.loads(other.read()) == {"TableNames": []}
        assert other.getheader("Access-Control-Allow-Origin") is None
    folder = tmp_path / "store"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / KEY_FILE).stat().st_mode) == 0o600
    assert store.access_key in (folder / KEY_FILE).read_text() and store.access_key not in str(Path.cwd())
