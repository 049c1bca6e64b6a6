"""``state`` goes back exactly as received (RFC 6749 4.1.2, 4.1.2.1; RP-Initiated Logout 3): one that cannot is
an error page, never a redirect with an altered state or without it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from passport.core.authorization import PageError, check_echoable_state, redirect_to, validate
from passport.core.models import Client
from passport.core.scopes import ScopePolicy

from tests.unit.fakes import MemoryClientStore

REDIRECT = "https://app.example.com/cb"
APP = Client(client_id="app", name="App", secret_hash="sha256:x", redirect_uris=(REDIRECT,),
             grant_types=("authorization_code",))
POLICY = ScopePolicy({"orders:read": "Read your orders"})


def authorize(state: str, **extra: str):
    params = {"response_type": "code", "client_id": "app", "redirect_uri": REDIRECT, "state": state, **extra}
    return validate({k: [v] for k, v in params.items()}, clients=MemoryClientStore(APP), scopes=POLICY,
                    response_types=("code",))


#: U+FFFD stands where a gateway decoding the query met bytes that are not UTF-8 (state=%FF%FE); a lone
#: surrogate is what a decoder keeping such bytes (surrogateescape, or a JSON event's "\udcff") leaves.
UNECHOABLE = ["\ufffd", "\ufffd\ufffd", "abc\ufffd", "\udcff", "x\ud800y", "\udfff"]


@pytest.mark.parametrize("state", UNECHOABLE, ids=[repr(s) for s in UNECHOABLE])
def test_a_state_that_cannot_be_echoed_exactly_is_an_error_page_not_a_redirect(state):
    with pytest.raises(PageError):
        authorize(state)
    # Even with another error the client would hear of at its redirect URI: the state comes first.
    with pytest.raises(PageError):
        authorize(state, scope="undefined-scope")
    with pytest.raises(PageError):
        check_echoable_state(state)


@pytest.mark.parametrize("state", ["xyz", "Zoë ✓ 東京", "<script>&\"'", "a" * 100, "\U0001f600", "%FF"])
def test_any_other_state_is_echoed_exactly(state):
    """Whatever round-trips through UTF-8 percent-encoding comes back as it came, markup and emoji included."""
    request = authorize(state)
    assert request.state == state
    echoed = parse_qs(urlsplit(redirect_to(REDIRECT, {"state": state})).query, keep_blank_values=True)
    assert echoed["state"] == [state]
