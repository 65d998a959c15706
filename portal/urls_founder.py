"""Public pages: the intake form and the founder's status page. Their names stay "intake:home" and
"intake:status" (intake.links builds the status link from the latter)."""
from django.urls import path

from . import views_founder

app_name = "intake"
urlpatterns = [
    path("", views_founder.home, name="home"),
    path("status/<str:token>/", views_founder.status, name="status"),
]
