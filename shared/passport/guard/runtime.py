"""The guard as it runs in a Lambda container: composed once, at first use, and kept."""

from __future__ import annotations

import os
from functools import cache

from passport.config import Settings, load_settings
from passport.guard.decision import Guard
from passport.guard.revocation import RevocationCache, RevocationLookup
from passport.guard.rules import RuleTable
from passport.jws import TokenVerifier
from passport.keys.keyring import PublishedKeys
from passport.routes import route_table


def dynamo_lookup(settings: Settings) -> RevocationLookup:
    """The revocation lookup, made on the first uncached decision: over the signed standard-library client
    (passport.aws_json) wherever it serves as botocore would, as on Lambda; else over botocore,
    the guard's heaviest import by far, paid only then."""
    from passport.storage.revocation import SignedRevocationLookup

    signed = SignedRevocationLookup.configured(settings.storage)
    if signed is not None:
        return signed
    from passport.storage.models import bind
    from passport.storage.revocation import DynamoRevocationLookup

    bind(settings.storage)
    return DynamoRevocationLookup()


@cache
def guard(audience: str | None = None) -> Guard:
    """The container's guard for tokens of ``audience`` (RFC 8707; None: this deployment's API)."""
    settings = load_settings()
    verifier = TokenVerifier(
        PublishedKeys.of(settings),  # a kid not yet seen makes it read the keys again (a rotation), boundedly
        issuer=settings.issuer_url,
        audiences=(audience or settings.token_audience,),
        leeway=settings.guard.leeway_seconds,
    )
    rules_json = os.environ.get("PASSPORT_GUARD_RULES")
    rules = RuleTable.from_json(rules_json) if rules_json else RuleTable.from_routes(route_table(settings))
    revocations = RevocationCache(lambda: dynamo_lookup(settings), settings.guard.revocation_cache_seconds)
    return Guard(verifier, revocations, rules, inherit=settings.inherited_scopes)
