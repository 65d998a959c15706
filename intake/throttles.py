"""The public intake's rate limit: INTAKE_RATE_LIMIT submissions per client address, one counter
for the API (IntakeRateThrottle) and the web form (IntakeFormRateLimitMiddleware)."""
from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from rest_framework.throttling import BaseThrottle

from core.ratelimit import SlidingWindow, client_address


class IntakeRateThrottle(BaseThrottle):
    """Public intake submissions per client address (core.ratelimit.client_address),
    INTAKE_RATE_LIMIT (e.g. "20/min"); the API and the web form share one counter."""

    scope = "intake"

    def __init__(self) -> None:
        self.window = SlidingWindow.from_rate("intake", settings.INTAKE_RATE_LIMIT)
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        self._wait = self.window.hit(client_address(request))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class IntakeFormRateLimitMiddleware:
    """Counts POSTs of the public intake form per client address against INTAKE_RATE_LIMIT and
    answers 429 with Retry-After past it, sharing the API throttle's counter.

    Counted when the view is about to run (process_view, after CsrfViewMiddleware's), so only posts
    that passed the CSRF check count: a page on another site making visitors' browsers post the
    form cannot spend the allowance of their address (an office, a campus) and lock them out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method == "POST" and request.path == reverse("intake:home"):
            throttle = IntakeRateThrottle()
            if not throttle.allow_request(request, view=None):
                wait = throttle.wait()
                seconds = max(1, math.ceil(wait)) if wait is not None else 60
                body = render_to_string("intake/rate_limited.html", {"seconds": seconds}, request=request)
                response = HttpResponse(body, status=429)
                response["Retry-After"] = str(seconds)
                return response
        return None
