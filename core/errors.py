"""The base of every business refusal the apps raise, so the API can answer it without knowing them.

A service raises a subclass of DomainError with a message written for the person who asked; the API's
exception handler (core.api) answers `status_code` with {"detail": message, "fields": field_errors()}.
"""
from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. By default a 409: the record's current state forbids it."""

    status_code: int = 409
    code: str = "conflict"  # stable, for logs and clients that branch on it; the message may change

    def field_errors(self) -> dict[str, list[str]]:
        """Messages per input field when the refusal is about what was sent (such a subclass says
        status_code = 400); empty: the refusal is the message alone."""
        return {}
