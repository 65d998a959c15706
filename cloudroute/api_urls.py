"""The API's URL map under /api/: the router for records, plain paths for intake and figures,
and the OpenAPI schema with its browsable docs."""
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from bakeoff_jobs.api import BakeoffRunViewSet, CatalogModelViewSet, EvalSetViewSet
from cloudroute.api_docs import ApiRootView, RedocView, SwaggerView
from core.api import ID_PATTERN
from filing.api import AceOpportunityViewSet, CreditApplicationViewSet, PipelineApi
from matching.api import EngagementViewSet, PartnerViewSet, PoolViewSet
from portal.api import IntakeStatusApi, IntakeStatusLinkRotateApi, IntakeSubmitApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("ace-opportunities", AceOpportunityViewSet, basename="ace-opportunity")
router.register("credit-applications", CreditApplicationViewSet, basename="credit-application")
router.register("catalog-models", CatalogModelViewSet, basename="catalog-model")
router.register("eval-sets", EvalSetViewSet, basename="eval-set")
router.register("bakeoffs", BakeoffRunViewSet, basename="bakeoff")
router.register("staff/pools", PoolViewSet, basename="staff-pool")
router.register("staff/partners", PartnerViewSet, basename="staff-partner")

app_name = "api"
urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("intakes/", IntakeSubmitApi.as_view(), name="intake-submit"),
    path("intakes/status/<str:token>/", IntakeStatusApi.as_view(), name="intake-status"),
    path("staff/pipeline/", PipelineApi.as_view(), name="staff-pipeline"),
    re_path(rf"^staff/intakes/(?P<pk>{ID_PATTERN})/status-link/rotate/$", IntakeStatusLinkRotateApi.as_view(),
            name="staff-intake-status-link-rotate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    *router.urls,
]
