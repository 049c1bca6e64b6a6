"""The guard's per-route rules (docs/concepts.md: Passport's ``scopes:``, ``scope:`` and
``EnsureClientIsResourceOwner``) and its bounded, time-limited revocation cache."""

from __future__ import annotations

import json

import pytest
from passport.config import ConfigError, Demo, RouteRule, Settings
from passport.guard.revocation import RevocationCache
from passport.guard.rules import ANY_TOKEN, WILDCARD, RuleTable, permits, token_can
from passport.routes import Route, path_pattern, route_table

# --- permits -------------------------------------------------------------------------------------------------


def rule(scopes=(), any_scopes=(), subject="any") -> RouteRule:
    return RouteRule("GET", "/x", tuple(scopes), tuple(any_scopes), subject)


def test_a_rule_without_scopes_admits_any_token():
    assert permits(rule(), scopes=(), is_user=False)
    assert permits(rule(), scopes=(), is_user=True)


def test_all_scopes_are_needed_for_a_scopes_rule():
    needs_both = rule(scopes=("orders:read", "orders:write"))
    assert permits(needs_both, scopes=("orders:write", "orders:read", "extra"), is_user=True)
    assert not permits(needs_both, scopes=("orders:read",), is_user=True)
    assert not permits(needs_both, scopes=(), is_user=True)


def test_one_scope_is_enough_for_an_any_scopes_rule():
    either = rule(any_scopes=("orders:read", "orders:write"))
    assert permits(either, scopes=("orders:write",), is_user=True)
    assert not permits(either, scopes=("profile",), is_user=True)
    assert not permits(either, scopes=(), is_user=True)


def test_scopes_and_any_scopes_together_need_both_conditions():
    combined = rule(scopes=("a",), any_scopes=("b", "c"))
    assert permits(combined, scopes=("a", "c"), is_user=False)
    assert not permits(combined, scopes=("a",), is_user=False)
    assert not permits(combined, scopes=("b",), is_user=False)


def test_a_user_rule_refuses_client_tokens():
    assert permits(rule(subject="user"), scopes=(), is_user=True)
    assert not permits(rule(subject="user"), scopes=(), is_user=False)


def test_a_client_rule_refuses_user_tokens():
    assert permits(rule(subject="client"), scopes=(), is_user=False)
    assert not permits(rule(subject="client"), scopes=(), is_user=True)


def test_an_any_subject_rule_admits_both():
    assert permits(rule(subject="any"), scopes=(), is_user=True)
    assert permits(rule(subject="any"), scopes=(), is_user=False)


def test_the_wildcard_scope_satisfies_every_scope_rule():
    assert WILDCARD == "*"
    assert permits(rule(scopes=("a", "b")), scopes=("*",), is_user=True)
    assert permits(rule(any_scopes=("a", "b")), scopes=("*",), is_user=True)


def test_the_wildcard_scope_does_not_change_the_subject_rule():
    assert not permits(rule(scopes=("a",), subject="user"), scopes=("*",), is_user=False)
    assert not permits(rule(subject="client"), scopes=("*",), is_user=True)


def test_token_can_honours_the_wildcard():
    assert token_can(("orders:read",), "orders:read")
    assert not token_can(("orders:read",), "orders:write")
    assert token_can(("*",), "anything")
    assert not token_can((), "orders:read")


# --- RuleTable.for_route -------------------------------------------------------------------------------------


ORDER = RouteRule("GET", "/orders/{id}", scopes=("orders:read",))
ORDERS = RouteRule("GET", "/orders", any_scopes=("orders:read", "orders:write"))
DELETE_ORDER = RouteRule("DELETE", "/orders/{id}", scopes=("orders:write",), subject="user")
FILES = RouteRule("ANY", "/files/{proxy+}", subject="client")


@pytest.fixture
def table() -> RuleTable:
    return RuleTable(
        {
            "GET /orders": ORDERS,
            "GET /orders/{id}": ORDER,
            "DELETE /orders/{id}": DELETE_ORDER,
            "ANY /files/{proxy+}": FILES,
        }
    )


def test_a_rule_is_found_by_its_route_template(table):
    assert table.for_route("GET", "/orders/{id}") is ORDER
    assert table.for_route("GET", "/orders") is ORDERS


def test_a_rule_is_found_by_a_concrete_path(table):
    assert table.for_route("GET", "/orders/42") is ORDER
    assert table.for_route("DELETE", "/orders/42") is DELETE_ORDER


def test_the_method_selects_the_rule(table):
    assert table.for_route("POST", "/orders/42") is ANY_TOKEN


def test_a_path_parameter_does_not_span_slashes(table):
    assert table.for_route("GET", "/orders/42/items") is ANY_TOKEN


def test_a_greedy_parameter_spans_slashes_and_any_matches_every_method(table):
    assert table.for_route("PUT", "/files/a/b/c.txt") is FILES
    assert table.for_route("GET", "/files/x") is FILES


def test_a_route_the_table_does_not_name_needs_only_a_valid_token(table):
    assert table.for_route("GET", "/elsewhere") is ANY_TOKEN
    assert permits(ANY_TOKEN, scopes=(), is_user=False)


def test_literal_parts_of_a_template_are_not_regular_expressions():
    table = RuleTable({"GET /v1.0/things": rule()})
    assert table.for_route("GET", "/v1x0/things") is ANY_TOKEN


def test_path_pattern_names_the_parameters():
    match = path_pattern("/oauth/clients/{client_id}").fullmatch("/oauth/clients/abc-1")
    assert match and match.group("client_id") == "abc-1"


def test_the_table_from_the_route_table_holds_the_demo_rules():
    table = RuleTable.from_routes(route_table(Settings(demo=Demo(enabled=True))))
    assert table.for_route("GET", "/api/orders").scopes == ("orders:read",)
    assert table.for_route("GET", "/api/user").subject == "user"
    assert dict(table).keys() == {"GET /api/user", "GET /api/ping", "GET /api/orders"}


def test_public_routes_are_not_in_the_rule_table():
    routes = [Route("POST", "/oauth/token", "token", "t"), Route("GET", "/api/x", "api", "x", rule())]
    assert dict(RuleTable.from_routes(routes)).keys() == {"GET /api/x"}


# --- RuleTable.from_json -------------------------------------------------------------------------------------


def test_from_json_reads_every_kind_of_rule():
    table = RuleTable.from_json(
        json.dumps(
            {
                "GET /orders": {"scopes": ["orders:read"]},
                "post /orders": {"any_scopes": ["orders:write", "admin"], "subject": "user"},
                "GET /health": {},
                "ANY /internal/{proxy+}": {"subject": "client"},
            }
        )
    )
    assert table.for_route("GET", "/orders").scopes == ("orders:read",)
    posted = table.for_route("POST", "/orders")
    assert (posted.method, posted.any_scopes, posted.subject) == ("POST", ("orders:write", "admin"), "user")
    assert table.for_route("GET", "/health").subject == "any"
    assert table.for_route("DELETE", "/internal/a/b").subject == "client"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '["GET /orders"]',
        '{"GET/orders": {}}',
        '{"GET /orders": []}',
        '{"GET /orders": "orders:read"}',
        '{"GET /orders": {"subject": "admin"}}',
        '{"GET /orders": {"scopes": 5}}',
    ],
)
def test_from_json_refuses_an_invalid_rule_table(text):
    with pytest.raises(ConfigError, match="PASSPORT_GUARD_RULES"):
        RuleTable.from_json(text)


def test_from_json_refuses_scopes_given_as_a_string():
    """``"scopes": "orders:read"`` must not become the scopes ('o', 'r', 'd', ...), one per character."""
    with pytest.raises(ConfigError, match="PASSPORT_GUARD_RULES"):
        RuleTable.from_json('{"GET /orders": {"scopes": "orders:read"}}')


def test_from_json_refuses_unknown_rule_members():
    """A misspelt member (``scope`` for ``scopes``, as Passport's ``scope:`` middleware suggests) must not
    silently leave the route open to every valid token; the settings file refuses unknown keys the same way."""
    with pytest.raises(ConfigError, match="PASSPORT_GUARD_RULES"):
        RuleTable.from_json('{"GET /admin": {"scope": ["admin"]}}')


# --- RevocationCache -----------------------------------------------------------------------------------------


class CountingLookup:
    """A RevocationLookup over two dicts that records every call (what a DynamoDB round trip would be)."""

    def __init__(self, revoked_tokens=(), revoked_clients=()) -> None:
        self.revoked_tokens = set(revoked_tokens)
        self.revoked_clients = set(revoked_clients)
        self.calls: list[tuple[str | None, str | None]] = []

    def lookup(self, jti, client_id):
        self.calls.append((jti, client_id))
        return (
            None if jti is None else jti not in self.revoked_tokens,
            None if client_id is None else client_id not in self.revoked_clients,
        )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lookup() -> CountingLookup:
    return CountingLookup(revoked_tokens={"revoked-jti"}, revoked_clients={"revoked-client"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def cache_of(lookup, clock, ttl=30.0, max_entries=10_000) -> RevocationCache:
    return RevocationCache(lambda: lookup, ttl, max_entries=max_entries, clock=clock)


def test_a_live_token_of_a_live_client_is_live(lookup, clock):
    assert cache_of(lookup, clock).is_live("j1", "c1") is True
    assert lookup.calls == [("j1", "c1")]


def test_both_facts_come_from_one_lookup_when_neither_is_cached(lookup, clock):
    cache_of(lookup, clock).is_live("j1", "c1")
    assert len(lookup.calls) == 1


def test_a_cached_answer_needs_no_lookup(lookup, clock):
    cache = cache_of(lookup, clock)
    cache.is_live("j1", "c1")
    clock.now += 29
    assert cache.is_live("j1", "c1") is True
    assert lookup.calls == [("j1", "c1")]


def test_only_the_uncached_token_is_looked_up(lookup, clock):
    cache = cache_of(lookup, clock)
    cache.is_live("j1", "c1")
    assert cache.is_live("j2", "c1") is True
    assert lookup.calls[-1] == ("j2", None)


def test_only_the_uncached_client_is_looked_up(lookup, clock):
    cache = cache_of(lookup, clock)
    cache.is_live("j1", "c1")
    assert cache.is_live("j1", "c2") is True
    assert lookup.calls[-1] == (None, "c2")


def test_cached_live_answers_expire_after_the_ttl(lookup, clock):
    cache = cache_of(lookup, clock)
    cache.is_live("j1", "c1")
    clock.now += 30
    assert cache.is_live("j1", "c1") is True
    assert lookup.calls == [("j1", "c1"), ("j1", "c1")]


def test_a_token_revoked_after_its_live_answer_expired_is_refused(lookup, clock):
    cache = cache_of(lookup, clock)
    assert cache.is_live("j1", "c1") is True
    lookup.revoked_tokens.add("j1")
    assert cache.is_live("j1", "c1") is True  # within the bounded staleness window
    clock.now += 31
    assert cache.is_live("j1", "c1") is False


def test_a_revoked_token_is_remembered(lookup, clock):
    cache = cache_of(lookup, clock)
    assert cache.is_live("revoked-jti", "c1") is False
    assert cache.is_live("revoked-jti", "c1") is False
    assert len(lookup.calls) == 1


def test_a_revoked_client_is_remembered_for_all_its_tokens(lookup, clock):
    cache = cache_of(lookup, clock)
    assert cache.is_live("j1", "revoked-client") is False
    assert cache.is_live("j2", "revoked-client") is False
    assert cache.is_live("j3", "revoked-client") is False
    assert len(lookup.calls) == 1


def test_a_cached_revoked_client_refuses_without_asking_about_the_token(lookup, clock):
    cache = cache_of(lookup, clock)
    cache.is_live("j1", "revoked-client")
    cache.is_live("brand-new", "revoked-client")
    assert lookup.calls == [("j1", "revoked-client")]


def test_ttl_zero_means_no_caching(lookup, clock):
    cache = cache_of(lookup, clock, ttl=0)
    for _ in range(3):
        assert cache.is_live("j1", "c1") is True
        assert cache.is_live("revoked-jti", "c1") is False
    assert len(lookup.calls) == 6


def test_the_lookup_is_built_lazily_and_once(lookup, clock):
    built = []
    cache = RevocationCache(lambda: built.append(1) or lookup, 30, clock=clock)
    assert built == []
    cache.is_live("j1", "c1")
    cache.is_live("j2", "c2")
    assert built == [1]


def test_the_cache_never_holds_more_than_max_entries(lookup, clock):
    cache = cache_of(lookup, clock, max_entries=3)
    for n in range(20):
        cache.is_live(f"j{n}", f"c{n}")
        assert len(cache._tokens) <= 3 and len(cache._clients) <= 3


def test_a_full_cache_drops_its_oldest_entries_first(lookup, clock):
    cache = cache_of(lookup, clock, max_entries=3)
    for n in range(4):
        cache.is_live(f"j{n}", "c")
        clock.now += 1
    calls = len(lookup.calls)
    cache.is_live("j3", "c")  # newest: still cached
    assert len(lookup.calls) == calls
    cache.is_live("j0", "c")  # oldest: dropped, asked again
    assert lookup.calls[-1] == ("j0", None)


def test_a_full_cache_drops_expired_entries_before_live_ones(lookup, clock):
    cache = cache_of(lookup, clock, ttl=10, max_entries=3)
    cache.is_live("old", "c")  # client c and token old cached until 1010
    clock.now += 5
    cache.is_live("j1", "c")  # until 1015
    cache.is_live("j2", "c")
    clock.now += 6  # "old" and client "c" expired; j1 and j2 live
    cache.is_live("j3", "c")
    calls = len(lookup.calls)
    cache.is_live("j1", "c")
    cache.is_live("j2", "c")
    assert len(lookup.calls) == calls
