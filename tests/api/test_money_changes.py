"""Every change to a credit application's money goes through its verb, which writes history, and the
money CloudRoute is owed (the commission and the approved amount it is a share of) moves only by
CloudRoute staff: through the API, the admin's form and the services alike."""
from decimal import Decimal

import pytest
from django.test import Client

from filing.commission import commission_correct, commission_move
from filing.credit_applications import credit_application_correct_approved_amount, credit_application_record
from filing.errors import FilingError
from filing.models import BenefitStatus, Commission, CommissionStatus, CreditApplication
from matching.admin_scoping import admin_groups_ensure

pytestmark = pytest.mark.django_db


def _approved(world, amount="40000") -> CreditApplication:
    application = world.engagement_a.credit_applications.get()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=world.alice)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, by=world.alice,
                              amount_approved=Decimal(amount))
    return application


def _admin(user) -> Client:
    user.is_staff = True
    user.save()
    if not user.is_superuser:
        user.groups.add(admin_groups_ensure()[0])
    client = Client()
    client.force_login(user)
    return client


def _change_form_post(client, application, **changes) -> dict:
    url = f"/admin/filing/creditapplication/{application.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{formset.formset.prefix}-{name}": management[name].value() for name in management.fields})
        for row in formset.formset.forms:
            data.update({row.add_prefix(name): row[name].value() for name in row.fields if row[name].value()})
    data.update(changes)
    return client.post(url, data)


def test_recording_the_approval_again_cannot_change_the_approved_amount(world):
    application = _approved(world)
    url = f"/api/credit-applications/{application.pk}/record/"

    refused = world.client("alice").post(url, {"status": "APPROVED", "amount_approved": "1.00"}, format="json")

    assert refused.status_code == 409 and "CloudRoute staff correct it" in refused.json()["detail"]
    application.refresh_from_db()
    assert application.amount_approved == Decimal("40000.00")
    assert Commission.objects.get(credit_application=application).amount == Decimal("4000.00")
    same = world.client("alice").post(url, {"status": "APPROVED", "amount_approved": "40000.00"}, format="json")
    assert same.status_code == 200  # repeating what is recorded changes nothing


def test_an_approved_amount_is_recorded_only_with_the_approval(world):
    application = world.engagement_a.credit_applications.get()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=world.alice)

    refused = world.client("alice").post(f"/api/credit-applications/{application.pk}/record/",
                                         {"status": "IN_REVIEW", "amount_approved": "1.00"}, format="json")

    assert refused.status_code == 409
    application.refresh_from_db()
    assert application.amount_approved is None


def test_a_read_back_approval_without_an_amount_takes_it_afterwards(world):
    application = world.engagement_a.credit_applications.get()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, source="partner_central")

    credit_application_record(application=application, status=BenefitStatus.APPROVED,
                              amount_approved=Decimal("25000"), by=world.alice)

    assert Commission.objects.get(credit_application=application).amount == Decimal("2500.00")


def test_a_partner_cannot_correct_the_approved_amount_its_commission_rests_on(world):
    application = _approved(world)

    with pytest.raises(FilingError, match="Only CloudRoute staff"):
        credit_application_correct_approved_amount(
            application=application, amount_approved=Decimal("1"), by=world.alice, reason="lower")
    response = _change_form_post(_admin(world.alice), application, amount_approved="1.00", status_reason="lower")

    assert response.status_code == 302  # the field is read-only for the firm: nothing it posts there counts
    application.refresh_from_db()
    assert application.amount_approved == Decimal("40000.00")
    assert Commission.objects.get(credit_application=application).amount == Decimal("4000.00")


def test_staff_correct_the_approved_amount_and_the_commission_follows(world):
    application = _approved(world)

    _change_form_post(_admin(world.staff), application, amount_approved="30000.00", status_reason="AWS cut it")

    application.refresh_from_db()
    assert application.amount_approved == Decimal("30000.00")
    assert Commission.objects.get(credit_application=application).amount == Decimal("3000.00")


def test_a_partner_cannot_move_or_correct_its_commission_through_the_services(world):
    commission = Commission.objects.get(credit_application=_approved(world))

    with pytest.raises(FilingError, match="Only CloudRoute staff"):
        commission_move(commission=commission, to_status=CommissionStatus.PAID, by=world.alice)
    with pytest.raises(FilingError, match="Only CloudRoute staff"):
        commission_correct(commission=commission, amount=Decimal("0"), by=world.alice, reason="discount")

    commission.refresh_from_db()
    assert (commission.status, commission.amount) == (CommissionStatus.ACCRUED, Decimal("4000.00"))


def test_the_amount_requested_changes_with_a_history_row_through_the_api(world):
    application = world.engagement_a.credit_applications.get()
    url = f"/api/credit-applications/{application.pk}/"

    changed = world.client("alice").patch(url, {"amount_requested": "30000.00"}, format="json")

    assert changed.status_code == 200 and changed.json()["amount_requested"] == "30000.00"
    row = application.history.order_by("-id").first()
    assert (row.from_status, row.to_status, row.changed_by) == ("PENDING_SUBMISSION", "PENDING_SUBMISSION", world.alice)
    assert row.reason == "Amount requested changed from USD 50,000.00 to USD 30,000.00."
    for bad in ("-5", "0", "1e400", "12.345", "10000000000000"):
        refused = world.client("alice").patch(url, {"amount_requested": bad}, format="json")
        assert refused.status_code == 400, bad
    assert application.history.count() == 2  # opened, and the one change


def test_the_amount_and_currency_change_with_a_history_row_through_the_admin(world):
    application = world.engagement_a.credit_applications.get()
    client = _admin(world.alice)

    _change_form_post(client, application, amount_requested="20000.00", currency="EUR")
    application.refresh_from_db()
    assert (application.amount_requested, application.currency) == (Decimal("20000.00"), "EUR")
    assert application.history.order_by("-id").first().reason == (
        "Amount requested changed from USD 50,000.00 to EUR 20,000.00.")

    _change_form_post(client, application, currency="e$$")
    application.refresh_from_db()
    assert application.currency == "EUR"
    assert application.history.count() == 2
