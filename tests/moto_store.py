"""moto's server on loopback, for the tests and the bench: Secrets Manager (the tests of that key source, the
bench's key secret) and CloudFormation, which DynamoDB Local does not have. Every piece of code reaches it over HTTP
exactly as it reaches AWS (``AWS_ENDPOINT_URL_*``).

It was the local store of earlier versions: with a data folder it snapshots every table (and secret) to
``<data_dir>/store.json`` shortly after each write and at shutdown, and restores it at start. The upgrade test
makes such a store with it, and ``passport serve`` imports it into DynamoDB Local
(:func:`passport.local.store.import_legacy_store`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SNAPSHOT_FILE = "store.json"
_WRITE_ACTIONS = {
    "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "CreateTable",
    "DeleteTable", "UpdateTable", "UpdateTimeToLive", "CreateSecret", "PutSecretValue", "UpdateSecret",
    "DeleteSecret", "RestoreSecret",
}
#: How long the store waits after the last write before it writes a snapshot (writes come in bursts).
SNAPSHOT_DELAY = 0.3

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


def local_environment(endpoint: str, region: str = "us-east-1") -> dict[str, str]:
    """The variables that point boto3, botocore and pynamodb at the embedded store."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or region,
        **LOCAL_CREDENTIALS,
    }


def activate(endpoint: str) -> None:
    """Point this process at an embedded store (and never at AWS: real credentials are set aside)."""
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(local_environment(endpoint))


class _WriteWatcher:
    """WSGI middleware that runs one request at a time and notes writes, so snapshots happen only when something
    changed.

    One at a time: DynamoDB applies each conditional write and transaction atomically, moto does not. Its
    transaction checks and writes item by item, and a cancelled one puts back a copy of the table taken when it
    began, undoing what other requests wrote meanwhile; concurrent requests could then both spend one code or
    rotate one refresh token. Serialized, every request is atomic, as on DynamoDB.
    """

    def __init__(self, app: Callable[..., Any], on_write: Callable[[], None]) -> None:
        self._app = app
        self._on_write = on_write
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.rpartition(".")[2] in _WRITE_ACTIONS:
            self._on_write()
        with self._lock:
            return self._app(environ, start_response)


class EmbeddedStore:
    """moto's server on loopback. moto keeps its backends in module globals, so a process runs at most one
    embedded store at a time: a second would share (and on restore, clash with) the first one's data."""

    _active: EmbeddedStore | None = None

    def __init__(self, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self._data_dir = data_dir
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._snapshotter: threading.Thread | None = None
        self._snapshot_lock = threading.Lock()
        self.endpoint = ""
        self._clients: dict[str, Any] = {}
        self._watcher: _WriteWatcher

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> str:
        if EmbeddedStore._active is not None:
            raise RuntimeError("an embedded store is already running in this process")
        EmbeddedStore._active = self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = self._watcher = _WriteWatcher(DomainDispatcherApplication(create_backend_app), self._dirty.set)
        self._server = make_server(self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler)
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-store", daemon=True)
        self._thread.start()
        if self._data_dir is not None:
            self.restore()
            self._dirty.clear()
            self._snapshotter = threading.Thread(target=self._snapshot_loop, name="snapshots", daemon=True)
            self._snapshotter.start()
        return self.endpoint

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._snapshotter is not None:
            self._snapshotter.join(timeout=10)
        if self._data_dir is not None and self._server is not None:
            self.snapshot()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        if EmbeddedStore._active is self:
            EmbeddedStore._active = None

    def __enter__(self) -> EmbeddedStore:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- persistence -----------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            import botocore.session

            client = self._clients[service] = botocore.session.get_session().create_client(
                service, endpoint_url=self.endpoint, region_name="us-east-1",
                aws_access_key_id="local", aws_secret_access_key="local",
            )
        return client

    def _snapshot_loop(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            time.sleep(SNAPSHOT_DELAY)
            self._dirty.clear()
            try:
                self.snapshot()
            except Exception:  # a failed snapshot is retried on the next write and at shutdown
                logging.getLogger("passport").exception("snapshot failed")

    def snapshot(self) -> None:
        assert self._data_dir is not None
        with self._snapshot_lock:
            document = {"version": 1, "tables": self._dump_tables(), "secrets": self._dump_secrets()}
            self._data_dir.mkdir(parents=True, exist_ok=True)
            target = self._data_dir / SNAPSHOT_FILE
            temporary = target.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle)
            os.replace(temporary, target)

    def _dump_tables(self) -> dict[str, Any]:
        dynamodb = self._client("dynamodb")
        tables: dict[str, Any] = {}
        for name in _paginate(dynamodb, "list_tables", "TableNames"):
            description = dynamodb.describe_table(TableName=name)["Table"]
            ttl = dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
            tables[name] = {
                "KeySchema": description["KeySchema"],
                "AttributeDefinitions": description["AttributeDefinitions"],
                "GlobalSecondaryIndexes": [
                    {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                    for i in description.get("GlobalSecondaryIndexes", [])
                ],
                "TimeToLive": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
                "Items": self._items(name, dynamodb.meta.region_name),
            }
        return tables

    def _items(self, table: str, region: str) -> list[dict[str, Any]]:
        """The table's items in DynamoDB JSON, as a Scan returns them, read from moto's tables in this process
        while no request runs. A Scan over HTTP held the store for seconds (moto serializes an answer at
        milliseconds per item): with a thousand tokens, requests queued behind a snapshot waited seconds, some
        timed out (the guard answered 503), and under steady writes snapshots ran back to back."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.iam.models import get_account_id_from

        # The account moto files this store's requests under (they all carry the local credentials).
        account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"])
        with self._watcher._lock:  # the one-request-at-a-time lock: no write is half done
            backend = dynamodb_backends.get(account, {}).get(region)
            found = backend.tables.get(table) if backend is not None else None
            if found is not None:
                return [item.to_json()["Attributes"] for item in found.all_items()]
        return list(_paginate(self._client("dynamodb"), "scan", "Items", TableName=table))

    def _dump_secrets(self) -> list[dict[str, str]]:
        secrets = self._client("secretsmanager")
        dumped = []
        for entry in _paginate(secrets, "list_secrets", "SecretList"):
            value = secrets.get_secret_value(SecretId=entry["ARN"])
            if "SecretString" in value:
                dumped.append({"Name": entry["Name"], "SecretString": value["SecretString"]})
        return dumped

    def restore(self) -> None:
        assert self._data_dir is not None
        source = self._data_dir / SNAPSHOT_FILE
        if not source.exists():
            return
        document = json.loads(source.read_text())
        from passport.local.store import load_table

        dynamodb = self._client("dynamodb")
        for name, table in document.get("tables", {}).items():
            load_table(dynamodb, name, table)
        secrets = self._client("secretsmanager")
        for secret in document.get("secrets", []):
            secrets.create_secret(Name=secret["Name"], SecretString=secret["SecretString"])


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**kwargs):
        yield from page.get(key, [])
