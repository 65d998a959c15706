"""Response hardening that Django does not ship: a Content-Security-Policy header on every
response, no caching of any response that does not allow it, and the page a locked-out login sees.
(The public intake form's rate limit is intake.throttles.IntakeFormRateLimitMiddleware.)"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


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


class PrivateByDefaultCacheMiddleware:
    """Every response that says nothing of caching is stored by no browser or shared cache
    (Cache-Control: no-store, private, …): the founder's status page and API answer carry a private
    link token and the company's details, the form page its submission key, staff and partner pages
    other firms' business. A response that may be cached says so itself (cache_control(public=True)
    on the favicon, the static files WhiteNoise serves before this runs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
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
