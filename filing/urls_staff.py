"""Staff-only pages, mounted under /staff/."""
from django.urls import path

from . import views_staff

app_name = "staff"
urlpatterns = [
    path("", views_staff.pipeline_dashboard, name="home"),  # /staff/ is the pipeline too
    path("pipeline/", views_staff.pipeline_dashboard, name="pipeline"),
    path("pipeline/engagements/", views_staff.stage_engagements, name="engagements"),
    path("pipeline.csv", views_staff.pipeline_csv, name="pipeline_csv"),
]
