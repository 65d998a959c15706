"""The beat sync: no arguments, one read-back task per open record, and each change recorded once
however often it runs."""
import datetime as dt

import pytest

from filing.ace import ace_opportunity_draft
from filing.models import AceReviewStatus, AceStage, AceStatusChange, ChangeSource
from filing.tasks import sync_partner_central

from .filing_support import (  # noqa: F401
    FilingEngagementFactory,
    eager_celery,
    partner_central_credentials,
    selling_stub,
)

pytestmark = pytest.mark.django_db


def _filed(partner_central_id: str, **fields):
    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory())
    opportunity.partner_central_id = partner_central_id
    opportunity.review_status = AceReviewStatus.SUBMITTED
    for name, value in fields.items():
        setattr(opportunity, name, value)
    opportunity.save()
    return opportunity


def _get(stub, identifier, stage, review_status, **life_cycle):
    stub.add_response(
        "get_opportunity",
        {
            "Catalog": "Sandbox",
            "Id": identifier,
            "Arn": f"arn:aws:partnercentral:us-east-1:123456789012:catalog/Sandbox/opportunity/{identifier}",
            "LastModifiedDate": dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc),
            "CreatedDate": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
            "RelatedEntityIdentifiers": {},
            "LifeCycle": {"Stage": stage, "ReviewStatus": review_status, **life_cycle},
        },
        {"Catalog": "Sandbox", "Identifier": identifier},
    )


def test_running_the_sync_twice_records_each_change_once(selling_stub, eager_celery):
    first = _filed("O1000001")
    second = _filed("O1000002")
    _filed("O1000003", stage=AceStage.CLOSED_LOST, closed_lost_reason="Price")  # closed: not read back
    ace_opportunity_draft(engagement=FilingEngagementFactory())  # never filed: nothing to read
    for _ in range(2):
        _get(selling_stub, "O1000001", "Qualified", "Approved")
        _get(selling_stub, "O1000002", "Prospect", "Action Required", ReviewComments="Add the customer's website")

    assert sync_partner_central.apply().get() == {"opportunities": 2, "applications": 0}
    assert sync_partner_central.apply().get() == {"opportunities": 2, "applications": 0}

    assert list(
        AceStatusChange.objects.order_by("opportunity_id", "id").values_list("opportunity_id", "field", "to_value", "source")
    ) == [
        (first.pk, "stage", "Qualified", ChangeSource.PARTNER_CENTRAL),
        (first.pk, "review_status", "Approved", ChangeSource.PARTNER_CENTRAL),
        (second.pk, "review_status", "Action Required", ChangeSource.PARTNER_CENTRAL),
    ]
    second.refresh_from_db()
    assert second.review_comments == "Add the customer's website"
    assert second.partner_central_arn.endswith("/O1000002")
    assert second.last_synced_at is not None


def test_a_missing_opportunity_is_reported_not_retried(selling_stub, eager_celery):
    opportunity = _filed("O1000009")
    selling_stub.add_client_error(
        "get_opportunity", service_error_code="ResourceNotFoundException", service_message="no such opportunity",
        http_status_code=404, expected_params={"Catalog": "Sandbox", "Identifier": "O1000009"},
    )

    sync_partner_central.apply()

    opportunity.refresh_from_db()
    assert opportunity.last_error.startswith("Partner Central cannot find this record")
    assert not opportunity.history.exists()


def test_a_throttled_read_back_is_retried(selling_stub, eager_celery):
    opportunity = _filed("O1000010")
    selling_stub.add_client_error(
        "get_opportunity", service_error_code="ThrottlingException", http_status_code=429,
        expected_params={"Catalog": "Sandbox", "Identifier": "O1000010"},
    )
    _get(selling_stub, "O1000010", "Technical Validation", "In review")

    sync_partner_central.apply()

    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.review_status) == ("Technical Validation", "In review")


def test_without_credentials_the_sync_does_nothing(settings):
    settings.PARTNER_CENTRAL_ACCESS_KEY_ID = ""
    _filed("O1000011")
    assert sync_partner_central.apply().get() == {"opportunities": 0, "applications": 0}


def test_beat_runs_the_sync(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["partner-central-sync"]
    assert entry["task"] == sync_partner_central.name
