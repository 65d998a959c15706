"""With Partner Central credentials set, Partner Central is the source of an opportunity's and a
filed application's status: the API refuses to record those moves by hand, as the admin shows them
read-only. And an opportunity id names one opportunity: another record cannot claim it, since the
sync reads (and a resubmission writes) whatever the id names."""
import pytest

from filing.models import AceOpportunity, CreditApplication
from tests.filing.filing_support import partner_central_credentials  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_moves_by_hand_are_refused_while_partner_central_is_the_source(world, partner_central_credentials):  # noqa: F811
    opportunity = world.engagement_a.ace_opportunity
    application = world.engagement_a.credit_applications.get()
    application.pool.partner_central_benefit_id = "ben-activate"
    application.pool.save()
    alice = world.client("alice")

    ace = alice.post(f"/api/ace-opportunities/{opportunity.pk}/record/",
                     {"partner_central_id": "O1234567", "review_status": "Submitted"}, format="json")
    credit = alice.post(f"/api/credit-applications/{application.pk}/record/", {"status": "IN_REVIEW"}, format="json")

    assert ace.status_code == 409 and "Partner Central is the source" in ace.json()["detail"]
    assert credit.status_code == 409 and "Partner Central is the source" in credit.json()["detail"]
    opportunity.refresh_from_db()
    assert (opportunity.partner_central_id, opportunity.review_status) == ("", "Pending Submission")
    assert CreditApplication.objects.get(pk=application.pk).status == "PENDING_SUBMISSION"


def test_another_records_opportunity_id_cannot_be_claimed(world):
    AceOpportunity.objects.filter(pk=world.engagement_b.ace_opportunity.pk).update(partner_central_id="O7654321")
    url = f"/api/ace-opportunities/{world.engagement_a.ace_opportunity.pk}/"

    claimed = world.client("alice").post(url + "submit/", {"partner_central_id": "O7654321"}, format="json")

    assert claimed.status_code == 409 and "cannot be recorded here" in claimed.json()["detail"]
    assert AceOpportunity.objects.filter(partner_central_id="O7654321").count() == 1
    assert world.client("alice").post(url + "submit/", {"partner_central_id": "O1111111"},
                                      format="json").status_code == 200


def test_the_database_holds_an_opportunity_id_to_one_record_even_past_the_service(world):
    """Two requests racing past the service's check still cannot both store the id; any number of
    drafts have none."""
    from django.db import IntegrityError, transaction

    AceOpportunity.objects.filter(pk=world.engagement_a.ace_opportunity.pk).update(partner_central_id="O7654321")
    with pytest.raises(IntegrityError), transaction.atomic():
        AceOpportunity.objects.filter(pk=world.engagement_b.ace_opportunity.pk).update(partner_central_id="O7654321")
    AceOpportunity.objects.filter(pk=world.engagement_a.ace_opportunity.pk).update(partner_central_id="")
    assert AceOpportunity.objects.filter(partner_central_id="").count() == 2  # drafts: no id, no limit
