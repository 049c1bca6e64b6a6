"""DynamoDB round trips per operation (docs/performance.md), counted on the wire: the process's DynamoDB calls go
through a proxy in front of DynamoDB Local (tests/faults.py, no fault injected), which sees each request sent,
retries included, whichever client sent it (botocore's, or the guard's signed one: passport.aws_json).
Counts are deterministic, so they are asserted here; ``make bench`` prints the same counts beside its timings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import jwt
import pytest
from passport import compose

from tests.faults import FaultProxy, routed_through, serving


class DynamoCalls:
    """Every DynamoDB request the proxy forwards, by operation name."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy

    @contextmanager
    def during(self) -> Iterator[list[str]]:
        """The operations sent inside the block (filled when the block ends)."""
        start = len(self.proxy.operations(service="dynamodb"))
        seen: list[str] = []
        try:
            yield seen
        finally:
            seen.extend(self.proxy.operations(service="dynamodb")[start:])


@pytest.fixture
def dynamodb(env, stores) -> Iterator[DynamoCalls]:
    with serving(stores) as proxy, routed_through(proxy, env.monkeypatch, stores):
        yield DynamoCalls(proxy)


def issue_token(server, client) -> str:
    response = server.token(client.client_id, client.secret, scope="orders:read")
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def authorizer_event(server, token: str, method: str = "GET", path: str = "/api/orders") -> dict[str, Any]:
    """A REST API ``REQUEST`` authorizer event, as API Gateway sends it to the guard."""
    return {
        "type": "REQUEST",
        "methodArn": server.gateway.method_arn(method, path),
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Host": server.url.split("://", 1)[1], "Authorization": f"Bearer {token}"},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"stage": "local", "httpMethod": method, "resourcePath": path},
    }


def run_guard(server, event: dict[str, Any]) -> dict[str, Any]:
    """The guard's own handler (functions/guard/handler.py), called as API Gateway calls it."""
    answer = server.gateway.function("guard").handler(event, None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return answer


def test_client_credentials_token_costs_at_most_two_dynamodb_calls(server, client, dynamodb):
    with dynamodb.during() as sent:
        issue_token(server, client)
    assert 0 < len(sent) <= 2, sent


def test_no_item_call_asks_for_the_consumed_capacity_nothing_reads(server, client, dynamodb):
    """pynamodb asks every call for ReturnConsumedCapacity only to log it at DEBUG; the adapter drops it, so
    DynamoDB answers less and DynamoDB Local does not compute it per call (passport/storage/connection.py)."""
    start = len(dynamodb.proxy.calls)
    issue_token(server, client)
    calls = [c for c in dynamodb.proxy.calls[start:] if c.service == "dynamodb"]
    assert [c.operation for c in calls] == ["GetItem", "PutItem"]
    assert all("Key" in c.members or "Item" in c.members for c in calls)  # the members are seen
    assert not [c for c in calls if "ReturnConsumedCapacity" in c.members]


def test_every_later_client_credentials_token_costs_at_most_two_dynamodb_calls(server, client, dynamodb):
    issue_token(server, client)  # the container's first request builds the wiring and reads the keys
    with dynamodb.during() as sent:
        issue_token(server, client)
    assert 0 < len(sent) <= 2, sent


def test_guard_decision_on_a_fresh_token_costs_at_most_one_dynamodb_call(server, client, dynamodb):
    event = authorizer_event(server, issue_token(server, client))
    with dynamodb.during() as sent:
        run_guard(server, event)
    # At most one (the token's and the client's status in one BatchGetItem), and not zero: uncached, the guard
    # must ask whether the token was revoked.
    assert len(sent) == 1, sent


def test_guard_decision_on_a_fresh_token_of_a_known_client_costs_at_most_one_dynamodb_call(server, client, dynamodb):
    run_guard(server, authorizer_event(server, issue_token(server, client)))  # caches the client's status
    event = authorizer_event(server, issue_token(server, client))
    with dynamodb.during() as sent:
        run_guard(server, event)
    assert len(sent) == 1, sent


def test_guard_decision_on_a_cached_token_costs_no_dynamodb_call(server, client, dynamodb):
    event = authorizer_event(server, issue_token(server, client))
    with dynamodb.during() as first:
        run_guard(server, event)
    with dynamodb.during() as again:
        run_guard(server, event)
        run_guard(server, event)
    assert len(first) == 1, first  # the counter sees the guard's lookups
    assert again == []


def test_guards_first_authenticate_costs_no_dynamodb_call_when_token_and_client_status_are_cached(
    server, client, dynamodb
):
    import jwt

    token = issue_token(server, client)
    claims = jwt.decode(token, options={"verify_signature": False})
    guard = compose.guard()  # a new container's guard: keys not yet read, nothing decided yet
    # Put both statuses in its revocation cache without a decision (the cache is the guard's own state).
    with dynamodb.during() as seeding:
        assert guard._revocations.is_live(claims["jti"], claims["client_id"])
    with dynamodb.during() as sent:
        principal = guard.authenticate(token)
    assert len(seeding) == 1, seeding  # the counter sees the guard's lookups
    assert principal.jti == claims["jti"]
    assert sent == []


# -- the code flow ----------------------------------------------------------------------------------------------


@pytest.fixture
def code_flow(env, server):
    import uuid

    from passport.compose import settings
    from passport.core.users import create_user
    from passport.storage.repositories import DynamoUserStore

    from tests.conftest import make_client
    from tests.integration.browser import Browser

    settings()
    password = "correct horse battery staple"
    user = create_user(DynamoUserStore(), email=f"rt{uuid.uuid4().hex[:6]}@example.com", name="RT", password=password)
    app = make_client(env, grant_types=("authorization_code", "refresh_token"), first_party=True,
                      redirect_uris=("https://app.example.com/cb",))
    browser = Browser(server.url)
    browser.login(user.email, password)
    return app, browser


def fresh_code(browser, app, scope: str | None = None) -> str:
    from tests.integration.browser import query_of

    extra = {"scope": scope} if scope else {}
    answer = browser.authorize(response_type="code", client_id=app.client_id,
                               redirect_uri="https://app.example.com/cb", state="s", **extra)
    return query_of(answer.headers["Location"])["code"]


def test_an_openid_code_exchange_still_costs_at_most_three_dynamodb_calls_and_userinfo_two(
    server, code_flow, dynamodb
):
    """The ID token is signed, not stored: OpenID Connect adds no call to the exchange. Userinfo reads the token's
    record and its client in one BatchGetItem, then the user."""
    import requests

    app, browser = code_flow
    code = fresh_code(browser, app, scope="openid profile email offline_access")
    with dynamodb.during() as exchange:
        tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"})
    assert tokens.status_code == 200 and "id_token" in tokens.json(), tokens.text
    assert exchange and len(exchange) <= 3, exchange
    with dynamodb.during() as userinfo:
        claims = requests.get(f"{server.url}/oauth/userinfo",
                              headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert claims.status_code == 200 and claims.json()["email"], claims.text
    assert userinfo == ["BatchGetItem", "GetItem"], userinfo


def test_code_exchange_costs_at_most_three_dynamodb_calls(server, code_flow, dynamodb):
    import requests

    app, browser = code_flow
    code = fresh_code(browser, app)
    with dynamodb.during() as sent:
        response = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"})
    assert response.status_code == 200, response.text
    assert sent, "the counter saw no call: the calls do not go through the proxy"
    assert len(sent) <= 3, sent


def test_refresh_costs_at_most_three_dynamodb_calls(server, code_flow, dynamodb):
    import requests

    app, browser = code_flow
    code = fresh_code(browser, app)
    tokens = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/cb"}).json()
    with dynamodb.during() as sent:
        response = requests.post(f"{server.url}/oauth/token", auth=(app.client_id, app.secret), data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200, response.text
    assert sent and len(sent) <= 3, sent


def test_a_pending_device_poll_costs_one_dynamodb_call(server, env, dynamodb):
    """RFC 8628 3.4: a device polls every few seconds until the user answers; each such poll is one write that
    notes the poll and returns the record, which also authenticates the client."""
    import requests

    from tests.conftest import make_client

    device_grant = "urn:ietf:params:oauth:grant-type:device_code"
    for public in (False, True):
        tv = make_client(env, grant_types=(device_grant,), public=public)
        auth = None if public else (tv.client_id, tv.secret)
        form = {"client_id": tv.client_id} if public else {"scope": "orders:read"}
        started = requests.post(f"{server.url}/oauth/device/code", auth=auth, data=form)
        assert started.status_code == 200, started.text
        code = started.json()["device_code"]
        with dynamodb.during() as sent:
            response = requests.post(f"{server.url}/oauth/token", auth=auth,
                                     data={**form, "grant_type": device_grant, "device_code": code})
        assert response.json()["error"] == "authorization_pending", response.text
        assert sent == ["UpdateItem"], (public, sent)


def test_the_token_function_runs_unchanged_on_the_storage_compose_is_given(server, client, dynamodb):
    """compose's storage seam (compose.using_storage): functions/token/handler.py, through the local gateway, finds
    the client and records the token in the stores it is given, and sends DynamoDB nothing; once the block ends the
    wiring is built on DynamoDB again."""
    from passport import compose
    from passport.storage.repositories import DynamoClientStore

    from tests.unit.fakes import MemoryAccessTokenStore, MemoryClientStore

    class InMemory(compose.DynamoStorage):
        def __init__(self) -> None:
            self.tokens = MemoryAccessTokenStore()
            self.clients_seen = MemoryClientStore(DynamoClientStore().get(client.client_id))

        def clients(self):
            return self.clients_seen

        def access_tokens(self):
            return self.tokens

    with compose.using_storage(InMemory()) as storage, dynamodb.during() as sent:
        token = issue_token(server, client)
    assert sent == []
    assert storage.clients_seen.lookups == [client.client_id]
    assert list(storage.tokens.records) == [jwt.decode(token, options={"verify_signature": False})["jti"]]
    assert isinstance(compose.storage(), compose.DynamoStorage) and not isinstance(compose.storage(), InMemory)
    with dynamodb.during() as sent:
        issue_token(server, client)
    assert sorted(sent) == ["GetItem", "PutItem"]
