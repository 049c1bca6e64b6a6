"""The server-rendered pages (docs/http.md, docs/security.md): Jinja2 with autoescaping, no
JavaScript and no third-party assets, CSRF fields on every form, and the security headers on every response."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jinja2
import pytest
from markupsafe import escape
from passport.core.http import Response
from passport.web.render import DEFAULT_APP_NAME, error_page, page, security_headers

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='x",
]


def login_context(**overrides: object) -> dict[str, object]:
    context = {
        "app_name": "Acme ID",
        "action": "/login",
        "next": "/oauth/authorize?client_id=abc&state=xyz",
        "csrf": "csrf-token-123",
        "email": "",
        "error": None,
    }
    return {**context, **overrides}


def consent_context(**overrides: object) -> dict[str, object]:
    context = {
        "app_name": "Acme ID",
        "client_name": "Photo Printer",
        "user_name": "Ada Lovelace",
        "user_email": "ada@example.test",
        "identity": [],
        "resources": [],
        # a dynamically registered client (RFC 7591), so every variable of the page is used
        "vetted": False,
        "registered": True,
        "client_uri": "printer.example/home",
        # a client ID metadata document's client is another kind (test below)
        "document_host": "",
        "only_loopback": False,
        "scopes": [
            {"name": "orders:read", "description": "Read your orders"},
            {"name": "orders:write", "description": "Create and change your orders"},
        ],
        "params": {
            "response_type": "code",
            "client_id": "photo-printer",
            "redirect_uri": "/callback",
            "scope": "orders:read orders:write",
            "state": "s-1",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
        "csrf": "csrf-token-456",
        "action": "/oauth/authorize",
        "logout_action": "/logout",
    }
    return {**context, **overrides}


def error_context(**overrides: object) -> dict[str, object]:
    return {**{"app_name": "Acme ID", "title": "Unknown client", "message": "No such client."}, **overrides}


def logged_out_context(**overrides: object) -> dict[str, object]:
    return {**{"app_name": "Acme ID", "login_url": "/login"}, **overrides}


def logout_confirm_context(**overrides: object) -> dict[str, object]:
    context = {"app_name": "Acme ID", "client_name": "Photo Printer", "user_email": "ada@example.test",
               "csrf": "csrf-token-789", "action": "/oauth/logout",
               "params": {"client_id": "photo-printer", "state": "s-1"}}
    return {**context, **overrides}


def device_context(**overrides: object) -> dict[str, object]:
    context = {"app_name": "Acme ID", "action": "/oauth/device/authorize", "user_code": "WDJB-MJHT",
               "error": "That code is not valid or has expired."}
    return {**context, **overrides}


def account_context(**overrides: object) -> dict[str, object]:
    context = {
        "app_name": "Acme ID", "user_name": "Ada Lovelace", "user_email": "ada@example.test",
        "csrf": "csrf-token-acc", "action": "/account", "logout_action": "/logout",
        "apps": [{"id": "fam-1", "client": {"name": "Photo Printer"}, "scopes": ["orders:read"]}],
        "tokens": [{"token_id": "tok-1", "name": "CI deploys", "scopes": ["orders:write"]}],
        "clients": [{"id": "cli-1", "name": "My script", "redirect_uris": ["com.example.myscript:/callback"],
                     "public": False}],
        "scopes": [{"name": "orders:read", "description": "Read your orders"}],
        "shown": {"label": "Your new personal access token", "value": "eyJ.example.token"},
    }
    return {**context, **overrides}


PAGES = {
    "login.html": login_context,
    "device.html": device_context,
    "account.html": account_context,
    "logout_confirm.html": logout_confirm_context,
    "consent.html": consent_context,
    "error.html": error_context,
    "logged_out.html": logged_out_context,
}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None], form: int | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.form = form
        self.text = ""


class Parsed(HTMLParser):
    """Every start tag with its attributes and the index of the form it sits in; the text of buttons and links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.forms: list[Element] = []
        self.styles: list[str] = []
        self._form: int | None = None
        self._open: list[Element] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), self._form)
        if tag == "form":
            self.forms.append(element)
            self._form = element.form = len(self.forms) - 1
        self.elements.append(element)
        if tag in ("button", "a", "label", "h1", "li", "div"):
            self._open.append(element)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if self._open and self._open[-1].tag == tag:
            self._open.pop()
        self._in_style = False

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data
        if self._in_style:
            self.styles.append(data)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def inputs(self, form: int) -> list[Element]:
        return [e for e in self.elements if e.tag == "input" and e.form == form]

    def button(self, text: str) -> Element:
        (found,) = [e for e in self.elements if e.tag == "button" and e.text.strip() == text]
        return found


def render(template: str, **overrides: object) -> Response:
    return page(template, **PAGES[template](**overrides))


def all_pages() -> list[Response]:
    return [render(name) for name in PAGES] + [
        render("login.html", error="Those details do not match.", email="ada@example.test"),
        render("consent.html", scopes=[]),
        error_page("Invalid request", "The redirect URI is not registered for this client."),
    ]


def nonce_of(response: Response) -> str:
    match = re.search(r"style-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert match
    return match.group(1)


def assert_not_injected(html: str, payload: str) -> None:
    assert payload not in html
    assert str(escape(payload)) in html
    parsed = Parsed(html)
    assert not parsed.find("script")
    assert not parsed.find("img")
    assert not [(e.tag, name) for e in parsed.elements for name in e.attrs if name.startswith("on")]


# --- every template renders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(PAGES))
def test_every_template_renders_with_its_context(template: str):
    response = render(template)
    assert response.status == 200
    assert response.body.startswith("<!doctype html>")
    assert '<html lang="en">' in response.body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.body
    parsed = Parsed(response.body)
    assert len(parsed.find("main")) == 1
    assert len(parsed.find("h1")) == 1
    assert "Acme ID" in response.body


def test_login_page_shows_the_app_name_as_its_heading():
    (heading,) = Parsed(render("login.html").body).find("h1")
    assert "Acme ID" in heading.text


def test_consent_page_shows_the_client_the_scopes_and_the_user():
    html = render("consent.html").body
    (heading,) = Parsed(html).find("h1")
    assert " ".join(heading.text.split()) == "Photo Printer is requesting permission to access your account"
    items = [" ".join(li.text.split()) for li in Parsed(html).find("li")]
    assert items == ["Read your orders orders:read", "Create and change your orders orders:write"]
    assert "Signed in as <strong>Ada Lovelace</strong> (ada@example.test) — not you?" in html


def test_consent_page_with_no_scopes_says_the_app_only_asks_who_you_are():
    html = render("consent.html", scopes=[]).body
    assert "asks only to know who you are" in html
    assert not Parsed(html).find("li")


@pytest.mark.parametrize("registered, notice", [
    (True, "Photo Printer registered itself with this server and says it is printer.example/home: nobody has "
           "checked that."),
    (False, "Photo Printer was created by a user of this server, not by its operators: nobody has checked that it "
            "is what its name says."),
])
def test_the_consent_page_warns_of_a_client_nobody_vetted_in_words_for_its_kind(registered, notice):
    """docs/security.md (RFC 7591 5, RFC 6749 10.2): a client that registered itself and one a user of the server
    created are both only what they say they are; an operator's client gets no notice."""
    html = render("consent.html", registered=registered).body
    (paragraph,) = re.findall(r'<p class="[^"]*\bunvetted\b[^"]*">(.*?)</p>', html, re.DOTALL)
    text = " ".join(re.sub(r"<[^>]+>", "", paragraph).split())
    assert notice in text and "Approve only if you started this and trust it." in text
    vetted = render("consent.html", vetted=True, registered=registered).body
    assert "nobody has checked" not in vetted and "unvetted" not in vetted


@pytest.mark.parametrize("only_loopback", [False, True])
def test_the_consent_page_names_a_metadata_documents_host_and_warns_when_it_answers_only_to_localhost(only_loopback):
    """The MCP authorization spec's Client ID Metadata Document Security: the host shown plainly, and a warning
    when every redirect URI is on this device (RFC 8252 7.3: any app there can listen)."""
    html = render("consent.html", document_host="agent.example.com", only_loopback=only_loopback).body
    (paragraph,) = re.findall(r'<p class="[^"]*\bdocument\b[^"]*">(.*?)</p>', html, re.DOTALL)
    text = " ".join(re.sub(r"<[^>]+>", "", paragraph).split())
    assert "describes itself in a document at agent.example.com" in text
    assert "registered itself" not in html  # one notice, for the kind it is
    warnings = re.findall(r'<p class="alert only-loopback" role="alert">(.*?)</p>', html, re.DOTALL)
    assert len(warnings) == only_loopback
    if only_loopback:
        assert "any app on your computer could be posing as agent.example.com" in warnings[0]


def test_error_page_shows_title_and_message():
    response = error_page("Unknown client", "No client is registered with that id.", 400)
    assert response.status == 400
    (heading,) = Parsed(response.body).find("h1")
    assert heading.text == "Unknown client"
    assert "No client is registered with that id." in response.body
    assert DEFAULT_APP_NAME in response.body


def test_error_page_takes_any_status():
    assert error_page("Not found", "Nothing here.", 404).status == 404


def test_logged_out_page_links_to_login():
    (link,) = Parsed(render("logged_out.html").body).find("a")
    assert link.attrs["href"] == "/login"
    assert link.text.strip() == "Sign in again"


# --- autoescaping ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("consent.html", "client_name"),
        ("consent.html", "user_name"),
        ("consent.html", "user_email"),
        ("consent.html", "app_name"),
        ("consent.html", "csrf"),
        ("login.html", "email"),
        ("login.html", "next"),
        ("login.html", "error"),
        ("login.html", "csrf"),
        ("error.html", "title"),
        ("error.html", "message"),
        ("logged_out.html", "app_name"),
    ],
)
def test_hostile_values_appear_only_escaped(template: str, field: str, payload: str):
    assert_not_injected(render(template, **{field: payload}).body, payload)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_scope_descriptions_and_names_appear_only_escaped(payload: str):
    html = render("consent.html", scopes=[{"name": payload, "description": payload}]).body
    assert_not_injected(html, payload)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_hidden_param_values_and_names_appear_only_escaped(payload: str):
    html = render("consent.html", params={"state": payload, payload: "x", "redirect_uri": payload}).body
    assert_not_injected(html, payload)
    parsed = Parsed(html)
    for form in (parsed.button("Approve").form, parsed.button("Deny").form):
        values = {e.attrs["name"]: e.attrs["value"] for e in parsed.inputs(form)}
        assert values["state"] == payload
        assert values[payload] == "x"


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_error_page_arguments_appear_only_escaped(payload: str):
    assert_not_injected(error_page(payload, payload).body, payload)


# --- headers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [lambda: render("login.html"), lambda: error_page("Bad request", "Try again.")],
    ids=["page", "error_page"],
)
def test_security_headers_are_on_every_page(response):
    response = response()
    nonce = nonce_of(response)
    assert response.headers == {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def csp_directives(response: Response) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d for d in response.headers["Content-Security-Policy"].split("; ")}


def test_forms_may_only_post_to_this_site_when_no_client_redirect_is_named():
    assert csp_directives(render("login.html"))["form-action"] == "form-action 'self'"
    assert "form-action 'self'; " in security_headers("n")["Content-Security-Policy"]


@pytest.mark.parametrize("redirect, source", [
    # only the origin: the path, query (a logout's state) and fragment are never in the policy
    ("https://client.example/cb?x=1#f", "https://client.example"),
    ("https://Client.Example:8443/cb", "https://client.example:8443"),
    ("http://127.0.0.1:53117/callback", "http://127.0.0.1:53117"),
    ("http://localhost:8080/cb", "http://localhost:8080"),
    # RFC 8252 7.1: a private-use scheme is allowed by its scheme source
    ("com.example.app:/oauth2redirect", "com.example.app:"),
    ("Com.Example.App:/cb", "com.example.app:"),
    # no host-source can name an IPv6 literal or an underscore: the scheme, the narrowest source that still works
    ("http://[::1]:53117/cb", "http:"),
    ("https://my_host.example/cb", "https:"),
    # and a host that would smuggle a directive in is never written into the header
    ("https://x.example; script-src *", "https:"),
])
def test_a_page_whose_form_leads_to_a_client_allows_that_origin_only(redirect, source):
    response = render("consent.html", form_redirect=redirect)
    assert csp_directives(response)["form-action"] == f"form-action 'self' {source}"


@pytest.mark.parametrize("redirect", ["/relative/cb", "https:///no-host", "https://host:notaport/cb", "", None])
def test_a_redirect_that_names_no_origin_adds_nothing(redirect):
    assert csp_directives(render("consent.html", form_redirect=redirect))["form-action"] == "form-action 'self'"


def test_no_cors_headers_ever():
    for response in all_pages():
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_style_nonce_matches_the_csp_and_is_fresh_for_every_response():
    first, second = render("login.html"), render("login.html")
    for response in (first, second):
        (style,) = Parsed(response.body).find("style")
        assert style.attrs["nonce"] == nonce_of(response)
        assert len(nonce_of(response)) >= 22
    assert nonce_of(first) != nonce_of(second)


def test_csp_nonce_cannot_be_passed_in():
    with pytest.raises(ValueError):
        page("login.html", csp_nonce="fixed", **login_context())


def test_page_passes_status_extra_headers_and_cookies_through():
    cookie = "passport_session=abc; Path=/; HttpOnly; SameSite=Lax"
    response = page("login.html", status=401, headers={"Retry-After": "30"}, cookies=[cookie], **login_context())
    assert response.status == 401
    assert response.headers["Retry-After"] == "30"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.cookies == [cookie]
    assert render("login.html").cookies == []


# --- no scripts, no third-party assets ---------------------------------------------------------------------


def test_no_script_in_any_output():
    for response in all_pages():
        assert "<script" not in response.body.lower()
        assert " on" not in "".join(f" {name}" for e in Parsed(response.body).elements for name in e.attrs)


def test_no_third_party_assets_in_any_output():
    for response in all_pages():
        # A URL may be shown (a form field's value or example), never loaded or linked.
        shown = re.sub(r'\s(?:placeholder|value)="[^"]*"', "", response.body)
        assert "http://" not in shown
        assert "https://" not in shown
        parsed = Parsed(response.body)
        for element in parsed.elements:
            for name in ("src", "href", "action", "srcset", "poster", "data"):
                value = element.attrs.get(name)
                if value is not None:
                    assert value.startswith(("/", "data:")), (element.tag, name, value)
                    assert not value.startswith("//"), (element.tag, name, value)
        assert [e.attrs["rel"] for e in parsed.find("link")] == ["icon"]
        assert len(parsed.find("style")) == 1
        css = "".join(parsed.styles)
        assert "url(" not in css
        assert "@import" not in css
        assert "@font-face" not in css


# --- forms ------------------------------------------------------------------------------------------------


def test_login_form_fields_names_and_autocomplete():
    parsed = Parsed(render("login.html", email="ada@example.test").body)
    (form,) = parsed.forms
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/login"
    fields = {e.attrs["name"]: e.attrs for e in parsed.inputs(0)}
    assert set(fields) == {"_token", "next", "email", "password"}
    assert fields["_token"]["type"] == "hidden"
    assert fields["_token"]["value"] == "csrf-token-123"
    assert fields["next"]["type"] == "hidden"
    assert fields["next"]["value"] == "/oauth/authorize?client_id=abc&state=xyz"
    assert fields["email"]["type"] == "email"
    assert fields["email"]["autocomplete"] == "username"
    assert "required" in fields["email"]
    assert fields["email"]["value"] == "ada@example.test"
    assert fields["password"]["type"] == "password"
    assert fields["password"]["autocomplete"] == "current-password"
    assert "required" in fields["password"]
    assert "value" not in fields["password"]
    button = parsed.button("Sign in")
    assert button.form == 0
    assert button.attrs["type"] == "submit"


def test_every_visible_field_has_a_label():
    for response in all_pages():
        parsed = Parsed(response.body)
        labelled = {label.attrs.get("for") for label in parsed.find("label")}
        for field in parsed.find("input"):
            if field.attrs["type"] != "hidden":
                assert field.attrs["id"] in labelled


def test_login_error_is_shown_in_an_alert_box_only_when_there_is_one():
    assert 'role="alert"' not in render("login.html").body
    html = render("login.html", error="Those details do not match.").body
    (alert,) = [e for e in Parsed(html).elements if e.attrs.get("role") == "alert"]
    assert alert.text == "Those details do not match."


def test_every_form_posts_and_carries_the_csrf_token():
    for response in [render("login.html"), render("consent.html")]:
        parsed = Parsed(response.body)
        assert parsed.forms
        for index, form in enumerate(parsed.forms):
            assert form.attrs["method"] == "post"
            tokens = [e for e in parsed.inputs(index) if e.attrs["name"] == "_token"]
            assert len(tokens) == 1
            assert tokens[0].attrs["type"] == "hidden"
            assert tokens[0].attrs["value"].startswith("csrf-token-")


def test_consent_page_has_approve_and_deny_forms_with_method_delete_only_on_deny():
    parsed = Parsed(render("consent.html").body)
    approve, deny = parsed.button("Approve"), parsed.button("Deny")
    assert approve.form != deny.form
    for button in (approve, deny):
        assert parsed.forms[button.form].attrs == {"method": "post", "action": "/oauth/authorize"}
        assert button.attrs["type"] == "submit"
    approve_fields = {e.attrs["name"]: e.attrs["value"] for e in parsed.inputs(approve.form)}
    deny_fields = {e.attrs["name"]: e.attrs["value"] for e in parsed.inputs(deny.form)}
    params = consent_context()["params"]
    assert approve_fields == {**params, "_token": "csrf-token-456"}
    assert deny_fields == {**params, "_token": "csrf-token-456", "_method": "DELETE"}
    assert all(e.attrs["type"] == "hidden" for e in parsed.inputs(approve.form) + parsed.inputs(deny.form))


def test_a_pushed_requests_consent_forms_carry_its_request_uri_alone_and_still_say_where_the_answer_goes():
    """RFC 9126 4: the pushed parameters stay on the server; the page still shows the redirect URI and the
    resources (RFC 8707) the pushed request named."""
    carried = {"client_id": "photo-printer", "request_uri": "urn:ietf:params:oauth:request_uri:abc"}
    parsed = Parsed(render("consent.html", params=carried, pushed=True, sent_back_to="https://printer.example/cb",
                           resources=["https://api.example.com"]).body)
    for button in (parsed.button("Approve"), parsed.button("Deny")):
        fields = {e.attrs["name"] for e in parsed.inputs(button.form)}
        assert fields - {"_method"} == {"client_id", "request_uri", "_token"}
    html = render("consent.html", params=carried, pushed=True, sent_back_to="https://printer.example/cb",
                  resources=["https://api.example.com"]).body
    assert "You will be sent back to https://printer.example/cb" in html
    assert "The access is for https://api.example.com." in html


def test_consent_page_has_a_sign_out_form_with_only_the_csrf_token():
    parsed = Parsed(render("consent.html").body)
    sign_out = parsed.button("Sign out")
    assert parsed.forms[sign_out.form].attrs["action"] == "/logout"
    assert parsed.forms[sign_out.form].attrs["method"] == "post"
    fields = {e.attrs["name"]: e.attrs["value"] for e in parsed.inputs(sign_out.form)}
    assert fields == {"_token": "csrf-token-456"}
    assert len(parsed.forms) == 3


# --- StrictUndefined ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(PAGES))
def test_a_missing_context_variable_raises(template: str):
    context = PAGES[template]()
    for name in context:
        partial = {k: v for k, v in context.items() if k != name}
        with pytest.raises(jinja2.UndefinedError):
            page(template, **partial)


def test_a_missing_scope_field_raises():
    with pytest.raises(jinja2.UndefinedError):
        render("consent.html", scopes=[{"name": "orders:read"}])


@pytest.mark.parametrize("issuer, secure", [
    ("http://127.0.0.1:8000", False), ("http://localhost:8000", False), ("http://[::1]:8000", False),
    ("https://auth.example.com", True), ("http://auth.example.com", True),
])
def test_session_cookies_are_secure_everywhere_but_plain_http_loopback(issuer, secure):
    from passport.endpoints.browser import BrowserContext

    ctx = BrowserContext(issuer=issuer, app_name="x", clients=None, users=None, sessions=None, consents=None,
                         grants=None, throttle=None, scopes={}, scope_policy=None, response_types=("code",),
                         code_lifetime=600, session_lifetime=3600)
    assert ctx.secure_cookies is secure
    assert ctx.session_cookie.startswith("__Host-") is secure


# --- the form_post page (OAuth 2.0 Form Post Response Mode 2) ------------------------------------------------------


def form_post(**fields: str) -> Response:
    return page("form_post.html", app_name="Passport", client_name="Orders <App>", action="https://app.example/cb",
                fields={"code": "c-1", "state": "s", "iss": "https://auth.example", **fields},
                form_redirect="https://app.example/cb", script=True)


def test_the_form_post_page_posts_every_field_to_the_redirect_uri_with_a_visible_button():
    """Form Post Response Mode 2: the values as hidden fields of a form whose action is the redirect URI, sent by
    the page's script, or by its button where scripts do not run."""
    parsed = Parsed(form_post().body)
    (form,) = parsed.find("form")
    assert form.attrs["method"] == "post" and form.attrs["action"] == "https://app.example/cb"
    assert {e.attrs["name"]: e.attrs["value"] for e in parsed.inputs(0)} == {
        "code": "c-1", "state": "s", "iss": "https://auth.example"}
    assert parsed.button("Continue to Orders <App>").attrs.get("type") == "submit"


def test_the_form_post_script_is_the_only_one_and_runs_by_the_responses_nonce():
    response = form_post()
    directives = csp_directives(response)
    nonce = nonce_of(response)
    assert directives["script-src"] == f"script-src 'nonce-{nonce}'"
    assert directives["form-action"] == "form-action 'self' https://app.example"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'" and response.headers["Cache-Control"] == "no-store"
    (script,) = Parsed(response.body).find("script")
    assert script.attrs["nonce"] == nonce and "src" not in script.attrs
    assert all("script-src" not in r.headers["Content-Security-Policy"] for r in all_pages())


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_form_post_values_appear_only_escaped(payload: str):
    html = form_post(state=payload, error_description=payload).body
    assert payload not in html or payload == escape(payload)
    values = {e.attrs["name"]: e.attrs["value"] for e in Parsed(html).inputs(0)}
    assert values["state"] == payload and values["error_description"] == payload
    assert len(Parsed(html).find("script")) == 1
