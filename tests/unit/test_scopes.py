"""Scopes (RFC 6749 section 3.3): the scope parameter, the defined set, client limits and defaults."""

from __future__ import annotations

import pytest
from passport.core.errors import OAuthError
from passport.core.scopes import ScopePolicy, format_scope, parse_scope

DEFINED = {"orders:read": "Read your orders", "orders:write": "Change your orders", "profile": "Your profile"}

#: Every character RFC 6749 3.3 allows in a scope-token: %x21 / %x23-5B / %x5D-7E.
SCOPE_TOKEN_CHARS = "".join(chr(c) for c in [0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)])


def assert_invalid_scope(value: str) -> OAuthError:
    with pytest.raises(OAuthError) as raised:
        parse_scope(value)
    assert raised.value.error == "invalid_scope"
    assert raised.value.status == 400
    return raised.value


# --- parse_scope -------------------------------------------------------------------------------------------


def test_absent_scope_is_no_scope():
    assert parse_scope(None) == ()
    assert parse_scope("") == ()


def test_scope_is_a_space_delimited_list():
    assert parse_scope("orders:read orders:write") == ("orders:read", "orders:write")


def test_scope_order_is_kept():
    assert parse_scope("b a c") == ("b", "a", "c")


def test_repeated_scope_tokens_are_dropped():
    assert parse_scope("a b a b a") == ("a", "b")


def test_doubled_spaces_are_tolerated():
    assert parse_scope("  a   b ") == ("a", "b")


def test_every_character_of_the_scope_token_grammar_is_accepted():
    assert parse_scope(SCOPE_TOKEN_CHARS) == (SCOPE_TOKEN_CHARS,)
    assert len(SCOPE_TOKEN_CHARS) == 1 + (0x5B - 0x23 + 1) + (0x7E - 0x5D + 1)


@pytest.mark.parametrize("char", ['"', "\\"])
def test_a_double_quote_or_backslash_in_a_scope_token_is_refused(char):
    assert_invalid_scope(f"orders{char}read")


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\u00e9", "\u00a0", "\u3000"])
def test_a_character_outside_the_scope_token_charset_is_refused(char):
    assert_invalid_scope(f"a{char}b")


def test_tabs_are_not_scope_delimiters():
    assert_invalid_scope("orders:read\torders:write")


def test_format_scope_joins_with_single_spaces():
    assert format_scope(("a", "b")) == "a b"
    assert parse_scope(format_scope(("a", "b"))) == ("a", "b")


# --- ScopePolicy.resolve ---------------------------------------------------------------------------------


def policy(defaults: tuple[str, ...] = ()) -> ScopePolicy:
    return ScopePolicy(DEFINED, defaults)


@pytest.mark.parametrize("requested", [None, "", "   "])
def test_defaults_are_granted_when_no_scope_is_asked(requested):
    assert policy(("orders:read", "profile")).resolve(requested) == ("orders:read", "profile")


def test_no_scope_asked_and_no_defaults_grants_nothing():
    assert policy().resolve(None) == ()


def test_defaults_are_limited_to_the_clients_list():
    assert policy(("orders:read", "profile")).resolve(None, allowed=("profile", "orders:write")) == ("profile",)


def test_requested_defined_scopes_are_granted():
    assert policy().resolve("orders:write orders:read") == ("orders:write", "orders:read")


def test_a_client_with_no_list_may_ask_for_any_defined_scope():
    assert policy().resolve("orders:read orders:write profile", allowed=()) == (
        "orders:read",
        "orders:write",
        "profile",
    )


def test_an_unknown_scope_is_refused():
    with pytest.raises(OAuthError) as raised:
        policy().resolve("orders:read photos")
    assert raised.value.error == "invalid_scope"
    assert "photos" in raised.value.description


def test_a_scope_outside_the_clients_list_is_refused():
    with pytest.raises(OAuthError) as raised:
        policy().resolve("orders:read orders:write", allowed=("orders:read",))
    assert raised.value.error == "invalid_scope"
    assert "orders:write" in raised.value.description


def test_the_wildcard_is_not_a_defined_scope_to_ask_for():
    with pytest.raises(OAuthError, match="invalid_scope"):
        policy().resolve("*")


def test_a_malformed_requested_scope_is_refused_before_lookup():
    with pytest.raises(OAuthError, match="invalid_scope"):
        policy().resolve('orders:read "x"')


def test_a_client_allowed_the_wildcard_may_be_granted_a_defined_scope():
    """new_client accepts "*" in a client's scope list (the CLI's ``--scope '*'``); the only sensible reading is
    "every defined scope". ScopePolicy compares it literally, so such a client can be granted nothing."""
    assert policy().resolve("orders:read", allowed=("*",)) == ("orders:read",)


# --- the memo of ScopePolicy.resolve ------------------------------------------------------------------------


def test_a_kept_answer_is_the_answer_and_a_refusal_is_refused_every_time():
    policy = ScopePolicy(DEFINED, ("orders:read",))
    for _ in range(3):
        assert policy.resolve("orders:read orders:write", ("orders:read", "orders:write")) == (
            "orders:read", "orders:write")
        assert policy.resolve(None, ("orders:read",)) == ("orders:read",)
        with pytest.raises(OAuthError):
            policy.resolve("orders:write", ("orders:read",))  # the same request from a client without the scope
        with pytest.raises(OAuthError):
            policy.resolve("*")  # wildcard=False: the answer kept for wildcard=True below is not this one's
        assert policy.resolve("*", wildcard=True) == ("*",)
        with pytest.raises(OAuthError):
            policy.resolve("openid")
        assert policy.resolve("openid", identity=True) == ("openid",)


def test_the_memo_stays_bounded_and_keeps_no_long_request(monkeypatch):
    from passport.core import scopes

    monkeypatch.setattr(scopes, "MEMO_ENTRIES", 4)
    defined = {f"s{i}": "" for i in range(10)}
    policy = ScopePolicy(defined)
    for i in range(10):
        assert policy.resolve(f"s{i}") == (f"s{i}",)
        assert len(policy._granted) <= 4
    long_request = " ".join(["s1"] * (scopes.MEMO_REQUEST_LENGTH // 2 + 1))
    assert policy.resolve(long_request) == ("s1",)
    assert all(key[0] != long_request for key in policy._granted)


def test_policies_compare_by_their_definitions_not_their_memo():
    one, other = ScopePolicy(DEFINED), ScopePolicy(DEFINED)
    one.resolve("profile")
    assert one == other and "granted" not in repr(one)


# --- identity scopes in a client's list --------------------------------------------------------------------


def test_identity_scopes_are_open_to_a_client_whose_list_names_none():
    policy = ScopePolicy({"orders:read": "Read your orders"})
    assert policy.resolve("openid email orders:read", ("orders:read",), identity=True) == (
        "openid", "email", "orders:read")


def test_a_client_list_that_names_an_identity_scope_limits_the_identity_scopes_too():
    policy = ScopePolicy({"orders:read": "Read your orders"})
    allowed = ("openid", "profile", "orders:read")
    assert policy.resolve("openid profile orders:read", allowed, identity=True) == ("openid", "profile",
                                                                                   "orders:read")
    with pytest.raises(OAuthError) as refused:
        policy.resolve("openid email", allowed, identity=True)
    assert refused.value.error == "invalid_scope" and "email" in refused.value.description


def test_a_listed_identity_scope_is_still_only_for_signing_a_user_in():
    policy = ScopePolicy({"orders:read": "Read your orders"})
    with pytest.raises(OAuthError, match="signing a user in"):
        policy.resolve("openid", ("openid", "orders:read"))
