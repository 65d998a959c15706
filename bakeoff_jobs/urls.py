"""Bake-off pages for partners and staff (login through the admin)."""
from django.urls import path

from . import views

app_name = "bakeoffs"
urlpatterns = [
    path("new/", views.launch, name="launch"),
    path("eval-sets/upload/", views.evalset_upload, name="upload"),
    path("<int:pk>/", views.report, name="report"),
    path("<int:pk>/progress.json", views.progress, name="progress"),
    path("<int:pk>/report.json", views.report_json, name="report_json"),
    path("<int:pk>/results.csv", views.results_csv, name="results_csv"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/share/", views.share, name="share"),
]
