"""`passport purge` on a tokens table of a few thousand items, over HTTP against DynamoDB Local: exactly the
revoked/expired items older than the window go, in pages, resumably."""

from __future__ import annotations

import json
import time

import pytest
from passport.storage.connection import dynamodb_client
from passport.storage.purge import PurgeProgress, purge

HOUR = 3600
WINDOW = 168 * HOUR
PAGE = 200
SMALL_PAGE = 50


def _item(pk: str, ttl: int | None, *, issued_at: int | None = None, **flags: bool) -> dict:
    item: dict = {"pk": {"S": pk}}
    if ttl is not None:
        item["ttl"] = {"N": str(ttl)}
    if issued_at is not None:
        item["issued_at"] = {"N": str(issued_at)}
    for name, value in flags.items():
        item[name] = {"BOOL": value}
    return item


def seed(table: str, now: int, scale: float = 1.0) -> dict[str, set[str]]:
    """Write the mix (about 2,700 items at scale 1); return the keys by fate: "keep", "expired", "revoked"."""
    cutoff = now - WINDOW
    fates: dict[str, set[str]] = {"keep": set(), "expired": set(), "revoked": set()}
    items: list[tuple[str, dict]] = []

    def add(fate: str, count: int, prefix: str, make) -> None:
        for n in range(max(1, int(count * scale))):
            item = make(f"{prefix}{n:05d}")
            items.append((fate, item))

    # kept
    add("keep", 600, "access#live-", lambda k: _item(k, now + HOUR, issued_at=now - 60, revoked=False))
    add("keep", 300, "access#recently-expired-", lambda k: _item(k, now - 60, issued_at=now - HOUR - 60))
    add("keep", 200, "access#recently-revoked-", lambda k: _item(k, now + HOUR, issued_at=now - 600, revoked=True))
    add("keep", 150, "refresh#recently-rotated-", lambda k: _item(k, now + 30 * 24 * HOUR, rotated=True))
    add("keep", 50, "family#revoked-live-", lambda k: _item(k, now + 30 * 24 * HOUR, revoked=True))  # no issued_at
    add("keep", 300, "session#live-", lambda k: _item(k, now + 2 * HOUR, issued_at=cutoff - HOUR))
    add("keep", 1, "consent#user#client-", lambda k: _item(k, now + 365 * 24 * HOUR))
    add("keep", 20, "other#old-", lambda k: _item(k, cutoff - HOUR, revoked=True))  # not a kind purge knows
    add("keep", 10, "access#no-ttl-", lambda k: _item(k, None, issued_at=cutoff - HOUR, revoked=True))
    add("keep", 10, "throttle#recent-", lambda k: _item(k, now - HOUR))
    # expired longer ago than the window (a revoked one that is also expired counts as expired)
    add("expired", 400, "access#old-expired-", lambda k: _item(k, cutoff - 100, issued_at=cutoff - 3700))
    add("expired", 5, "access#at-cutoff-", lambda k: _item(k, cutoff, issued_at=cutoff - HOUR))
    add("expired", 100, "refresh#old-rotated-", lambda k: _item(k, cutoff - 10, rotated=True))
    add("expired", 100, "session#old-", lambda k: _item(k, cutoff - HOUR))
    add("expired", 50, "code#old-", lambda k: _item(k, cutoff - HOUR, used=True))
    add("expired", 30, "family#old-revoked-", lambda k: _item(k, cutoff - HOUR, revoked=True))
    # revoked (or rotated) longer ago than the window, still within their ttl
    add("revoked", 300, "access#old-revoked-", lambda k: _item(k, now + 300 * 24 * HOUR, issued_at=cutoff - 5,
                                                            revoked=True))
    add("revoked", 100, "refresh#old-rotated-live-", lambda k: _item(k, now + 24 * HOUR, issued_at=cutoff - 5,
                                                                  rotated=True))
    add("revoked", 50, "refresh#old-revoked-live-", lambda k: _item(k, now + 24 * HOUR, issued_at=cutoff - 5,
                                                                 revoked=True))

    client = dynamodb_client()
    for start in range(0, len(items), 25):
        chunk = items[start:start + 25]
        answer = client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": i}} for _, i in chunk]})
        assert not answer.get("UnprocessedItems")
    for fate, item in items:
        fates[fate].add(item["pk"]["S"])
    assert sum(len(keys) for keys in fates.values()) <= 3000
    return fates


def scan_order(table: str) -> list[str]:
    """Every key of ``table`` in the order a Scan returns them."""
    client = dynamodb_client()
    keys: list[str] = []
    request: dict = {"TableName": table, "ProjectionExpression": "pk", "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        keys.extend(item["pk"]["S"] for item in page["Items"])
        if not page.get("LastEvaluatedKey"):
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def remaining(table: str) -> set[str]:
    return set(scan_order(table))


@pytest.fixture
def table(env) -> str:
    return env.settings.storage.tokens_table


def test_purge_removes_exactly_the_dead_items_older_than_the_window(table, tmp_path):
    now = int(time.time())
    fates = seed(table, now)
    seen: list[int] = []
    checkpoint = tmp_path / "purge.checkpoint.json"

    counts = purge(dynamodb_client(), table, now=now, window=WINDOW, checkpoint=checkpoint, page_size=PAGE,
                   progress=lambda p: seen.append(p.scanned))

    assert remaining(table) == fates["keep"]
    total = sum(len(keys) for keys in fates.values())
    assert counts.summary() == {"scanned": total, "purged": len(fates["expired"]) + len(fates["revoked"]),
                                "revoked": len(fates["revoked"]), "expired": len(fates["expired"])}
    assert len(seen) >= total // PAGE and seen == sorted(seen)  # one call per page, growing
    assert not checkpoint.exists()


def test_an_interrupted_purge_resumes_from_its_checkpoint(table, tmp_path):
    now = int(time.time())
    fates = seed(table, now)
    checkpoint = tmp_path / "data" / "purge.checkpoint.json"

    class Stop(Exception):
        pass

    def stop_after_two_pages(progress: PurgeProgress) -> None:
        if progress.pages == 2:
            raise Stop

    with pytest.raises(Stop):
        purge(dynamodb_client(), table, now=now, window=WINDOW, checkpoint=checkpoint, page_size=PAGE,
              progress=stop_after_two_pages)
    saved = json.loads(checkpoint.read_text())
    assert saved["table"] == table and saved["last_key"]["pk"]["S"] and saved["progress"]["scanned"] == 2 * PAGE
    left = remaining(table)
    assert fates["keep"] < left < set().union(*fates.values())  # some purged, not all yet

    pages: list[int] = []
    counts = purge(dynamodb_client(), table, now=now, window=WINDOW, checkpoint=checkpoint, page_size=PAGE,
                   progress=lambda p: pages.append(p.pages))

    assert remaining(table) == fates["keep"]
    assert pages[0] == 3  # continued after the two pages done, not from the start
    assert counts.scanned == sum(len(keys) for keys in fates.values())  # the counts carry over
    assert counts.revoked == len(fates["revoked"]) and counts.expired == len(fates["expired"])
    assert not checkpoint.exists()


def test_restart_ignores_the_checkpoint(table, tmp_path):
    now = int(time.time())
    fates = seed(table, now, scale=0.1)
    checkpoint = tmp_path / "purge.checkpoint.json"
    # a checkpoint at the last item in scan order (DynamoDB's order, not the keys'): resuming from it scans nothing
    last = {"pk": {"S": scan_order(table)[-1]}}
    checkpoint.write_text(json.dumps({"table": table, "last_key": last, "progress": {}}))

    assert purge(dynamodb_client(), table, now=now, window=WINDOW, checkpoint=checkpoint).scanned == 0
    checkpoint.write_text(json.dumps({"table": table, "last_key": last, "progress": {}}))
    purge(dynamodb_client(), table, now=now, window=WINDOW, checkpoint=checkpoint, restart=True, page_size=SMALL_PAGE)
    assert remaining(table) == fates["keep"]


def test_revoked_only(table):
    now = int(time.time())
    fates = seed(table, now, scale=0.1)
    counts = purge(dynamodb_client(), table, now=now, window=WINDOW, expired=False, page_size=SMALL_PAGE)
    # expired items flagged revoked/rotated, lacking issued_at, go too: their ttl stands in for it
    flagged = {k for k in fates["expired"] if k.startswith(("refresh#old-rotated-", "family#old-revoked-"))}
    assert remaining(table) == fates["keep"] | (fates["expired"] - flagged)
    assert counts.expired == 0 and counts.revoked == counts.purged == len(fates["revoked"]) + len(flagged)


def test_expired_only(table):
    now = int(time.time())
    fates = seed(table, now, scale=0.1)
    counts = purge(dynamodb_client(), table, now=now, window=WINDOW, revoked=False, page_size=SMALL_PAGE)
    assert remaining(table) == fates["keep"] | fates["revoked"]
    assert counts.revoked == 0 and counts.expired == counts.purged == len(fates["expired"])


def test_the_cli_purges_and_prints_json(env, table, capsys):
    from passport.cli import main

    now = int(time.time())
    fates = seed(table, now)
    env.monkeypatch.setenv("PASSPORT_CONFIG", str(env.config_path))

    assert main(["purge", "--json", "--aws"]) == 0

    captured = capsys.readouterr()
    body = json.loads(captured.out)
    assert body == {"scanned": sum(len(keys) for keys in fates.values()),
                    "purged": len(fates["expired"]) + len(fates["revoked"]),
                    "revoked": len(fates["revoked"]), "expired": len(fates["expired"])}
    assert f"purged {body['purged']:,}" in captured.err  # the summary line
    assert "\r" not in captured.err  # no progress bar when stderr is not a terminal
    assert remaining(table) == fates["keep"]
    assert not (env.settings.data_path / "purge.checkpoint.json").exists()


def test_the_cli_window_and_flags(env, table, capsys):
    from passport.cli import main

    now = int(time.time())
    fates = seed(table, now, scale=0.1)
    env.monkeypatch.setenv("PASSPORT_CONFIG", str(env.config_path))

    # --expired with a window of 0 hours: every expired item of a known kind goes, revoked live ones stay
    assert main(["purge", "--expired", "--hours", "0", "--json", "--aws"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["revoked"] == 0
    left = remaining(table)
    assert fates["revoked"] <= left
    assert not any(key.startswith(("access#recently-expired-", "throttle#recent-")) for key in left)
    live = {k for k in fates["keep"] if k.startswith("access#live-")}
    assert {k for k in left if k.startswith("access#live-")} == live

    assert main(["purge", "--hours", "-1", "--aws"]) == 1
