"""Top-level URL map."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("portal.urls_founder")),
    path("staff/", include("filing.urls_staff")),
    path("engagements/", include("portal.urls_workspace")),
    path("api/", include("cloudroute.api_urls")),
    path("bakeoffs/", include("bakeoff_jobs.urls")),
    # Browsers ask for /favicon.ico whatever the page links (JSON pages link nothing).
    path("favicon.ico", cache_control(max_age=86400, public=True)(serve),
         {"path": "favicon.svg", "document_root": settings.BASE_DIR / "static"}, name="favicon"),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
