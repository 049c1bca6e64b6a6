"""Identifiers a caller controls never reach DynamoDB as keys over its limits (a partition key is at most 2048
bytes: docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html): each endpoint that looks one
up answers in its own style, never the 503 DynamoDB's ValidationException would become. Proven against DynamoDB
Local, which enforces the limit as DynamoDB does."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import make_client
from tests.integration.browser import Browser

HUGE = "x" * 3000


def test_a_huge_client_id_is_refused_in_each_endpoints_style(server, env):
    app = make_client(env, grant_types=("authorization_code",), redirect_uris=("https://a.example/cb",))
    answers = {
        "authorize": requests.get(f"{server.url}/oauth/authorize", params={
            "response_type": "code", "client_id": HUGE, "redirect_uri": "https://a.example/cb"}, timeout=10),
        "device": requests.post(f"{server.url}/oauth/device/code", data={"client_id": HUGE}, timeout=10),
        "token": requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials",
                                                                  "client_id": HUGE, "client_secret": "s"}, timeout=10),
        "registration": requests.get(f"{server.url}/oauth/register/{HUGE}",
                                     headers={"Authorization": "Bearer x"}, timeout=10),
        "revoke": requests.post(f"{server.url}/oauth/revoke", auth=(app.client_id, app.secret),
                                data={"token": HUGE}, timeout=10),
    }
    assert {name: a.status_code for name, a in answers.items() if a.status_code >= 500} == {}


@pytest.mark.parametrize("path", ["/oauth/device", "/oauth/device/authorize"])
def test_a_huge_user_code_is_refused_on_the_device_pages(server, env, path):
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    from tests.integration.conftest import PASSWORD

    user = create_user(DynamoUserStore(), email="huge@example.com", name="H", password=PASSWORD)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    answer = browser.get(path, user_code=HUGE)
    assert answer.status_code < 500, answer.text[:300]


def test_huge_ids_in_the_account_api_paths_are_refused(server, env, browser):
    for method, path in (("DELETE", f"/oauth/tokens/{HUGE}"), ("PUT", f"/oauth/clients/{HUGE}"),
                         ("DELETE", f"/oauth/clients/{HUGE}"), ("POST", f"/oauth/clients/{HUGE}/secret"),
                         ("DELETE", f"/oauth/personal-access-tokens/{HUGE}")):
        answer = browser.http.request(method, f"{server.url}{path}", timeout=10,
                                      headers={"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]},
                                      json={"name": "n", "redirect": ["https://a.example/cb"]})
        assert answer.status_code < 500, (method, path[:40], answer.status_code, answer.text[:200])
