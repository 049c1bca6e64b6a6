"""Per-route rules: all of these scopes, any of these scopes, user tokens only, client tokens only
(Passport's ``scopes:``, ``scope:`` and ``EnsureClientIsResourceOwner`` middleware)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from passport.config import ConfigError, RouteRule, validate_route_rule
from passport.core.scopes import WILDCARD, satisfies
from passport.routes import Route, path_pattern

ANY_TOKEN = RouteRule("*", "*")


def token_can(scopes: Iterable[str], scope: str, *, inherit: bool = False) -> bool:
    return satisfies(scopes, scope, inherit=inherit)


def permits(rule: RouteRule, *, scopes: tuple[str, ...], is_user: bool, inherit: bool = False) -> bool:
    if rule.subject == "user" and not is_user:
        return False
    if rule.subject == "client" and is_user:
        return False
    if WILDCARD in scopes:
        return True
    if not all(satisfies(scopes, needed, inherit=inherit) for needed in rule.scopes):
        return False
    return not rule.any_scopes or any(satisfies(scopes, s, inherit=inherit) for s in rule.any_scopes)


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
            if not isinstance(raw, dict):
                raise ValueError("expected an object of route -> rule")
            rules = {}
            for key, spec in raw.items():
                method, _, path = key.partition(" ")
                if not isinstance(spec, dict):
                    raise ValueError(f"{key}: a rule is an object")
                # A misspelt member ("scope" for "scopes") must not silently open a route.
                unknown = set(spec) - _RULE_MEMBERS
                if unknown:
                    raise ValueError(f"{key}: unknown member(s) {', '.join(sorted(unknown))}")
                rule = RouteRule(
                    method, path, _scope_list(spec, "scopes"), _scope_list(spec, "any_scopes"),
                    spec.get("subject", "any"),
                )
                validate_route_rule(rule)
                rules[f"{rule.method} {rule.path}"] = rule
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"PASSPORT_GUARD_RULES is not a valid rule table: {exc}") from None
        return cls(rules)


_RULE_MEMBERS = {"scopes", "any_scopes", "subject"}


def _scope_list(spec: dict, name: str) -> tuple[str, ...]:
    value = spec.get(name, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ValueError(f"{name} must be a list of scope names")
    return tuple(value)
