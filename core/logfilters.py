"""Log filters: secrets that ride in URLs never reach a log line.

A founder's status link is a bearer token in the path (/status/<token>/, /api/intakes/status/<token>/):
whoever reads it sees the company's status. Django logs request paths (django.request: every 4xx
and 5xx, "Internal Server Error: /status/…/"; django.server: every request under runserver), so the
settings attach RedactSecretPaths to those loggers, with the patterns of the paths that carry one."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"


class RedactSecretPaths(logging.Filter):
    """Rewrites each record's message with every match of `patterns` (regexes whose first group is
    kept: the part before the secret) followed by the secret replaced by [redacted]."""

    def __init__(self, patterns: Iterable[str] = (), name: str = "") -> None:
        super().__init__(name)
        self.patterns = [re.compile(p) for p in patterns]

    def redact(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left for the handler to report
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
