"""The site's 404 and 500 pages (cloudroute.urls handler404/handler500): JSON under /api/, Django's
own HTML elsewhere."""
from django.http import JsonResponse
from django.views import defaults


def page_not_found(request, exception):
    """JSON for /api/ paths that match no route (e.g. /api/engagements/abc/); HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "fields": {}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error: the failure is logged.", "fields": {}}, status=500)
    return defaults.server_error(request)
