"""API token authentication that locks out an address guessing tokens. django-axes watches every
password login (the admin's included); DRF's TokenAuthentication never reaches it, so wrong tokens are
counted here, per client address, in the rate-limit store."""
from __future__ import annotations

import logging
import math

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from core.ratelimit import SlidingWindow, client_address

log = logging.getLogger(__name__)


class TokenLockedOut(exceptions.Throttled):
    default_code = "token_locked_out"

    def __init__(self, wait: float) -> None:
        super().__init__(
            wait=math.ceil(wait),
            detail="Too many wrong API tokens from this address; token requests from it are refused for now.",
        )


def token_failures() -> SlidingWindow:
    """Wrong tokens per client address: API_TOKEN_FAILURE_LIMIT within AXES_COOLOFF_MINUTES."""
    return SlidingWindow("api-token-failures", settings.API_TOKEN_FAILURE_LIMIT, settings.AXES_COOLOFF_MINUTES * 60)


class LockingTokenAuthentication(TokenAuthentication):
    """TokenAuthentication, refused with 429 for an address that sent too many wrong tokens — its
    right tokens too, until the cool-off has passed. A right token does not reset the count, or one
    valid token would buy unlimited guesses."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None
        failures = token_failures()
        address = client_address(request)
        wait = failures.blocked(address)
        if wait is not None:
            raise TokenLockedOut(wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            failures.record(address)
            log.warning("wrong API token from %s", address)
            raise
