"""Scopes (RFC 6749 section 3.3): parsing, validation against the defined set, client limits and defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from passport.config import SCOPE_TOKEN
from passport.core.errors import invalid_scope
from passport.core.oidc.claims import IDENTITY_SCOPES

#: Passport's "*": every scope.
WILDCARD = "*"

#: What :meth:`ScopePolicy.resolve` keeps: the answers to requests this short (clients ask for the same few scopes
#: over and over), this many at most (a flood of distinct requests empties the memo rather than growing it).
MEMO_REQUEST_LENGTH = 256
MEMO_ENTRIES = 1024


def parse_scope(value: str | None) -> tuple[str, ...]:
    """Split a space-delimited scope string; order kept, duplicates dropped (the order "does not matter")."""
    if value is None:
        return ()
    tokens = value.split(" ")
    seen: dict[str, None] = {}
    for token in tokens:
        if token == "":
            continue  # tolerate doubled spaces, as most servers do
        if not SCOPE_TOKEN.fullmatch(token):
            raise invalid_scope("The requested scope is malformed.")
        seen[token] = None
    return tuple(seen)


def format_scope(scopes: Sequence[str]) -> str:
    return " ".join(scopes)


def satisfies(held: Iterable[str], needed: str, *, inherit: bool = False) -> bool:
    """Whether scopes held grant ``needed``: the same scope, Passport's ``*``, or, with inherited scopes on, a
    parent (``orders`` grants ``orders:read`` and ``orders:read:archive``)."""
    for scope in held:
        if scope in (needed, WILDCARD):
            return True
        if inherit and needed.startswith(scope + ":"):
            return True
    return False


@dataclass(frozen=True)
class ScopePolicy:
    """The scopes the server defines (Passport's ``tokensCan``) and those it grants when none is asked."""

    definitions: Mapping[str, str]
    defaults: tuple[str, ...] = ()
    #: Granted scopes by (request, client's list, wildcard, identity): a pure function of those and the policy.
    _granted: dict[tuple[str | None, tuple[str, ...], bool, bool], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def describe(self, scope: str) -> str:
        return self.definitions.get(scope) or IDENTITY_SCOPES.get(scope, scope)

    def resolve(
        self, requested: str | None, allowed: Sequence[str] = (), *, wildcard: bool = False, identity: bool = False
    ) -> tuple[str, ...]:
        """The scopes to grant for a request.

        Every requested scope must be defined and, when the client has a list, in that list; an empty request
        gets the default scopes (limited to what the client may have), as RFC 6749 3.3 allows. ``*`` (every
        scope) may be asked only where ``wildcard`` says so: as in Passport, by the password grant and personal
        access tokens, never by a grant a third party drives. The identity scopes (openid, profile, email,
        offline_access) may be asked only where ``identity`` says so (a user signs in: the code and device
        flows), and there by any client whose list names none of them (a list that names one limits them too).

        Answers are kept (refusals are not, they raise each time): resolving is a pure function of the arguments
        and the policy.
        """
        key = (requested, tuple(allowed), wildcard, identity)
        granted = self._granted.get(key)
        if granted is None:
            granted = self._resolve(requested, allowed, wildcard=wildcard, identity=identity)
            if requested is None or len(requested) <= MEMO_REQUEST_LENGTH:
                if len(self._granted) >= MEMO_ENTRIES:
                    self._granted.clear()
                self._granted[key] = granted
        return granted

    def _resolve(
        self, requested: str | None, allowed: Sequence[str], *, wildcard: bool, identity: bool
    ) -> tuple[str, ...]:
        if WILDCARD in allowed:
            allowed = ()  # the client may have any defined scope
        scopes = parse_scope(requested)
        if not scopes:
            return tuple(s for s in self.defaults if not allowed or s in allowed)
        if WILDCARD in scopes:
            if not wildcard:
                raise invalid_scope("The scope * may be asked only by the password grant and personal access tokens.")
            if allowed:
                raise invalid_scope("The client may not request every scope (*).")
            return (WILDCARD,)
        identities = [s for s in scopes if s in IDENTITY_SCOPES and s not in self.definitions]
        if identities and not identity:
            raise invalid_scope(f"The scope {identities[0]} is for signing a user in (authorization code or device "
                                "flow).")
        unknown = [s for s in scopes if s not in self.definitions and s not in identities]
        if unknown:
            raise invalid_scope(f"The requested scope is invalid, unknown, or malformed: {' '.join(unknown)}.")
        if allowed:
            # Identity scopes are open to every client, until its list names one: then the list limits them too.
            limits_identity = any(s in IDENTITY_SCOPES and s not in self.definitions for s in allowed)
            refused = [s for s in scopes if s not in allowed and (limits_identity or s not in identities)]
            if refused:
                raise invalid_scope(f"The client may not request the scope(s): {' '.join(refused)}.")
        return scopes
