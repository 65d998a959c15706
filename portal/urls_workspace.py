"""The partner's workspace, mounted under /engagements/ (names "workspace:…")."""
from django.urls import path

from . import views_workspace

app_name = "workspace"
urlpatterns = [
    path("", views_workspace.home, name="home"),
    path("<int:pk>/", views_workspace.detail, name="detail"),
    path("<int:pk>/accept/", views_workspace.accept, name="accept"),
    path("<int:pk>/decline/", views_workspace.decline, name="decline"),
    path("<int:pk>/ace/", views_workspace.ace, name="ace"),
    path("<int:pk>/ace/submit/", views_workspace.ace_submit, name="ace_submit"),
]
