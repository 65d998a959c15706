"""Top-level URL map."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
    path("staff/", include("matching.urls_staff")),
    path("engagements/", include("matching.urls_workspace")),
    path("api/", include("cloudroute.api_urls")),
    path("bakeoffs/", include("bakeoff_jobs.urls")),
]

handler404 = "cloudroute.api.page_not_found"
handler500 = "cloudroute.api.server_error"
