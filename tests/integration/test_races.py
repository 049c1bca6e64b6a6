"""Races (docs/concepts.md: "Single-use and rotation rules hold under concurrency by conditional writes and
transactions"): many clients at once, through the local gateway and DynamoDB Local over HTTP (no lock
anywhere), each starting together at a barrier. Whatever the interleaving, nothing is issued twice and the rule
of each grant holds afterwards.

Each race is bounded: ``RACERS`` threads, each request with a timeout, every thread joined with a deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import requests

from tests.conftest import make_client
from tests.faults import StoreView
from tests.integration.browser import Browser, query_of
from tests.integration.conftest import PASSWORD
from tests.integration.test_authorization_code import REDIRECT, api, approve, exchange, refresh
from tests.integration.test_device_flow import answer, poll, start, tv

# Revocation must show at the guard at once: no authorizer or revocation cache.
pytestmark = [
    pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"),
    pytest.mark.slow,
]

RACERS = 20
T = TypeVar("T")


def race(attempt: Callable[[int], T], racers: int = RACERS) -> list[T]:
    """Run ``attempt(i)`` in ``racers`` threads released together; every result, in thread order."""
    barrier = threading.Barrier(racers, timeout=30)
    results: list[Any] = [None] * racers
    failures: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = attempt(i)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer did not finish"
    assert not failures, failures
    return results


def errors(responses: list[requests.Response]) -> list[str]:
    return sorted(r.json()["error"] for r in responses if r.status_code != 200)


@pytest.fixture
def store(env, store_endpoint):
    view = StoreView(store_endpoint)
    return lambda: view.items(env.settings.storage.tokens_table)


def introspect(server, client, token: str) -> dict[str, Any]:
    answer = requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                           data={"token": token}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def kind(items: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k: v for k, v in items.items() if k.startswith(prefix)}


# -- authorization codes -----------------------------------------------------------------------------------


def test_a_concurrently_replayed_code_leaves_the_winners_tokens_revoked(server, browser, app, store):
    """RFC 6749 4.1.2: a code used more than once is refused and what it issued is revoked. Redeemed by
    many at once, it gives tokens exactly once, and the replays (however they interleave with the winner)
    revoke those tokens: the guard, introspection and the refresh grant all refuse them afterwards."""
    code = approve(browser, app)["code"]
    answers = race(lambda _: exchange(server, app, code))
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1
    assert errors(answers) == ["invalid_grant"] * (RACERS - 1)
    tokens = won[0].json()
    assert api(server, tokens["access_token"]).status_code == 401
    assert introspect(server, app, tokens["access_token"]) == {"active": False}
    assert introspect(server, app, tokens["refresh_token"]) == {"active": False}
    assert refresh(server, app, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    items = store()
    assert len(kind(items, "family#")) == 1 and len(kind(items, "access#")) == 1 and len(kind(items, "refresh#")) == 1


# -- refresh tokens ----------------------------------------------------------------------------------------


def test_fifty_concurrent_refreshes_with_one_token_issue_exactly_once(server, browser, app, store):
    """RFC 6749 6 and RFC 9700 4.14.2 (rotation with reuse detection): a refresh token presented by 50 at
    once rotates exactly once; every other presentation is reuse (invalid_grant, never a 503), which revokes the
    whole family, the winner's new tokens included. Nothing is written twice: one new refresh token and one new
    access token."""
    first = exchange(server, app, approve(browser, app)["code"]).json()
    answers = race(lambda _: refresh(server, app, first["refresh_token"]), 50)
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1
    assert errors(answers) == ["invalid_grant"] * 49
    second = won[0].json()
    assert second["refresh_token"] != first["refresh_token"]
    # The family is revoked: the winner's tokens as well as the first ones.
    for access in (first["access_token"], second["access_token"]):
        assert api(server, access).status_code == 401
        assert introspect(server, app, access) == {"active": False}
    for token in (first["refresh_token"], second["refresh_token"]):
        assert introspect(server, app, token) == {"active": False}
        assert refresh(server, app, token).json()["error"] == "invalid_grant"
    items = store()
    assert len(kind(items, "refresh#")) == 2  # the first one and the winner's: none for the losers
    assert len(kind(items, "access#")) == 2
    (family,) = kind(items, "family#").values()
    assert family["revoked"] == {"BOOL": True}
    assert all(item["revoked"] == {"BOOL": True} for item in kind(items, "access#").values())


def test_sequential_refreshes_are_not_mistaken_for_a_race(server, browser, app):
    """The control for the race above: the same token chain used one at a time keeps working."""
    tokens = exchange(server, app, approve(browser, app)["code"]).json()
    for _ in range(3):
        answer_ = refresh(server, app, tokens["refresh_token"])
        assert answer_.status_code == 200, answer_.text
        tokens = answer_.json()
    assert api(server, tokens["access_token"]).status_code == 200


# -- device codes ------------------------------------------------------------------------------------------


def device_item(items: dict[str, Any], device_code: str) -> dict[str, Any]:
    from passport.core.hashing import hash_secret

    return items[f"device#{hash_secret(device_code)}"]


def test_concurrent_polls_before_approval_never_issue_and_every_slow_down_counts(env, server, store):
    """RFC 8628 3.5: before the user answers, polls get authorization_pending, or slow_down when too fast,
    never tokens; each slow_down raises the interval by 5 seconds "for this and all subsequent requests",
    so concurrent polls that were told to slow down all count."""
    client = tv(env)
    grant = start(server, client)
    answers = race(lambda _: poll(server, client, grant["device_code"]))
    assert all(a.status_code == 400 for a in answers)
    told = errors(answers)
    assert set(told) <= {"authorization_pending", "slow_down"}
    assert told.count("authorization_pending") == 1  # only the first poll was not too fast
    items = store()
    assert int(device_item(items, grant["device_code"])["interval"]["N"]) == 5 + 5 * told.count("slow_down")
    assert not kind(items, "access#") and not kind(items, "family#") and not kind(items, "refresh#")


def test_concurrent_polls_after_approval_issue_tokens_exactly_once(env, server, user, store):
    """RFC 8628 3.5: an approved device code gives tokens once; the concurrent polls that lose get
    invalid_grant (this server's answer for a device code already used), and nothing else is written."""
    client = tv(env)
    grant = start(server, client)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    assert answer(browser, grant["user_code"]).status_code == 200
    answers = race(lambda _: poll(server, client, grant["device_code"]))
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1
    assert errors(answers) == ["invalid_grant"] * (RACERS - 1)
    assert api(server, won[0].json()["access_token"]).json()["id"] == user.id
    items = store()
    assert len(kind(items, "access#")) == 1 and len(kind(items, "family#")) == 1 and len(kind(items, "refresh#")) == 1
    assert device_item(items, grant["device_code"])["status"] == {"S": "redeemed"}


def test_concurrent_approval_and_denial_of_one_user_code_decide_once(env, server, user):
    """RFC 8628 3.3: the user answers a device's request once. Approvals and denials sent together (two
    tabs, a double click): exactly one is taken, and the device hears that one."""
    client = tv(env)
    grant = start(server, client)
    browser = Browser(server.url)
    assert browser.login(user.email, PASSWORD).status_code == 303
    confirm = browser.get("/oauth/device/authorize", user_code=grant["user_code"])
    approve_form, deny_form = browser.consent_forms_at(confirm, "/oauth/device/authorize")
    racers = 10
    pages = race(lambda i: browser.submit(approve_form if i % 2 else deny_form), racers)
    taken = [p for p in pages if p.status_code == 200]
    assert len(taken) == 1, [p.status_code for p in pages]
    assert all(p.status_code in (400, 429) for p in pages if p.status_code != 200)
    outcome = poll(server, client, grant["device_code"])
    if "Device connected" in taken[0].text:
        assert outcome.status_code == 200 and outcome.json()["access_token"]
    else:
        assert "Request denied" in taken[0].text
        assert outcome.json()["error"] == "access_denied"
    assert poll(server, client, grant["device_code"]).status_code == 400  # and never again


# -- consent ----------------------------------------------------------------------------------------------


def test_concurrent_consents_to_one_app_each_get_their_code_and_leave_one_consent(env, server, browser, app, store):
    """A user approves the same app in ten tabs at once, each its own authorization request (RFC 6749 4.1.1):
    every approval answers with its own code (never a 503 from writes meeting each other), each code works once,
    and the consent remembered for the pair is one item with the scopes granted."""
    from tests.integration.test_authorization_code import start

    forms_ = []
    for i in range(10):
        consent = start(browser, app, state=f"tab{i}")
        assert consent.status_code == 200, consent.text
        forms_.append(browser.consent_forms(consent)[0])
    answers = race(lambda i: browser.submit(forms_[i]), len(forms_))
    assert [a.status_code for a in answers] == [303] * len(forms_), [a.text[:200] for a in answers]
    codes = [query_of(a.headers["Location"]) for a in answers]
    assert sorted(c["state"] for c in codes) == sorted(f"tab{i}" for i in range(10))
    exchanged = race(lambda i: exchange(server, app, codes[i]["code"]), len(codes))
    assert [e.status_code for e in exchanged] == [200] * len(codes)
    consents = kind(store(), "consent#")
    assert len(consents) == 1 and next(iter(consents.values()))["scopes"] == {"L": [{"S": "orders:read"}]}


def test_concurrent_answers_to_one_pushed_request_issue_exactly_one_code(env, server, browser, app, store):
    """RFC 9126 4: a request_uri is decided once. The same consent form of one pushed request sent twenty times
    at once (approvals and denials mixed): exactly one answer reaches the client, the others are error pages."""
    pushed = requests.post(f"{server.url}/oauth/par", auth=(app.client_id, app.secret), timeout=10,
                           data={"response_type": "code", "redirect_uri": REDIRECT, "scope": "orders:read"})
    assert pushed.status_code == 201, pushed.text
    consent = browser.authorize(client_id=app.client_id, request_uri=pushed.json()["request_uri"])
    approve_form, deny_form = browser.consent_forms(consent)
    answers = race(lambda i: browser.submit(approve_form if i % 2 else deny_form))
    redirected = [a for a in answers if a.status_code == 303]
    assert len(redirected) == 1 and redirected[0].headers["Location"].startswith(REDIRECT + "?")
    assert sorted(a.status_code for a in answers if a.status_code != 303) == [400] * (RACERS - 1)
    codes = kind(store(), "code#")
    assert len(codes) == (0 if "error=" in redirected[0].headers["Location"] else 1)
    (spent,) = kind(store(), "par#").values()
    assert spent["used"] == {"BOOL": True}


# -- client secrets ----------------------------------------------------------------------------------------


def test_concurrent_secret_rotations_leave_exactly_one_secret_working(server, browser):
    """docs/cli.md (rotate-secret: "the old one stops working"): rotations racing each other each return a new
    secret, but afterwards exactly one secret authenticates the client; every other one, and the original,
    is refused with invalid_client."""
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    made = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf, timeout=10,
                             json={"name": "racy", "redirect_uris": [REDIRECT]})
    assert made.status_code == 201, made.text
    client_id, original = made.json()["client_id"], made.json()["client_secret"]
    racers = 10
    rotated = race(lambda _: browser.http.post(f"{server.url}/oauth/clients/{client_id}/secret", headers=xsrf,
                                               timeout=30), racers)
    assert all(r.status_code == 201 for r in rotated), [r.text for r in rotated if r.status_code != 201]
    secrets_ = [r.json()["client_secret"] for r in rotated]
    assert len(set(secrets_)) == racers

    def authenticates(secret: str) -> bool:
        # Revocation authenticates the client first (RFC 7009 2.1) and answers 200 even for an unknown token.
        answer_ = requests.post(f"{server.url}/oauth/revoke", auth=(client_id, secret), data={"token": "unknown"},
                                timeout=10)
        assert answer_.status_code in (200, 401), answer_.text
        return answer_.status_code == 200

    working = [s for s in secrets_ if authenticates(s)]
    assert len(working) == 1
    assert not authenticates(original)


def test_concurrent_cli_rotations_leave_exactly_one_secret_working(env, server):
    """The same rule through ``passport client rotate-secret`` (the CLI's command, run in threads)."""
    import argparse

    from passport.cli import Output, cmd_client_rotate_secret

    client = make_client(env)

    class Captured(Output):
        def emit(self, payload: Any, text: str) -> None:
            self.payload = payload

    def rotate(_: int) -> str:
        out = Captured(as_json=True)
        cmd_client_rotate_secret(argparse.Namespace(client_id=client.client_id), env.settings, out)
        return out.payload["client_secret"]

    secrets_ = race(rotate, 10)
    assert len(set(secrets_)) == 10
    working = [s for s in secrets_ if server.token(client.client_id, s).status_code == 200]
    assert len(working) == 1
    assert server.token(client.client_id, client.secret).status_code == 401
