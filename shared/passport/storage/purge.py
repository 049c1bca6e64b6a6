"""``passport purge``: delete dead items from the tokens table (Laravel Passport's ``passport:purge``).

DynamoDB TTL does the routine cleanup; this is for an operator who wants the table clean now (TTL deletes can lag
by days). What goes, with ``cutoff = now - window`` (``--hours``, default 168):

- expired: any token-table item of a known kind whose ``ttl`` is at or before ``cutoff`` (so dead for longer than
  the window);
- revoked: an access token, refresh token or family with ``revoked`` true, or a refresh token with ``rotated``
  true, whose ``issued_at`` (or, lacking one, its ``ttl``) is at or before ``cutoff``. Families and refresh tokens
  carry no ``issued_at``, so for them this is the ``ttl``: conservative, they go once expired past the window.

Nothing else is touched: live items (sessions, consents, throttles and unknown kinds included), and anything
without a numeric ``ttl``.

Safe on a large table: one Scan page (``Limit``) at a time, projected to the attributes the decision needs, nothing
kept across pages; deletes are BatchWriteItem groups of 25, retrying ``UnprocessedItems`` with backoff. Resumable:
after each page the scan position and the running counts go to a checkpoint file, which the next run continues
from (unless told to restart) and which is removed when the scan completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from passport.core.errors import PassportError

DEFAULT_HOURS = 168
PAGE_SIZE = 500
BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_BATCH_ATTEMPTS = 8

KNOWN_PREFIXES = ("access#", "refresh#", "code#", "family#", "device#", "usercode#", "session#", "consent#",
                  "throttle#", "dpop#", "assertion#", "par#")
REVOCABLE_PREFIXES = ("access#", "refresh#", "family#")

EXPIRED = "expired"
REVOKED = "revoked"


class PurgeError(PassportError):
    """The purge could not finish (deletes left unprocessed after every retry)."""


@dataclass
class PurgeProgress:
    scanned: int = 0
    purged: int = 0
    revoked: int = 0
    expired: int = 0
    pages: int = 0

    def summary(self) -> dict[str, int]:
        return {"scanned": self.scanned, "purged": self.purged, "revoked": self.revoked, "expired": self.expired}


def _number(item: dict[str, Any], name: str) -> float | None:
    value = item.get(name)
    if not isinstance(value, dict) or "N" not in value:
        return None
    try:
        return float(value["N"])
    except (TypeError, ValueError):
        return None


def _flag(item: dict[str, Any], name: str) -> bool:
    value = item.get(name)
    return isinstance(value, dict) and value.get("BOOL") is True


def classify(item: dict[str, Any], *, cutoff: float, revoked: bool = True, expired: bool = True) -> str | None:
    """Why this raw item (DynamoDB wire format) should be purged, ``"expired"`` or ``"revoked"``, or ``None``."""
    key = item.get("pk", {}).get("S", "")
    if not key.startswith(KNOWN_PREFIXES):
        return None
    ttl = _number(item, "ttl")
    if ttl is None:
        return None
    if expired and ttl <= cutoff:
        return EXPIRED
    if revoked and key.startswith(REVOCABLE_PREFIXES):
        dead = _flag(item, "revoked") or (key.startswith("refresh#") and _flag(item, "rotated"))
        issued = _number(item, "issued_at")
        if dead and (issued if issued is not None else ttl) <= cutoff:
            return REVOKED
    return None


def _read_checkpoint(path: Path, table: str) -> tuple[dict[str, Any] | None, PurgeProgress]:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, PurgeProgress()
    if not isinstance(saved, dict) or saved.get("table") != table or not isinstance(saved.get("last_key"), dict):
        return None, PurgeProgress()
    counts = saved.get("progress") or {}
    progress = PurgeProgress(**{k: int(v) for k, v in counts.items() if k in PurgeProgress.__dataclass_fields__})
    return saved["last_key"], progress


def _write_checkpoint(path: Path, table: str, last_key: dict[str, Any], progress: PurgeProgress) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"table": table, "last_key": last_key, "progress": asdict(progress)}))
    os.replace(temporary, path)  # atomic: an interrupted write leaves the previous checkpoint


def _pages(client: Any, table: str, start: dict[str, Any] | None, page_size: int) -> Iterator[tuple[list, Any]]:
    request: dict[str, Any] = {
        "TableName": table, "Limit": page_size,
        "ProjectionExpression": "pk, #ttl, issued_at, revoked, rotated",
        "ExpressionAttributeNames": {"#ttl": "ttl"},  # TTL is a reserved word
    }
    if start:
        request["ExclusiveStartKey"] = start
    while True:
        page = client.scan(**request)
        last_key = page.get("LastEvaluatedKey")
        yield page.get("Items", []), last_key
        if not last_key:
            return
        request["ExclusiveStartKey"] = last_key


def delete_keys(client: Any, table: str, keys: list[dict[str, Any]], sleep: Callable[[float], None] = time.sleep,
                ) -> None:
    """Delete ``keys`` in BatchWriteItem groups of 25, retrying what DynamoDB leaves unprocessed with backoff."""
    for start in range(0, len(keys), BATCH_SIZE):
        pending: list[dict[str, Any]] = [{"DeleteRequest": {"Key": key}} for key in keys[start:start + BATCH_SIZE]]
        for attempt in range(MAX_BATCH_ATTEMPTS):
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
            if not pending:
                break
            sleep(min(2.0, 0.05 * 2 ** attempt))
        else:
            raise PurgeError(f"{len(pending)} deletes still unprocessed after {MAX_BATCH_ATTEMPTS} attempts")


def purge(
    client: Any,
    table: str,
    *,
    now: float,
    window: float = DEFAULT_HOURS * 3600,
    revoked: bool = True,
    expired: bool = True,
    checkpoint: Path | None = None,
    restart: bool = False,
    page_size: int = PAGE_SIZE,
    progress: Callable[[PurgeProgress], None] | None = None,
) -> PurgeProgress:
    """Purge ``table`` (see the module docs); ``window`` in seconds. ``progress`` is called after every page,
    once that page's deletes are done and its checkpoint written; an exception from it stops the purge, which the
    next call resumes. Returns the counts (cumulative over resumed runs)."""
    cutoff = now - window
    start: dict[str, Any] | None = None
    counts = PurgeProgress()
    if checkpoint is not None:
        if restart:
            checkpoint.unlink(missing_ok=True)
        else:
            start, counts = _read_checkpoint(checkpoint, table)
    for items, last_key in _pages(client, table, start, page_size):
        doomed = []
        for item in items:
            reason = classify(item, cutoff=cutoff, revoked=revoked, expired=expired)
            if reason is not None:
                doomed.append({"pk": item["pk"]})
                if reason == EXPIRED:
                    counts.expired += 1
                else:
                    counts.revoked += 1
        delete_keys(client, table, doomed)
        counts.scanned += len(items)
        counts.purged += len(doomed)
        counts.pages += 1
        if checkpoint is not None:
            if last_key:
                _write_checkpoint(checkpoint, table, last_key, counts)
            else:
                with contextlib.suppress(FileNotFoundError):
                    checkpoint.unlink()
        if progress is not None:
            progress(counts)
    return counts
