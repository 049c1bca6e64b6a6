"""The audit trail: one structured log line per token issued, refreshed, revoked or refused, saying who, which
client, which grant and why refused. Never a secret, token, code or password: only identifiers (client id, user
id, jti, family id), which identify without granting anything.

Lines go to the ``passport.audit`` logger as JSON, so CloudWatch Logs Insights can query them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("passport.audit")
log.setLevel(logging.INFO)

#: Fields an audit line may carry; anything else is dropped, so a careless caller cannot log a secret.
ALLOWED = {"client_id", "user_id", "grant_type", "error", "jti", "family_id", "scopes", "source_ip", "token_type",
           "reason", "expires_at", "auth_method"}


#: Called with every audit event and its (filtered) record: on Lambda, the metrics (passport.observability).
_observers: list[Callable[[str, dict[str, Any]], None]] = []


def observe(observer: Callable[[str, dict[str, Any]], None]) -> None:
    if observer not in _observers:
        _observers.append(observer)


def audit(event: str, **fields: Any) -> None:
    record = {"audit": event, "at": int(time.time())}
    record.update({k: v for k, v in fields.items() if k in ALLOWED and v not in (None, "")})
    log.info(json.dumps(record, sort_keys=True, default=str))
    for observer in _observers:
        observer(event, record)
