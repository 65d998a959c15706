"""Idempotent intake submission for API clients: one Idempotency-Key, one intake, one response."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction

from .models import Intake, IntakeIdempotencyKey
from .services import intake_receive


class IdempotencyKeyReused(Exception):
    """The key was first used with a different request body."""


def request_fingerprint(data: Any) -> str:
    """SHA-256 of the body in canonical JSON, so key order and spacing do not matter."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def intake_submit_once(
    *, key: str, fingerprint: str, data: dict[str, Any],
    respond: Callable[[Intake, bool], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Submit under an Idempotency-Key. The first call stores (fingerprint, status, body, intake);
    a repeat with the same body returns that stored response and creates nothing (third value
    False). Concurrent calls with one key serialise on the key's unique row, so only one intake
    is ever made; the same key with another body raises IdempotencyKeyReused."""
    with transaction.atomic():
        record, created = IntakeIdempotencyKey.objects.get_or_create(key=key, defaults={"fingerprint": fingerprint})
        if not created:
            record = IntakeIdempotencyKey.objects.select_for_update().get(pk=record.pk)
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was already used with a different request body; "
                    "use a new key for a new submission."
                )
            if record.response_status is not None:
                return record.response_status, record.response_body, False
        intake, new = intake_receive(data=data)
        status, body = respond(intake, new)
        record.intake = intake
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["intake", "response_status", "response_body"])
    return status, body, True
