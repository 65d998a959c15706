"""Public pages: the intake form and the founder's status page."""
from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("", views.home, name="home"),
    path("status/<str:token>/", views.status, name="status"),
]
