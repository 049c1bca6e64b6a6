"""Keep private keys out of botocore's DEBUG log lines.

At DEBUG, botocore logs every request it sends (``botocore.endpoint``: "Making request ... with params", body
included) and every response body it reads (``botocore.parsers``: "Response body"). A Secrets Manager call
that reads or writes the signing key would put the PEM in the logs of whoever turns DEBUG on to chase a
problem. A filter on botocore's loggers replaces any such line before a handler sees it; with DEBUG off the
filter never runs (loggers check the level first).
"""

from __future__ import annotations

import logging

#: The tail of a PEM private key's armour line ("-----BEGIN PRIVATE KEY-----", "... EC PRIVATE KEY-----").
_MARKER = "PRIVATE KEY-----"
#: The botocore loggers that write request or response bodies.
_LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.awsrequest", "botocore.retryhandler")


class _RedactPrivateKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return True
        if _MARKER in text:
            record.msg, record.args = "[redacted: this line held a private key]", None
            record.exc_info = record.exc_text = None
        return True


_FILTER = _RedactPrivateKeys()


def redact_private_keys_in_botocore_logs() -> None:
    """Install the filter (idempotent); called before any Secrets Manager call that carries a key."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
