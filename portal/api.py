"""Public intake API: submit an intake (rate-limited per client address, Idempotency-Key aware)
and read its status with the private link token; staff replace a founder's link. They call the
same services as the web pages (portal.views_founder)."""
from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Conflict, Unprocessable
from core.inputs import text_problem
from core.parsers import LimitedJSONParser
from filing.selectors import intakes_for_founder_status
from intake.idempotency import IdempotencyKeyReused, intake_submit_once, request_fingerprint
from intake.links import LinkState, status_link_check
from intake.models import Intake
from intake.serializers import IntakeInputSerializer
from intake.services import intake_receive
from intake.throttles import IntakeRateThrottle
from matching.intake_flow import status_link_rotate
from matching.permissions import IsCloudRouteStaff

from .serializers import IntakeStatusSerializer, StatusLinkRotatedSerializer

IDEMPOTENCY_HEADER = "Idempotency-Key"
DUPLICATE_MESSAGE = (
    "This company already sent an intake from this email address a short while ago; "
    "its private status link was emailed to that address."
)


def _received_body(intake: Intake) -> dict:
    """The answer to a new submission, from the intake just saved (no query): its status link and
    status "received". Plain JSON, so the idempotency record stores it exactly as first sent."""
    return json.loads(JSONRenderer().render(IntakeStatusSerializer(intake).data))


class IntakeSubmitApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [IntakeRateThrottle]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        operation_id="intake_submit",
        summary="Submit a startup's intake",
        description=(
            "Records the intake and answers 202 with its private status link and status `received`; "
            "a worker then records a verdict for every credit pool, opens the engagement, matches a "
            "partner and emails the founder the link. Poll the status link (usually a second or two) "
            "for the verdicts and the partner. Send an `Idempotency-Key` to "
            "retry safely: the same key and body return the first response and create nothing; the "
            "same key with another body is refused with 422. Limited per client address (429)."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False,
                description="Any unique string up to 255 characters (e.g. a UUID) per submission.",
            )
        ],
        request=IntakeInputSerializer,
        responses={202: IntakeStatusSerializer},
        extensions={"x-errors": ["409", "422", "429"]},
        auth=[],
    )
    def post(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not (0 < len(key.strip()) <= 255):
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: ["Use 1 to 255 characters."]})
        if key is not None and text_problem(key):
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [f"This value {text_problem(key)}."]})
        serializer = IntakeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def respond(intake: Intake, created: bool) -> tuple[int, dict]:
            if not created:
                raise Conflict(DUPLICATE_MESSAGE)
            return status.HTTP_202_ACCEPTED, _received_body(intake)

        if key is None:
            intake, created = intake_receive(data=serializer.validated_data)
            code, body = respond(intake, created)
            return Response(body, status=code)
        try:
            code, body, _first = intake_submit_once(
                key=key.strip(), fingerprint=request_fingerprint(request.data),
                data=serializer.validated_data, respond=respond,
            )
        except IdempotencyKeyReused as exc:
            raise Unprocessable(str(exc)) from exc
        return Response(body, status=code)


class LinkGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This status link no longer works."
    default_code = "link_gone"


class IntakeStatusApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="intake_status",
        summary="The founder's status, by the private link token",
        responses={200: IntakeStatusSerializer,
                   410: OpenApiResponse(description="The link expired (STATUS_LINK_MAX_AGE_DAYS) or was replaced; "
                                                    "`detail` says how to get a new one.")},
        auth=[],
    )
    def get(self, request, token: str):
        # Object-level check: the signed token is the founder's only credential; a wrong or
        # tampered token resolves to nothing.
        check = status_link_check(token, queryset=intakes_for_founder_status())
        if check.state is LinkState.INVALID:
            raise exceptions.NotFound("No intake has this status token.")
        if check.state is LinkState.EXPIRED:
            raise LinkGone(f"This status link has expired (links work for {settings.STATUS_LINK_MAX_AGE_DAYS} days). "
                           "Open it in a browser to have a new link emailed to the intake's address, or use the "
                           "link in the latest email from CloudRoute.", code="link_expired")
        if check.state is LinkState.REVOKED:
            raise LinkGone("This status link was replaced by a new one, emailed to the intake's address.",
                           code="link_revoked")
        return Response(IntakeStatusSerializer(check.intake, context={"link_token": token}).data)


class IntakeStatusLinkRotateApi(APIView):
    """Staff replace a founder's status link: every earlier link stops working (410) and the
    founder is mailed the new one."""

    permission_classes = [IsCloudRouteStaff]

    @extend_schema(request=None, responses={200: StatusLinkRotatedSerializer},
                   summary="Replace the founder's status link (staff)")
    def post(self, request, pk: str):
        intake = Intake.objects.filter(pk=int(pk)).first()
        if intake is None:
            raise exceptions.NotFound("No intake has this id.")
        status_link_rotate(intake=intake, by=request.user)
        return Response(StatusLinkRotatedSerializer({"id": intake.pk, "emailed_to": intake.contact_email}).data)
