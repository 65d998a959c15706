"""The API's front door: a public JSON root at /api/ that links the schema and both docs, and the
docs pages (Swagger UI, ReDoc) served from drf-spectacular-sidecar's own static files.

The site-wide Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) stays as it is everywhere
else; only the docs pages widen it, each by the one source it needs:
- ReDoc runs its search index in a Web Worker it starts from a `blob:` URL: `worker-src blob:`.
ReDoc's bundle always shows one image from Redocly's CDN in its sidebar credit; rather than let every
docs visitor's browser call that CDN (or refuse it and log a violation), /api/redoc/?bundle serves
the sidecar's bundle with that one URL replaced by an empty inline image.
- Swagger UI needs nothing more (its init script is a same-origin file, not inline).
ReDoc's template is overridden (templates/drf_spectacular/redoc.html) so that it loads no Google
Fonts: it uses the page's system font stack instead."""
from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"  # fixed in ReDoc's bundle, no option to drop it
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@functools.lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """The sidecar's ReDoc bundle, its one third-party image swapped for an empty inline one."""
    path = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    with open(path, "rb") as bundle:
        return bundle.read().replace(REDOC_LOGO.encode(), EMPTY_IMAGE.encode())


def csp_with(policy: str, extra: dict[str, list[str]]) -> str:
    """`policy` with each directive of `extra` added, or extended by the given sources."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    for name, sources in extra.items():
        current = directives.setdefault(name, [])
        current.extend(s for s in sources if s not in current)
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class _DocsPolicyMixin:
    """Sets the docs page's own policy: the site-wide one plus `csp_extra` (the middleware keeps it)."""

    csp_extra: dict[str, list[str]] = {}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy:
            response["Content-Security-Policy"] = csp_with(policy, self.csp_extra)
        return response


class RedocView(_DocsPolicyMixin, SpectacularRedocView):
    csp_extra = {"worker-src": ["blob:"]}

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if "bundle" in request.GET:
            response = HttpResponse(redoc_bundle(), content_type="application/javascript; charset=utf-8")
            response["Cache-Control"] = "public, max-age=86400"
            return response
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _redoc_standalone():
        return f"{reverse('api:redoc')}?bundle"


class SwaggerView(_DocsPolicyMixin, SpectacularSwaggerSplitView):
    csp_extra = {}


class ApiRootView(APIView):
    """GET /api/: what the API is and where its schema and docs are. Public, and answers the same
    whatever credentials come with the request."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="The API's root: links to the OpenAPI schema and its docs",
        responses=inline_serializer(
            "ApiRoot",
            {
                "name": serializers.CharField(),
                "version": serializers.CharField(),
                "schema": serializers.URLField(),
                "docs": serializers.URLField(),
                "redoc": serializers.URLField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        spectacular = settings.SPECTACULAR_SETTINGS
        return Response(
            {
                "name": spectacular["TITLE"],
                "version": spectacular["VERSION"],
                "description": spectacular["DESCRIPTION"],
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "docs": request.build_absolute_uri(reverse("api:docs")),
                "redoc": request.build_absolute_uri(reverse("api:redoc")),
            }
        )
