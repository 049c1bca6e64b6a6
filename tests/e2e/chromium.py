"""Debian's Chromium for the browser tests, and the loopback redirect URI they land on: written once, here.

Every browser test drives the Chromium of Debian's ``chromium`` package (/usr/bin/chromium) through Playwright's
``executable_path``, never a browser Playwright downloads (no ``playwright install``): one browser, installed and
patched by the OS, the same on a laptop and in CI. Without it, the launchers yield None and each test fails saying
how to install it (``scripts/ensure-browser``). The client's redirect URI is a tiny HTTP server on 127.0.0.1, and
screenshots go to artifacts/screenshots/ (git-ignored) for CI to keep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser as AsyncBrowser
from playwright.async_api import async_playwright
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import REPO
from tests.servers import running

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
    "`scripts/ensure-browser` (or `sudo apt-get install -y chromium`); never `playwright install`."
)
SCREENSHOTS = REPO / "artifacts" / "screenshots"
TIMEOUT_MS = 15_000


# -- the client's redirect URI: a tiny HTTP server on loopback ----------------------------------------------------


@dataclass
class Callback:
    url: str
    hits: list[str] = field(default_factory=list)  # request paths with their query, in order


@contextmanager
def serve_callback(body: bytes = b"ok") -> Iterator[Callback]:
    """A redirect URI at http://127.0.0.1:<free port>/callback answering every GET with ``body`` (text/plain) and
    recording the path and query it was asked for."""
    record = Callback(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    record.url = f"http://127.0.0.1:{httpd.server_address[1]}/callback"
    with running(httpd):
        yield record


# -- the browser --------------------------------------------------------------------------------------------------


def _launch_options() -> dict[str, Any]:
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


@contextmanager
def launched_chromium() -> Iterator[Browser | None]:
    """Headless Debian Chromium (Playwright's sync API); None when the package is missing."""
    if not CHROMIUM.exists():
        yield None
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(**_launch_options())
        try:
            yield browser
        finally:
            browser.close()


@asynccontextmanager
async def launched_chromium_async() -> AsyncIterator[AsyncBrowser | None]:
    """The same with Playwright's async API, for a test already running an event loop (the sync API refuses to)."""
    if not CHROMIUM.exists():
        yield None
        return
    async with async_playwright() as p:
        browser = await p.chromium.launch(**_launch_options())
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Tab:
    """A page in a browser context of its own (its own cookies), with every request it made and every console
    error it logged."""

    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assert_stayed_on_loopback(self) -> None:
        away = [url for url in self.requests if not url.startswith("data:") and urlsplit(url).hostname != "127.0.0.1"]
        assert not away, f"requests left 127.0.0.1: {away}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


def new_tab(browser: Browser | None, **context_options: Any) -> Tab:
    """Open a page in a fresh context (``TIMEOUT_MS`` by default), recording its requests and console errors; the
    caller closes ``tab.context``. Without Debian's Chromium (``browser`` None) the test fails, saying why."""
    if browser is None:
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    tab = Tab(context, context.new_page())
    context.on("request", lambda request: tab.requests.append(request.url))
    tab.page.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
    tab.page.on("pageerror", lambda error: tab.console_errors.append(str(error)))
    return tab


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
