"""Server-rendered HTML pages: login, consent, sign-out and error pages (docs/http.md, docs/security.md).

Templates live in ``templates/`` next to :mod:`passport.web.render`, are rendered by Jinja2 with autoescaping on
for every template, and use no JavaScript and no third-party assets: one inline stylesheet allowed by a
per-response CSP nonce.
"""
