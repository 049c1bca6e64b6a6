"""Render the HTML pages into :class:`~passport.core.http.Response` objects with the security headers.

Every page gets ``X-Frame-Options: DENY``, a strict Content-Security-Policy (no scripts at all; the one inline
``<style>`` block is allowed by a nonce made fresh for each response), ``nosniff``, ``no-referrer`` and
``no-store``. No CORS header is ever set on these pages.

The Jinja2 environment is built once per process, at first use, with autoescaping on for every template
(whatever its file extension) and :class:`~jinja2.StrictUndefined`, so a misspelt or missing context variable
fails loudly instead of rendering as an empty string.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from passport.core.http import Response

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The name shown on pages that are not given one (error pages raised before any configuration is read).
DEFAULT_APP_NAME = "lambda-passport"

HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@functools.cache
def environment() -> Environment:
    """The process-wide Jinja2 environment (built at first call; Lambda reuses it across invocations)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code and never change while a process runs: skip the stat on every render.
        auto_reload=False,
    )


def new_nonce() -> str:
    """A CSP nonce: 128 random bits, base64url (a valid CSP ``base64-value``)."""
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str) -> str:
    # No form-action directive on purpose: Chrome applies form-action to the redirects that follow a form
    # submission, so `form-action 'self'` would block the 303 from POST /oauth/authorize to the client's
    # redirect URI (another origin). Forms here only ever post to relative, same-origin actions.
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src 'nonce-{nonce}'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(nonce: str) -> dict[str, str]:
    """The headers every HTML page carries, for a response whose inline style uses ``nonce``."""
    return {
        "Content-Type": HTML_CONTENT_TYPE,
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def page(
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    cookies: list[str] | None = None,
    **context: object,
) -> Response:
    """Render ``templates/<template>`` with ``context`` (plus ``csp_nonce``) into an HTML response.

    ``headers`` are added after the security headers (and so may replace one, which pages should not need);
    ``cookies`` are full ``Set-Cookie`` values.
    """
    if "csp_nonce" in context:
        raise ValueError("csp_nonce is set by page() for each response; do not pass it")
    nonce = new_nonce()
    body = environment().get_template(template).render(context, csp_nonce=nonce)
    merged = security_headers(nonce)
    merged.update(headers or {})
    return Response(status=status, headers=merged, body=body, cookies=list(cookies or []))


def error_page(
    title: str,
    message: str,
    status: int = 400,
    *,
    app_name: str = DEFAULT_APP_NAME,
    headers: dict[str, str] | None = None,
) -> Response:
    """An HTML error page, for browser endpoints that must not redirect (unknown client, bad redirect URI)."""
    return page("error.html", status=status, headers=headers, app_name=app_name, title=title, message=message)
