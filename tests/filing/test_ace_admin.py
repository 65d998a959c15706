"""The filing admin: drafting from an accepted engagement, recording moves by hand with history,
scoping to the partner's own firm, and commission moves by staff."""
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from filing.commission import commission_accrue
from filing.credit_applications import credit_application_record, credit_applications_open
from filing.models import AceOpportunity, BenefitStatus, Commission
from matching.models import PartnerMember

from .filing_support import FilingEngagementFactory, FilingPoolFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form_data(response) -> dict:
    """What the browser would post back: the form's current values plus the inlines' management forms."""
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form[name].value()
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        for field in inline.formset.management_form:
            data[field.html_name] = field.value()
        for form in inline.formset.forms:
            for field in form.hidden_fields():
                if field.value() is not None:
                    data[field.html_name] = field.value()
    return {k: v for k, v in data.items() if not isinstance(v, list) or v}


@pytest.fixture
def admin_client_no_credentials(client, settings):
    settings.PARTNER_CENTRAL_ACCESS_KEY_ID = ""
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_staff_drafts_the_opportunity_and_the_credit_applications(admin_client_no_credentials):
    engagement = FilingEngagementFactory()
    engagement.matched_pools.add(FilingPoolFactory())

    response = admin_client_no_credentials.post(
        "/admin/filing/aceopportunity/add/", {"engagement": engagement.pk}
    )

    assert response.status_code == 302, response.content[:2000]
    assert AceOpportunity.objects.get().engagement == engagement
    assert engagement.credit_applications.count() == 1


def test_a_move_by_hand_in_the_admin_is_recorded_with_who(admin_client_no_credentials):
    from filing.ace import ace_opportunity_draft

    opportunity = ace_opportunity_draft(engagement=FilingEngagementFactory())
    url = f"/admin/filing/aceopportunity/{opportunity.pk}/change/"
    data = _form_data(admin_client_no_credentials.get(url))
    data.update(review_status="Submitted", partner_central_id="O5550001")

    response = admin_client_no_credentials.post(url, data)

    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.review_status, opportunity.partner_central_id) == ("Submitted", "O5550001")
    assert list(opportunity.history.values_list("to_value", "source", "changed_by__username")) == [
        ("Submitted", "manual", "root")
    ]


def test_partners_see_only_their_own_firms_opportunities(client):
    from filing.ace import ace_opportunity_draft

    mine = ace_opportunity_draft(engagement=FilingEngagementFactory(intake__company_name="Mine Inc"))
    ace_opportunity_draft(engagement=FilingEngagementFactory(intake__company_name="Theirs Inc"))
    bob = UserFactory(username="bob", is_staff=True)
    bob.user_permissions.add(*Permission.objects.filter(codename__endswith="aceopportunity"))
    PartnerMember.objects.create(user=bob, partner=mine.engagement.partner)
    client.force_login(bob)

    html = client.get("/admin/filing/aceopportunity/").content.decode()

    assert "Mine Inc" in html and "Theirs Inc" not in html


def test_staff_mark_a_commission_invoiced(admin_client_no_credentials):
    engagement = FilingEngagementFactory()
    [application] = credit_applications_open(engagement=engagement, pools=[FilingPoolFactory()])
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal("1000"))
    commission = Commission.objects.get()

    page = admin_client_no_credentials.post(
        "/admin/filing/commission/", {"action": "mark_invoiced", "_selected_action": [commission.pk]}, follow=True
    )

    commission.refresh_from_db()
    assert commission.status == "invoiced"
    assert [str(m) for m in page.context["messages"]] == [
        "1 commission now invoiced; each row's entries say who moved it and when."]
    assert list(commission.entries.values_list("kind", "created_by__username")) == [
        ("accrual", None), ("invoiced", "root")
    ]
    assert commission_accrue(application=application) == commission


def test_every_filing_page_in_the_admin_renders(admin_client_no_credentials):
    engagement = FilingEngagementFactory()
    engagement.matched_pools.add(FilingPoolFactory())
    from filing.engagement_filings import engagement_filings_prepare

    opportunity = engagement_filings_prepare(engagement=engagement)
    [application] = engagement.credit_applications.all()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal("9"))
    commission = Commission.objects.get()

    for url in [
        "/admin/filing/aceopportunity/", f"/admin/filing/aceopportunity/{opportunity.pk}/change/",
        "/admin/filing/creditapplication/", f"/admin/filing/creditapplication/{application.pk}/change/",
        "/admin/filing/commission/", f"/admin/filing/commission/{commission.pk}/change/",
    ]:
        assert admin_client_no_credentials.get(url).status_code == 200, url


def test_staff_correct_a_commission_in_the_admin(admin_client_no_credentials):
    engagement = FilingEngagementFactory()
    [application] = credit_applications_open(engagement=engagement, pools=[FilingPoolFactory()])
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, amount_approved=Decimal("1000"))
    commission = Commission.objects.get()
    url = f"/admin/filing/commission/{commission.pk}/change/"
    data = _form_data(admin_client_no_credentials.get(url))
    data.update(corrected_amount="80.00", correction_reason="Agreed fee cap")

    assert admin_client_no_credentials.post(url, data).status_code == 302

    assert list(commission.entries.values_list("kind", "amount", "note")) == [
        ("accrual", Decimal("100.00"), "10.00% of USD 1000.00 approved."),
        ("correction", Decimal("-20.00"), "Agreed fee cap"),
    ]
