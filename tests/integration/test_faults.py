"""Faults (docs/http.md: when storage is throttled or down, 503 with Retry-After, and nothing is left
half-written; docs/security.md: the guard fails closed; docs/keys.md: keys in Secrets Manager).

Every AWS call of the process goes over HTTP through a fault-injecting proxy (:mod:`tests.faults`) in front of
DynamoDB Local, so throttling, server errors, timeouts and dropped connections arrive on the wire and go
through botocore, pynamodb and the product's own handling, as on AWS. Most tests run with
``[storage] retries = 0`` and ``timeout_seconds = 2`` so each injected fault shows at once; one runs with the
default retries to show a passing fault is invisible.

The main tool is :func:`fail_each_call_in_turn`: the first call a request makes fails, then (in a fresh
attempt) the second, and so on until an attempt makes no call that fails. Every operation type of every
endpoint is throttled that way, including the second write of the requests that write twice, and each failed
attempt must leave the token items of the store as they were, so the same request can simply be sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import free_port, reset_caches
from tests.faults import FaultProxy, StoreView, routed_through, routed_to, serving
from tests.integration.browser import Browser, forms, query_of
from tests.integration.conftest import PASSWORD
from tests.integration.test_authorization_code import REDIRECT, api, approve, exchange, refresh, start
from tests.integration.test_device_flow import poll, tv
from tests.integration.test_guard import http_api_event, rest_request_event

# Revocation must show at the guard at once: no authorizer or revocation cache.
pytestmark = [
    pytest.mark.passport_config("[guard]\nrevocation_cache_seconds = 0\nauthorizer_cache_seconds = 0\n"),
    pytest.mark.slow,
]

#: The items that are tokens or lead to tokens: a refused request must leave every one of them as it was.
TOKEN_ITEMS = ("access#", "refresh#", "family#", "code#")


# -- fixtures and checks -------------------------------------------------------------------------------------


@pytest.fixture
def faults(env, server, stores):
    """Every AWS call of this process through a fault proxy; one attempt per call, a 2 s read timeout (short
    enough for the hung calls, long enough that a busy machine's real calls do not time out)."""
    env.reconfigure(PASSPORT_STORAGE_TIMEOUT_SECONDS="2", PASSPORT_STORAGE_RETRIES="0")
    server.gateway.settings = env.settings
    with serving(stores) as proxy, routed_through(proxy, env.monkeypatch, stores):
        yield proxy


@pytest.fixture
def tokens(env, store_endpoint) -> Callable[[], dict[str, Any]]:
    """The token items of this test's store, read directly (not through the proxy)."""
    view = StoreView(store_endpoint)
    return lambda: {k: v for k, v in view.items(env.settings.storage.tokens_table).items() if k.startswith(TOKEN_ITEMS)}


def unavailable_json(response: requests.Response) -> None:
    """RFC 6749 5.2 style (and API Gateway's AUTHORIZER_FAILURE): 503 temporarily_unavailable with Retry-After."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "temporarily_unavailable"
    assert "access_token" not in response.text


def unavailable_page(response: requests.Response) -> None:
    """A browser page's 503: an HTML page with Retry-After, never a redirect carrying a code."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in response.text and "Traceback" not in response.text
    assert "Location" not in response.headers


def fail_each_call_in_turn(
    faults: FaultProxy, act: Callable[[], requests.Response], refused: Callable[[requests.Response], None], *,
    kind: str = "throttle", unchanged: Callable[[], Any] | None = None, limit: int = 25,
) -> tuple[requests.Response, int]:
    """Fail the first AWS call ``act`` makes with ``kind``; then, in a new attempt, the second; and so on,
    until an attempt makes no call that fails. Each failed attempt must be ``refused`` (the endpoint's 503)
    and, with ``unchanged``, leave it as it was. The last attempt, untouched, is returned (it shows the
    request can be sent again after every failure), with the number of calls that were failed."""
    for n in range(limit):
        before = unchanged() if unchanged else None
        fault = faults.inject("*", kind, after=n, times=1)
        response = act()
        faults.heal()
        if not fault.injected:
            return response, n
        refused(response)
        if unchanged:
            assert unchanged() == before, f"call {n + 1} failed with {kind}, and yet the store changed"
    raise AssertionError(f"the request still made calls after {limit} attempts")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def introspect(server, client, token: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/introspect", auth=(client.client_id, client.secret),
                         data={"token": token}, timeout=10)


def revoke(server, client, token: str) -> requests.Response:
    return requests.post(f"{server.url}/oauth/revoke", auth=(client.client_id, client.secret),
                         data={"token": token}, timeout=10)


def guard_fails_closed(server, token: str) -> None:
    """The guard itself raises (not API Gateway's "Unauthorized", never an Allow), for REST and HTTP APIs;
    the gateway answers AUTHORIZER_FAILURE: 503 with Retry-After."""
    handler = server.gateway.function("guard").handler
    for event in (rest_request_event(token, path="/api/ping"), http_api_event(token, path="/api/ping")):
        with pytest.raises(Exception) as raised:
            handler(event, None)
        assert str(raised.value) != "Unauthorized"
    unavailable_json(requests.get(f"{server.url}/api/ping", headers=bearer(token), timeout=10))


# -- every operation of every endpoint, throttled in turn ----------------------------------------------------


@pytest.mark.parametrize("kinds", [("throttle", "throttling", "error", "unavailable", "denied"), ("close", "reset"),
                                   ("hang",)], ids=["error-answers", "dropped-connections", "timeouts"])
def test_every_kind_of_storage_failure_is_a_503_with_retry_after_and_the_guard_fails_closed(
    faults, server, client, tokens, kinds,
):
    """Throttling (ProvisionedThroughputExceeded, ThrottlingException), 500, 503, a refusal, a dropped or reset
    connection and a call that never answers (a timeout) all mean the same: the token endpoint answers 503
    temporarily_unavailable with Retry-After and writes nothing, and the guard refuses to decide (503,
    never Allow)."""
    for kind in kinds:
        if kind == "hang":  # each failed call waits out the timeout: the write alone, the one that matters
            before = tokens()
            faults.inject("PutItem", "hang", times=1)
            unavailable_json(server.token(client.client_id, client.secret))
            assert tokens() == before
            issued = server.token(client.client_id, client.secret)
        else:
            issued, failed = fail_each_call_in_turn(faults, lambda: server.token(client.client_id, client.secret),
                                                    unavailable_json, kind=kind, unchanged=tokens)
            assert failed == 2, kind  # the client's read, the token record's write
        assert issued.status_code == 200, kind
        token = issued.json()["access_token"]
        answer, failed = fail_each_call_in_turn(
            faults, lambda: requests.get(f"{server.url}/api/ping", headers=bearer(token), timeout=10),
            unavailable_json, kind=kind,
        )
        assert answer.status_code == 200 and failed == 1, kind  # one BatchGetItem: the token record, its client
        if kind != "hang":  # each call waits out the timeout: the gateway's answer above shows it
            faults.inject("*", kind)
            guard_fails_closed(server, token)
            faults.heal()


def test_a_code_exchange_that_fails_anywhere_issues_nothing_and_the_code_still_works(
    faults, server, browser, app, tokens,
):
    """RFC 6749 4.1.3 with storage failing at each call (the client, the code, the redemption transaction):
    503, no token, the code not spent; sent again once storage answers, it gives tokens."""
    code = approve(browser, app)["code"]
    answer, failed = fail_each_call_in_turn(faults, lambda: exchange(server, app, code), unavailable_json,
                                            unchanged=tokens)
    assert answer.status_code == 200 and failed == 3
    assert api(server, answer.json()["access_token"]).status_code == 200


def test_a_refresh_that_fails_anywhere_can_be_retried_with_the_same_refresh_token(
    faults, server, browser, app, tokens,
):
    """RFC 6749 6 and the rotation rule: a refresh that failed (at the client read, the token and family
    read, or the rotation transaction) rotated nothing, so it is not reuse: the same refresh token works
    when sent again, and only then is it spent."""
    first = exchange(server, app, approve(browser, app)["code"]).json()
    answer, failed = fail_each_call_in_turn(faults, lambda: refresh(server, app, first["refresh_token"]),
                                            unavailable_json, unchanged=tokens)
    assert answer.status_code == 200 and failed == 3
    second = answer.json()
    assert api(server, second["access_token"]).status_code == 200
    assert refresh(server, app, first["refresh_token"]).json()["error"] == "invalid_grant"  # now it is reuse


def test_introspection_and_revocation_answer_503_and_a_failed_revocation_changes_nothing(
    faults, server, browser, app, tokens,
):
    """RFC 7662 and RFC 7009 with storage failing at each call: 503 temporarily_unavailable (RFC 7009 2.2.1's
    error for this), no active answer guessed, and a revocation either happens whole (the family and its
    access tokens) or not at all."""
    issued = exchange(server, app, approve(browser, app)["code"]).json()
    answer, failed = fail_each_call_in_turn(faults, lambda: introspect(server, app, issued["access_token"]),
                                            unavailable_json)
    assert answer.json()["active"] is True and failed == 2
    answer, failed = fail_each_call_in_turn(faults, lambda: revoke(server, app, issued["refresh_token"]),
                                            unavailable_json, unchanged=tokens)
    assert answer.status_code == 200 and failed == 3
    assert api(server, issued["access_token"]).status_code == 401
    assert introspect(server, app, issued["refresh_token"]).json() == {"active": False}


def test_the_approval_page_answers_503_and_gives_no_code_until_storage_answers(faults, server, browser, app, tokens):
    """RFC 6749 4.1.2 with storage failing at each call of POST /oauth/authorize (the session, the user, the
    client, the remembered consent and its write, and the code's write, the second write): an HTML 503 with
    Retry-After, never a redirect, no code stored; the same form sent again gives a code that works."""
    consent = start(browser, app)
    approve_form, _ = browser.consent_forms(consent)
    answer, failed = fail_each_call_in_turn(faults, lambda: browser.submit(approve_form), unavailable_page,
                                            unchanged=tokens)
    assert answer.status_code == 303 and failed >= 5
    code = query_of(answer.headers["Location"])["code"]
    assert exchange(server, app, code).status_code == 200


def test_sign_in_answers_503_at_each_failing_call_and_then_signs_in(faults, server, user):
    """POST /login with storage failing at each call (the throttle read, the user lookup, the session's write;
    for a wrong password the failure counters' writes): an HTML 503 with Retry-After, no session cookie."""
    b = Browser(server.url)
    form = next(f for f in forms(b.get("/login").text) if f.action == "/login")
    wrong, failed = fail_each_call_in_turn(faults, lambda: b.submit(form, email=user.email, password="wrong"),
                                           unavailable_page)
    assert wrong.status_code == 401 and failed >= 4
    right, failed = fail_each_call_in_turn(faults, lambda: b.submit(form, email=user.email, password=PASSWORD),
                                           unavailable_page)
    assert right.status_code == 303 and failed >= 3
    assert "passport_session" in right.headers["Set-Cookie"]


def test_the_device_flow_answers_503_at_each_failing_call_and_issues_once(env, faults, server, user, tokens):
    """RFC 8628 with storage failing at each call of the device authorization endpoint (3.1), of the user's
    approval (3.3) and of the approved poll (3.4), whose token transaction is its second write: each
    answers 503 in its style and issues nothing; the device still gets its tokens, once."""
    device = tv(env)
    started, failed = fail_each_call_in_turn(
        faults, lambda: requests.post(f"{server.url}/oauth/device/code", data={"client_id": device.client_id},
                                      timeout=10),
        unavailable_json,
    )
    assert started.status_code == 200 and failed == 2
    grant = started.json()
    b = Browser(server.url)
    assert b.login(user.email, PASSWORD).status_code == 303
    confirm = b.get("/oauth/device/authorize", user_code=grant["user_code"])
    approve_form, _ = b.consent_forms_at(confirm, "/oauth/device/authorize")
    decided, failed = fail_each_call_in_turn(faults, lambda: b.submit(approve_form), unavailable_page)
    assert decided.status_code == 200 and "Device connected" in decided.text and failed >= 5
    polled, failed = fail_each_call_in_turn(faults, lambda: poll(server, device, grant["device_code"]),
                                            unavailable_json, unchanged=tokens)
    assert polled.status_code == 200 and failed == 3
    assert poll(server, device, grant["device_code"]).json()["error"] == "invalid_grant"
    assert len([k for k in tokens() if k.startswith("access#")]) == 1


def test_the_account_api_answers_503_at_each_failing_call(env, faults, server, browser, tokens):
    """The signed-in user's JSON API and page with storage failing at each call: JSON 503 with Retry-After for
    the API (creating a personal access token, rotating a client secret, listing apps), an HTML 503 for
    /account; nothing half-made."""
    from passport import admin
    from passport.storage.repositories import DynamoClientStore

    admin.install(env.settings, DynamoClientStore())
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    made, failed = fail_each_call_in_turn(
        faults, lambda: browser.http.post(f"{server.url}/oauth/personal-access-tokens", headers=xsrf, timeout=10,
                                          json={"name": "ci", "scopes": ["orders:read"]}),
        unavailable_json, unchanged=tokens,
    )
    assert made.status_code == 201 and failed >= 3
    assert api(server, made.json()["access_token"]).status_code == 200
    mine = browser.http.post(f"{server.url}/oauth/clients", headers=xsrf, timeout=10,
                             json={"name": "mine", "redirect_uris": [REDIRECT]}).json()
    rotated, failed = fail_each_call_in_turn(
        faults, lambda: browser.http.post(f"{server.url}/oauth/clients/{mine['client_id']}/secret", headers=xsrf,
                                          timeout=10),
        unavailable_json,
    )
    assert rotated.status_code == 201 and failed >= 3
    listed, _ = fail_each_call_in_turn(faults, lambda: browser.http.get(f"{server.url}/oauth/tokens", timeout=10),
                                       unavailable_json)
    assert listed.status_code == 200
    page, _ = fail_each_call_in_turn(faults, lambda: browser.get("/account"), unavailable_page)
    assert page.status_code == 200


# -- throttled batches, retries, lost answers ----------------------------------------------------------------


def test_a_batch_read_left_unprocessed_is_a_503_not_a_retry_loop(faults, server, browser, app, user):
    """DynamoDB throttles part of a BatchGetItem by handing keys back in UnprocessedKeys (HTTP 200). The
    guard, the refresh grant and the sign-in throttle each read a batch: each answers 503 after one call
    instead of asking again without end."""
    issued = exchange(server, app, approve(browser, app)["code"]).json()
    batches = lambda: faults.operations().count("BatchGetItem")  # noqa: E731
    faults.inject("BatchGetItem", "unprocessed", times=50)  # bounded: a loop would end, and be seen
    before = batches()
    unavailable_json(requests.get(f"{server.url}/api/user", headers=bearer(issued["access_token"]), timeout=10))
    unavailable_json(refresh(server, app, issued["refresh_token"]))
    b = Browser(server.url)
    form = next(f for f in forms(b.get("/login").text) if f.action == "/login")
    unavailable_page(b.submit(form, email=user.email, password=PASSWORD))
    assert batches() - before == 3


def test_a_call_throttled_or_dropped_once_is_retried_and_the_client_never_notices(
    env, faults, server, client, tokens,
):
    """With the default retries, botocore retries a throttled call or a dropped connection (with backoff):
    the client gets its token and exactly one record is written."""
    env.reconfigure(PASSPORT_STORAGE_TIMEOUT_SECONDS="2", PASSPORT_STORAGE_RETRIES="2")
    faults.inject("GetItem", "reset", times=1)
    faults.inject("PutItem", "throttle", times=2)
    start_ = len(faults.calls)
    issued = server.token(client.client_id, client.secret)
    assert issued.status_code == 200, issued.text
    made = [c.operation for c in faults.calls[start_:]]
    assert made == ["GetItem"] * 2 + ["PutItem"] * 3
    assert len([k for k in tokens() if k.startswith("access#")]) == 1
    assert api(server, issued.json()["access_token"], "/api/ping").status_code == 200


def test_a_token_record_written_but_unacknowledged_is_retried_into_a_token_not_a_500(
    env, faults, server, client, tokens,
):
    """The token record's write reached the store but its answer was lost (a dropped connection); botocore
    sends it again and the "does not exist" condition, now false, is its own earlier write: the client
    gets the token, once recorded, and the guard accepts it."""
    env.reconfigure(PASSPORT_STORAGE_TIMEOUT_SECONDS="2", PASSPORT_STORAGE_RETRIES="2")
    faults.inject("PutItem", "lose_answer", times=1)
    start_ = len(faults.calls)
    issued = server.token(client.client_id, client.secret)
    assert issued.status_code == 200, issued.text
    assert [c.operation for c in faults.calls[start_:]] == ["GetItem", "PutItem", "PutItem"]
    assert len([k for k in tokens() if k.startswith("access#")]) == 1
    assert api(server, issued.json()["access_token"], "/api/ping").status_code == 200


def revoked(item: dict[str, Any]) -> bool:
    return item.get("revoked") == {"BOOL": True}


def test_a_rotation_whose_answer_was_lost_counts_as_reuse_and_revokes_what_it_wrote(
    faults, server, browser, app, tokens,
):
    """The rotation transaction committed but its answer was lost: the client got a 503 and never saw the new
    tokens. Sent again, the spent refresh token is reuse (RFC 9700 4.14.2): invalid_grant, and the family
    is revoked, so nothing the client never received stays usable."""
    first = exchange(server, app, approve(browser, app)["code"]).json()
    faults.inject("TransactWriteItems", "lose_answer", times=1)
    unavailable_json(refresh(server, app, first["refresh_token"]))
    assert len([k for k in tokens() if k.startswith("refresh#")]) == 2  # the rotation did commit
    again = refresh(server, app, first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    items = tokens()
    assert all(revoked(v) for k, v in items.items() if k.startswith(("access#", "family#")))
    assert api(server, first["access_token"]).status_code == 401


def test_a_redemption_whose_answer_was_lost_is_a_replay_that_revokes_what_it_wrote(
    faults, server, browser, app, tokens,
):
    """The code's redemption committed but its answer was lost: the code is spent, and sending it again is a
    replay (RFC 6749 4.1.2): invalid_grant, and the tokens the lost answer carried are revoked."""
    code = approve(browser, app)["code"]
    faults.inject("TransactWriteItems", "lose_answer", times=1)
    unavailable_json(exchange(server, app, code))
    again = exchange(server, app, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    items = tokens()
    assert [k for k in items if k.startswith("family#")] and all(
        revoked(v) for k, v in items.items() if k.startswith(("access#", "family#")))


def test_a_code_exchange_that_meets_a_transaction_in_flight_is_sent_again_and_issues_once(
    faults, server, browser, app, tokens,
):
    """DynamoDB cancels a transaction that meets another in flight on one of its items (TransactionConflict):
    nothing was written, so the redemption is sent again after a short backoff, and the client gets its tokens,
    not a 503 (and the retries setting, 0 here, is not what bounds it)."""
    code = approve(browser, app)["code"]
    faults.inject("TransactWriteItems", "conflict", times=2)
    start_ = len(faults.calls)
    answer = exchange(server, app, code)
    assert answer.status_code == 200, answer.text
    assert [c.operation for c in faults.calls[start_:]].count("TransactWriteItems") == 3
    assert len([k for k in tokens() if k.startswith("family#")]) == 1
    assert api(server, answer.json()["access_token"]).status_code == 200
    replay = exchange(server, app, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_a_refresh_and_a_device_poll_that_meet_a_transaction_in_flight_are_sent_again(
    env, faults, server, browser, app, user, tokens,
):
    """The rotation transaction and the device poll's single write (TransactionConflictException) alike."""
    first = exchange(server, app, approve(browser, app)["code"]).json()
    faults.inject("TransactWriteItems", "conflict", times=1)
    rotated = refresh(server, app, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert refresh(server, app, first["refresh_token"]).json()["error"] == "invalid_grant"  # spent once
    device = tv(env)
    grant = requests.post(f"{server.url}/oauth/device/code", data={"client_id": device.client_id}, timeout=10).json()
    faults.inject("UpdateItem", "conflict", times=1)
    start_ = len(faults.calls)
    pending = poll(server, device, grant["device_code"])
    assert pending.json()["error"] == "authorization_pending", pending.text
    assert [c.operation for c in faults.calls[start_:]].count("UpdateItem") == 2


def test_a_write_that_keeps_meeting_transactions_in_flight_is_a_503_after_a_bounded_number_of_sends(
    faults, server, browser, app, tokens,
):
    from passport.storage.errors import CONFLICT_ATTEMPTS

    code = approve(browser, app)["code"]
    faults.inject("TransactWriteItems", "conflict")
    start_ = len(faults.calls)
    unavailable_json(exchange(server, app, code))
    assert [c.operation for c in faults.calls[start_:]].count("TransactWriteItems") == CONFLICT_ATTEMPTS
    faults.heal()
    assert exchange(server, app, code).status_code == 200  # nothing was written: the code still works


def test_revoking_an_app_whose_second_write_fails_completes_when_sent_again(faults, server, browser, app):
    """DELETE /oauth/tokens/{id} writes twice: the family's revocation, then forgetting the consent. The second
    failing, the user gets a 503; the family is already revoked (its tokens refused), and the same request
    sent again finishes the job: the app must ask for consent again."""
    issued = exchange(server, app, approve(browser, app)["code"]).json()
    xsrf = {"X-XSRF-TOKEN": browser.http.cookies["XSRF-TOKEN"]}
    (authorized,) = browser.http.get(f"{server.url}/oauth/tokens", timeout=10).json()
    remove = lambda: browser.http.delete(f"{server.url}/oauth/tokens/{authorized['id']}", headers=xsrf,  # noqa: E731
                                         timeout=10)
    faults.inject("write", "error", after=1, times=1)
    unavailable_json(remove())
    assert api(server, issued["access_token"]).status_code == 401
    assert remove().status_code == 204
    assert browser.http.get(f"{server.url}/oauth/tokens", timeout=10).json() == []
    assert start(browser, app).status_code == 200  # the consent page: the app asks again


# -- unreachable store, failing key secret -------------------------------------------------------------------


def test_with_the_store_unreachable_every_endpoint_answers_503_in_its_own_style(
    env, server, browser, app, stores,
):
    """Connection refused everywhere: OAuth JSON 503 from the token, revocation, introspection and device
    endpoints and the account API, an HTML 503 from the pages, AUTHORIZER_FAILURE from the guard."""
    env.reconfigure(PASSPORT_STORAGE_TIMEOUT_SECONDS="2", PASSPORT_STORAGE_RETRIES="0")
    issued = exchange(server, app, approve(browser, app)["code"]).json()
    device = tv(env)
    consent = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "state": "s"}
    with routed_to(f"http://127.0.0.1:{free_port()}", env.monkeypatch, stores):
        unavailable_json(exchange(server, app, "any-code"))
        unavailable_json(refresh(server, app, issued["refresh_token"]))
        unavailable_json(revoke(server, app, issued["access_token"]))
        unavailable_json(introspect(server, app, issued["access_token"]))
        unavailable_json(requests.post(f"{server.url}/oauth/device/code", data={"client_id": device.client_id},
                                       timeout=10))
        unavailable_json(browser.http.get(f"{server.url}/oauth/personal-access-tokens", timeout=10))
        unavailable_page(browser.authorize(**consent))
        unavailable_page(browser.get("/account"))
        unavailable_page(browser.get("/oauth/device"))
        guard_fails_closed(server, issued["access_token"])
    assert api(server, issued["access_token"]).status_code == 200


def test_with_the_key_secret_failing_on_a_cold_container_nothing_is_issued_and_the_guard_fails_closed(
    env, faults, server, client, tokens,
):
    """Keys in a Secrets Manager secret (docs/keys.md), the secret store failing (throttled, 500, a dropped
    connection, no answer) when a container starts: the token endpoint answers 503 and issues nothing,
    introspection and the JWKS answer 503, the guard fails closed. Nothing is cached from the failure: once
    the secret answers, all work again."""
    from passport import admin

    settings = env.reconfigure(PASSPORT_KEYS_SECRET_NAME=f"passport-keys-{uuid.uuid4().hex[:8]}")
    admin.create_keys(settings)
    server.gateway.settings = settings
    issued = server.token(client.client_id, client.secret).json()["access_token"]
    before = tokens()
    for kind in ("throttle", "error", "close", "hang"):
        faults.inject("GetSecretValue", kind)
        reset_caches()  # a cold container: no key set yet
        unavailable_json(server.token(client.client_id, client.secret))
        if kind != "hang":  # a hung read waits out the timeout: the token endpoint shows it
            unavailable_json(requests.get(f"{server.url}/api/ping", headers=bearer(issued), timeout=10))
        if kind == "throttle":  # the rest the same way, once (each cold read costs a botocore client)
            guard_fails_closed(server, issued)
            unavailable_json(introspect(server, client, issued))
            unavailable_json(requests.get(f"{server.url}/.well-known/jwks.json", timeout=10))
        faults.heal()
    assert tokens() == before
    assert faults.operations(service="secretsmanager").count("GetSecretValue") >= 7
    assert server.token(client.client_id, client.secret).status_code == 200
    assert requests.get(f"{server.url}/api/ping", headers=bearer(issued), timeout=10).status_code == 200


def test_the_storage_limits_are_settings_with_bounds():
    """[storage] timeout_seconds and retries (overridable as PASSPORT_STORAGE_TIMEOUT_SECONDS and
    PASSPORT_STORAGE_RETRIES) bound every DynamoDB and key-secret call, so a deployment fits them to its
    functions' timeout; values that cannot work are refused by name."""
    from passport.config import ConfigError, load_settings

    settings = load_settings(None, environ={"PASSPORT_STORAGE_TIMEOUT_SECONDS": "3", "PASSPORT_STORAGE_RETRIES": "1"})
    assert (settings.storage.timeout_seconds, settings.storage.retries) == (3, 1)
    for name, value in (("TIMEOUT_SECONDS", "0"), ("TIMEOUT_SECONDS", "61"), ("RETRIES", "-1"), ("RETRIES", "11")):
        with pytest.raises(ConfigError, match=r"storage\.(timeout_seconds|retries)"):
            load_settings(None, environ={f"PASSPORT_STORAGE_{name}": value})
