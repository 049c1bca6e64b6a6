"""The local store's life: who owns it, and how the CLI finds the one ``passport serve`` is running.

The local store is AWS's DynamoDB Local (:mod:`passport.local.dynamodb_local`) on ``<data_dir>/dynamodb/``:
every write it acknowledges is in its SQLite database already, so nothing is lost to a crash. ``passport serve``
owns it for as long as it runs and writes ``<data_dir>/server.json`` (owner-only) so the CLI in another shell
uses that store over HTTP, under the store's key id. Without a running server the CLI starts the store itself
for the length of the command. A lock makes one owner at a time.

A store made by an earlier version (moto's snapshot, ``<data_dir>/store.json``) is imported into DynamoDB Local
on the first start and kept aside as ``store.json.imported``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from passport.config import ConfigError, Settings
from passport.core.errors import PassportError
from passport.local.dynamodb_local import DynamoDBLocal, store_environment

#: The store's folder under the data folder.
STORE_FOLDER = "dynamodb"
#: moto's snapshot, the local store of earlier versions, and where it goes once imported.
LEGACY_SNAPSHOT = "store.json"
IMPORTED_SUFFIX = ".imported"

SERVER_FILE = "server.json"
LOCK_FILE = "store.lock"


class StoreBusy(PassportError, RuntimeError):
    """Another process owns the local store of this data folder."""


def running_server(data_dir: Path) -> dict[str, Any] | None:
    """The live ``passport serve`` for this data folder, if any."""
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text())
        os.kill(int(info["pid"]), 0)
        endpoint = urlsplit(info["store"])
        with socket.create_connection((endpoint.hostname, endpoint.port), timeout=1):
            return info
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def _owner_lock(data_dir: Path, wait: bool = True) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)  # the keys, the store and its key id: this user's alone
    with open(data_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise StoreBusy(f"another passport process owns the store in {data_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def activate(environment: dict[str, str]) -> None:
    """Point this process at a local store (and never at AWS: real credentials and profiles are set aside)."""
    from passport.storage.connection import forget_client

    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(environment)
    forget_client()


@dataclass(frozen=True)
class UsedStore:
    """A DynamoDB endpoint the user runs (``[local] dynamodb_endpoint`` or ``AWS_ENDPOINT_URL_DYNAMODB``)."""

    endpoint: str
    external: bool = True


def external_endpoint(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The DynamoDB the user asked for instead of passport's own store: ``[local] dynamodb_endpoint``, else the
    standard ``AWS_ENDPOINT_URL_DYNAMODB``; "" when neither is set."""
    env = os.environ if environ is None else environ
    endpoint = settings.local.dynamodb_endpoint or env.get("AWS_ENDPOINT_URL_DYNAMODB", "")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"local.dynamodb_endpoint (or AWS_ENDPOINT_URL_DYNAMODB) must be an http(s) URL, not "
                          f"{endpoint[:80]!r}")
    return endpoint


@contextmanager
def own_store(settings: Settings, wait: bool = True) -> Iterator[DynamoDBLocal | UsedStore]:
    """Start DynamoDB Local on the data folder's store, point this process at it, make the tables (importing an
    earlier version's store the first time). With an endpoint of the user's (:func:`external_endpoint`): that one,
    reached with the environment's own AWS credentials, its tables made if missing."""
    from passport.storage.tables import ensure_tables

    external = external_endpoint(settings)
    if external:
        from passport.storage.connection import forget_client

        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = external
        forget_client()
        ensure_tables(settings.storage)
        yield UsedStore(external)
        return
    with _owner_lock(settings.data_path, wait):
        store = DynamoDBLocal(settings.data_path / STORE_FOLDER)
        store.start()
        try:
            activate(store.environment())
            imported = import_legacy_store(settings)
            ensure_tables(settings.storage)
            if imported:
                print(f"Imported the earlier local store ({imported}); the old file is kept as "
                      f"{LEGACY_SNAPSHOT}{IMPORTED_SUFFIX}.", flush=True)
            yield store
        finally:
            store.stop()


def load_table(dynamodb: Any, name: str, table: dict[str, Any]) -> int:
    """Create table ``name`` as moto's snapshot describes it (keys, indexes, TTL attribute) with botocore's
    ``dynamodb`` client and write its items; how many."""
    spec: dict[str, Any] = {
        "TableName": name, "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"], "BillingMode": "PAY_PER_REQUEST",
    }
    if table.get("GlobalSecondaryIndexes"):
        spec["GlobalSecondaryIndexes"] = table["GlobalSecondaryIndexes"]
    dynamodb.create_table(**spec)
    if table.get("TimeToLive"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table["TimeToLive"]}
        )
    items = table.get("Items") or []
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        while pending:  # DynamoDB may hand part of a batch back (UnprocessedItems): send it again
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)


def import_legacy_store(settings: Settings) -> str:
    """Load ``<data_dir>/store.json`` (moto's snapshot: each table's schema, TTL attribute and items) into the
    store this process points at, then rename it ``store.json.imported``; what was imported, or "" when there
    was nothing to import. Tables that exist already keep their items (an interrupted import is redone whole
    only for the tables it had not made)."""
    from passport.storage.connection import dynamodb_client

    source = settings.data_path / LEGACY_SNAPSHOT
    if not source.is_file():
        return ""
    document = json.loads(source.read_text())
    dynamodb = dynamodb_client()
    present = set(dynamodb.list_tables().get("TableNames", []))
    counts = []
    for name, table in (document.get("tables") or {}).items():
        if name in present:
            continue
        counts.append(f"{name}: {load_table(dynamodb, name, table)} items")
    if document.get("secrets"):
        counts.append(f"{len(document['secrets'])} secrets not imported: locally the keys are files")
    source.rename(source.with_name(LEGACY_SNAPSHOT + IMPORTED_SUFFIX))
    return "; ".join(counts) or "no tables"


@contextmanager
def local_store(settings: Settings, patience: float = 30.0) -> Iterator[str]:
    """For a CLI command: the running server's store if there is one, else our own for the duration."""
    deadline = time.monotonic() + patience
    while True:
        running = running_server(settings.data_path)
        if running:
            from passport.local.dynamodb_local import access_key
            from passport.storage.connection import forget_client
            from passport.storage.models import bind

            if running.get("external"):  # the user's own DynamoDB, with the environment's credentials
                os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = running["store"]
                forget_client()
            else:
                activate(store_environment(running["store"], access_key(settings.data_path / STORE_FOLDER)))
            bind(settings.storage)
            if not settings.issuer and running.get("url"):
                # Tokens the CLI mints (personal access tokens) carry the running server's issuer.
                os.environ["PASSPORT_ISSUER"] = running["url"]
            yield running["store"]
            return
        try:
            with own_store(settings, wait=False) as store:
                yield store.endpoint
                return
        except StoreBusy:
            # Another process owns the store: a server still starting, or another command. Wait for it.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def write_server_file(data_dir: Path, store_endpoint: str, url: str, external: bool = False) -> None:
    """``server.json``, readable by its owner only (the store's address is no secret, but the folder is its)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / SERVER_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"pid": os.getpid(), "store": store_endpoint, "url": url, "external": external}))


def remove_server_file(data_dir: Path) -> None:
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text())
        if info.get("pid") == os.getpid():
            (data_dir / SERVER_FILE).unlink()
    except (OSError, ValueError):
        pass
