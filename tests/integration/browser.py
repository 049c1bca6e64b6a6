"""A scripted browser for the pages: a requests session that keeps cookies, follows nothing by itself, and
reads forms out of the HTML (the real-browser tests drive Chromium; these drive every rule quickly)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **params: str) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.http.get(url, params=params or None, allow_redirects=False, timeout=10)

    def submit(self, form: Form, **overrides: str) -> requests.Response:
        data = {**form.fields, **overrides}
        return self.http.post(self.base + form.action, data=data, allow_redirects=False, timeout=10)

    def login(self, email: str, password: str, next_path: str = "") -> requests.Response:
        page = self.get("/login", **({"next": next_path} if next_path else {}))
        form = next(f for f in forms(page.text) if f.action == "/login")
        return self.submit(form, email=email, password=password)

    def authorize(self, **params: str) -> requests.Response:
        return self.get("/oauth/authorize?" + urlencode(params))

    def consent_forms(self, response: requests.Response) -> tuple[Form, Form]:
        return self.consent_forms_at(response, "/oauth/authorize")

    def consent_forms_at(self, response: requests.Response, action: str) -> tuple[Form, Form]:
        found = [f for f in forms(response.text) if f.action == action]
        approve = next(f for f in found if "_method" not in f.fields)
        deny = next(f for f in found if f.fields.get("_method") == "DELETE")
        return approve, deny
