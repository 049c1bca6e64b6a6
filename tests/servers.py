"""A test's own HTTP server (a fake upstream, a redirect target, a fault proxy) on a thread for one block."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def running(server: socketserver.BaseServer, stop: Callable[[], None] | None = None) -> Iterator[None]:
    """``server`` serves on a daemon thread for the block; then ``stop`` (by default: shut down and close the
    socket) and the thread is joined, so nothing outlives the test."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        if stop is not None:
            stop()
        else:
            server.shutdown()
            server.server_close()
        thread.join(timeout=5)
