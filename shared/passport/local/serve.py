"""``passport serve`` / ``make serve``: the local store, first-start set-up, and the local gateway."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import MutableMapping

from passport.config import Settings, is_given, load_settings
from passport.core.clients import NewClient


def _banner(settings: Settings, created: list[NewClient], new_keys: str | None) -> str:
    url = settings.issuer_url
    lines = [f"lambda-passport is running at {url}", f"  issuer   {url}",
             f"  metadata {url}/.well-known/oauth-authorization-server", f"  jwks     {url}/.well-known/jwks.json"]
    if new_keys:
        lines.append(f"Created signing keys in {settings.keys.secret_name or settings.keys_path} (kid {new_keys}).")
    for made in created:
        lines += [f"Created client '{made.client.name}':", f"  client_id     {made.client.client_id}"]
        if made.secret:
            lines.append(f"  client_secret {made.secret}   (shown once)")
    lines += [
        "Create a client and get a token:",
        "  .venv/bin/passport client create --client --name svc --scope orders:read",
        f"  curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials -d scope=orders:read {url}/oauth/token",
    ]
    if settings.demo.enabled:
        lines.append(f"  curl -H 'Authorization: Bearer ACCESS_TOKEN' {url}/api/orders")
    lines += [
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def enable_demos(environ: MutableMapping[str, str]) -> None:
    """The local server runs the demo API and MCP server (the quickstart and the guides call them) unless the
    settings file or the environment sets ``demo.enabled``. Through the environment, so the handlers, which read
    their settings themselves, see it too."""
    if not is_given("demo", "enabled", environ):
        environ["PASSPORT_DEMO_ENABLED"] = "true"


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    from passport import admin, compose
    from passport.local.gateway import LocalGateway, make_server
    from passport.local.store import UsedStore, own_store, remove_server_file, write_server_file
    from passport.storage.repositories import DynamoClientStore

    # The issuer follows HOST and PORT unless configured; handlers read the same environment.
    os.environ["HOST"], os.environ["PORT"] = host, str(port)
    enable_demos(os.environ)
    settings = load_settings()
    compose.reset()
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("passport").setLevel(logging.INFO)

    server = None
    with own_store(settings, wait=False) as store:
        try:
            result = admin.install(settings, DynamoClientStore())
            server = make_server(LocalGateway(settings), host, port)
            write_server_file(settings.data_path, store.endpoint, settings.issuer_url,
                              external=isinstance(store, UsedStore))
            print(_banner(settings, result.clients, result.kid), flush=True)
            # SIGTERM (CI, process managers) stops as cleanly as Ctrl-C.
            signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if server is not None:
                server.server_close()
            remove_server_file(settings.data_path)
            where = store.endpoint if isinstance(store, UsedStore) else settings.data_path
            print("Stopped; data saved in", where, flush=True)
