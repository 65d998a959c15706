"""Response hardening that Django does not ship: a Content-Security-Policy header on every
response, and the page a locked-out login sees. (The public intake form's rate limit is
intake.throttles.IntakeFormRateLimitMiddleware.)"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class ContentSecurityPolicyMiddleware:
    """Sets CONTENT_SECURITY_POLICY on every response that has none (no third-party origins)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once a username is locked out from an address (AXES_LOCKOUT_CALLABLE)."""
    from axes.helpers import get_client_username

    minutes = settings.AXES_COOLOFF_MINUTES
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": get_client_username(request, credentials) or "",
        "minutes": minutes,
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
