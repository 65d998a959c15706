"""Response hardening that Django does not ship: a Content-Security-Policy header on every
response, the public intake form's rate limit (the same limit and counter as the API's), and the
page a locked-out login sees."""
from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse


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


class IntakeFormRateLimitMiddleware:
    """Counts POSTs of the public intake form per client address against INTAKE_RATE_LIMIT and
    answers 429 with Retry-After past it, sharing the API throttle's counter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == reverse("intake:home"):
            from cloudroute.api import IntakeRateThrottle

            throttle = IntakeRateThrottle()
            if not throttle.allow_request(request, view=None):
                wait = throttle.wait()
                seconds = max(1, math.ceil(wait)) if wait is not None else 60
                body = render_to_string("intake/rate_limited.html", {"seconds": seconds}, request=request)
                response = HttpResponse(body, status=429)
                response["Retry-After"] = str(seconds)
                return response
        return self.get_response(request)


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
