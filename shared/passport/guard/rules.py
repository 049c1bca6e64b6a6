"""Per-route rules: all of these scopes, any of these scopes, user tokens only, client tokens only
(Passport's ``scopes:``, ``scope:`` and ``EnsureClientIsResourceOwner`` middleware)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from passport.config import SUBJECTS, ConfigError, RouteRule
from passport.routes import Route, path_pattern

#: A token holding this scope holds every scope (Passport's ``*``).
WILDCARD = "*"

ANY_TOKEN = RouteRule("*", "*")


def token_can(scopes: Iterable[str], scope: str) -> bool:
    held = set(scopes)
    return WILDCARD in held or scope in held


def permits(rule: RouteRule, *, scopes: tuple[str, ...], is_user: bool) -> bool:
    if rule.subject == "user" and not is_user:
        return False
    if rule.subject == "client" and is_user:
        return False
    held = set(scopes)
    if WILDCARD in held:
        return True
    if rule.scopes and not held.issuperset(rule.scopes):
        return False
    return not rule.any_scopes or not held.isdisjoint(rule.any_scopes)


class RuleTable:
    """Rules by route; a route the table does not name needs only a valid token."""

    def __init__(self, rules: Mapping[str, RouteRule]) -> None:
        self._by_key = dict(rules)
        self._patterns = [
            (key.split(" ", 1)[0], path_pattern(key.split(" ", 1)[1]), rule) for key, rule in self._by_key.items()
        ]

    def __iter__(self):
        return iter(self._by_key.items())

    def for_route(self, method: str, path: str) -> RouteRule:
        """By template (``resource``/``routeKey``) first, then by matching a concrete path (``methodArn``)."""
        rule = self._by_key.get(f"{method} {path}")
        if rule is not None:
            return rule
        for rule_method, pattern, candidate in self._patterns:
            if rule_method in (method, "ANY") and pattern.fullmatch(path):
                return candidate
        return ANY_TOKEN

    @classmethod
    def from_routes(cls, routes: Iterable[Route]) -> RuleTable:
        return cls({route.key: route.rule for route in routes if route.rule is not None})

    @classmethod
    def from_json(cls, text: str) -> RuleTable:
        """``{"GET /orders": {"scopes": [...], "any_scopes": [...], "subject": "user"}}``, as the guard
        construct passes a user's own API rules in ``PASSPORT_GUARD_RULES``."""
        try:
            raw = json.loads(text)
            rules = {}
            for key, spec in raw.items():
                method, path = key.split(" ", 1)
                rule = RouteRule(
                    method.upper(), path, tuple(spec.get("scopes", ())), tuple(spec.get("any_scopes", ())),
                    spec.get("subject", "any"),
                )
                if rule.subject not in SUBJECTS:
                    raise ValueError(f"subject {rule.subject!r}")
                rules[f"{rule.method} {path}"] = rule
        except (ValueError, AttributeError, TypeError) as exc:
            raise ConfigError(f"PASSPORT_GUARD_RULES is not a valid rule table: {exc}") from None
        return cls(rules)
