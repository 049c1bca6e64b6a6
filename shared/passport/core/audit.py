"""The audit trail: one structured log line per token issued, refreshed, revoked or refused, saying who, which
client, which grant and why refused. Never a secret, token, code or password: only identifiers (client id, user
id, jti, family id), which identify without granting anything.

Lines go to the ``passport.audit`` logger as JSON, so CloudWatch Logs Insights can query them.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("passport.audit")
log.setLevel(logging.INFO)

#: Fields an audit line may carry; anything else is dropped, so a careless caller cannot log a secret.
ALLOWED = {"client_id", "user_id", "grant_type", "error", "jti", "family_id", "scopes", "source_ip", "token_type",
           "reason", "expires_at", "auth_method", "host"}


#: Called with every audit event and its (filtered) record: on Lambda, the metrics (passport.observability).
_observers: list[Callable[[str, dict[str, Any]], None]] = []

#: Writes a record as its line: what ``json.dumps(record, sort_keys=True, default=str)`` writes, without building an
#: encoder for every line (the encoder keeps no state between calls).
_line = json.JSONEncoder(sort_keys=True, default=str).encode


class AuditLine(dict[str, Any]):
    """An audit record as a log message: a handler that prints text gets its JSON line (``str``, when it formats
    the message, as logging formats lazily), and Powertools' Logger on Lambda, which logs a dict message as an
    object, gets the record itself, so the line is not encoded here only to be decoded there again."""

    def __str__(self) -> str:
        return _line(self)


def observe(observer: Callable[[str, dict[str, Any]], None]) -> None:
    if observer not in _observers:
        _observers.append(observer)


def audit(event: str, **fields: Any) -> None:
    record = AuditLine(audit=event, at=int(time.time()))
    for name, value in fields.items():
        if name in ALLOWED and value is not None and value != "":
            record[name] = value
    if log.isEnabledFor(logging.INFO):  # a line nobody would see is not written out
        # log.info(line), with the record made here (Logger.makeRecord, then Logger.handle, as logging does): the
        # caller it names is this line of audit(), which logging.findCaller would otherwise find on every line by
        # walking the stack (a third of the cost of logging it).
        here = sys._getframe()
        log.handle(log.makeRecord(log.name, logging.INFO, here.f_code.co_filename, here.f_lineno, record, (), None,
                                  here.f_code.co_name))
    for observer in _observers:
        observer(event, record)
