"""Render the HTML pages into :class:`~passport.core.http.Response` objects with the security headers.

Every page gets ``X-Frame-Options: DENY``, a strict Content-Security-Policy (no scripts but the form_post page's
auto-submit; the inline ``<style>`` block and that script are allowed by a nonce made fresh for each response;
forms may lead to this site and to the
one client redirect URI the page's forms end at), ``nosniff``, ``no-referrer`` and ``no-store``. No CORS
header is ever set on these pages.

The Jinja2 environment is built once per process, at first use, with autoescaping on for every template
(whatever its file extension) and :class:`~jinja2.StrictUndefined`, so a misspelt or missing context variable
fails loudly instead of rendering as an empty string.
"""

from __future__ import annotations

import functools
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from passport.core.http import Response

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The name shown on pages that are not given one (error pages raised before any configuration is read).
DEFAULT_APP_NAME = "lambda-passport"

HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@functools.cache
def environment() -> Environment:
    """The process-wide Jinja2 environment (built at first call; Lambda reuses it across invocations). Jinja2 is
    imported here, by the first page rendered: a request answered with a redirect (most first requests of the
    authorization endpoint) does not pay for it."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

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


#: RFC 3986 3.1's scheme, which is also CSP's scheme-source grammar.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
#: CSP's host-source (host-char is ALPHA / DIGIT / "-"): an IPv6 literal or an underscore cannot be written in it.
_CSP_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")


def redirect_source(uri: str) -> str | None:
    """The CSP source expression that allows a form's redirect chain to end at ``uri``: its origin
    (scheme://host[:port]) for http(s), the scheme alone for a private-use scheme (RFC 8252 7.1,
    ``com.example.app:``), None for what cannot be a redirect target (no scheme, no host)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not _SCHEME.fullmatch(scheme):
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return None
    if not host:
        return None
    if not _CSP_HOST.fullmatch(host):
        # http://[::1]:port/ (RFC 8252 7.3) has no host-source; the scheme alone is the narrowest source that
        # still lets the browser reach it.
        return f"{scheme}:"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def form_action(redirect: str | None = None) -> str:
    """CSP Level 3 form-action: this site, plus where the form's redirects may end. Chromium checks every
    redirect that follows a form submission, so a form whose 303 leads to a client's redirect URI must name that
    URI's origin, or the browser stops before reaching the client."""
    source = redirect_source(redirect) if redirect else None
    return "form-action 'self'" + (f" {source}" if source else "")


def content_security_policy(nonce: str, form_redirect: str | None = None, *, script: bool = False) -> str:
    """``form_redirect``: the one URI outside this site the page's forms can lead to (through 303s), if any.
    ``script``: the page has an inline script, allowed by the same nonce (the form_post page's auto-submit, OAuth
    2.0 Form Post Response Mode 2); every other page runs none."""
    return "; ".join(
        (
            "default-src 'none'",
            *((f"script-src 'nonce-{nonce}'",) if script else ()),
            f"style-src 'nonce-{nonce}'",
            "img-src 'self' data:",
            "base-uri 'none'",
            form_action(form_redirect),
            "frame-ancestors 'none'",
        )
    )


def security_headers(nonce: str, form_redirect: str | None = None, *, script: bool = False) -> dict[str, str]:
    """The headers every HTML page carries, for a response whose inline style uses ``nonce`` and whose forms
    may lead to ``form_redirect``."""
    return {
        "Content-Type": HTML_CONTENT_TYPE,
        "Content-Security-Policy": content_security_policy(nonce, form_redirect, script=script),
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
    form_redirect: str | None = None,
    script: bool = False,
    **context: object,
) -> Response:
    """Render ``templates/<template>`` with ``context`` (plus ``csp_nonce``) into an HTML response.

    ``headers`` are added after the security headers (and so may replace one, which pages should not need);
    ``cookies`` are full ``Set-Cookie`` values; ``form_redirect`` is the client URI the page's forms can
    end at (form-action allows its origin besides this site); ``script``: the template's inline script carries
    ``csp_nonce`` and may run.
    """
    if "csp_nonce" in context:
        raise ValueError("csp_nonce is set by page() for each response; do not pass it")
    nonce = new_nonce()
    body = environment().get_template(template).render(context, csp_nonce=nonce)
    merged = security_headers(nonce, form_redirect, script=script)
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
