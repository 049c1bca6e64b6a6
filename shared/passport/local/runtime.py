"""The local store's life: who owns it, and how the CLI finds the one ``passport serve`` is running.

``passport serve`` owns the embedded store for as long as it runs and writes ``<data_dir>/server.json`` so
the CLI in another shell uses that store over HTTP. Without a running server the CLI starts an embedded
store of its own for the length of the command. A lock makes one owner of the snapshot at a time.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from passport.config import Settings
from passport.local.store import EmbeddedStore, activate

SERVER_FILE = "server.json"
LOCK_FILE = "store.lock"


class StoreBusy(RuntimeError):
    """Another process owns the embedded store of this data folder."""


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
    with open(data_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise StoreBusy(f"another passport process owns the store in {data_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def own_store(settings: Settings, wait: bool = True) -> Iterator[EmbeddedStore]:
    """Start the embedded store on the data folder's snapshot and point this process at it."""
    from passport.storage.tables import ensure_tables

    with _owner_lock(settings.data_path, wait):
        store = EmbeddedStore(settings.data_path)
        activate(store.start())
        try:
            ensure_tables(settings.storage)
            yield store
        finally:
            store.stop()


@contextmanager
def local_store(settings: Settings, patience: float = 30.0) -> Iterator[str]:
    """For a CLI command: the running server's store if there is one, else our own for the duration."""
    deadline = time.monotonic() + patience
    while True:
        running = running_server(settings.data_path)
        if running:
            from passport.storage.models import bind

            activate(running["store"])
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


def write_server_file(data_dir: Path, store_endpoint: str, url: str) -> None:
    path = data_dir / SERVER_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "store": store_endpoint, "url": url}))


def remove_server_file(data_dir: Path) -> None:
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text())
        if info.get("pid") == os.getpid():
            (data_dir / SERVER_FILE).unlink()
    except (OSError, ValueError):
        pass
