"""intake_submit: one engagement per submission however often it arrives, verdicts for every pool,
and one email with a private link that nobody can forge."""
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from intake.links import status_link_token, status_path
from intake.models import Intake
from matching.intake_flow import intake_submit
from matching.models import Engagement, PoolVerdict
from tests.factories import IntakeFactory, PartnerFactory, intake_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def test_submission_records_every_pool_verdict_and_opens_a_matched_engagement(pools):
    partner = PartnerFactory()

    intake, created = intake_submit(data=intake_data())

    assert created
    assert intake.verdicts.count() == len(pools)
    assert intake.engagement.partner == partner
    assert intake.engagement.estimated_credits_usd > 0


def test_duplicate_submission_opens_one_engagement(pools):
    data = intake_data(company_name="Parsewell", contact_email="ada@parsewell.example")

    first, created_first = intake_submit(data=data)
    again, created_again = intake_submit(
        data={**data, "company_name": " parsewell ", "contact_email": "ADA@parsewell.example"}
    )

    assert (created_first, created_again) == (True, False)
    assert again == first
    assert Intake.objects.count() == 1 and Engagement.objects.count() == 1
    assert PoolVerdict.objects.count() == len(pools)


def test_double_click_posts_land_on_the_same_result_page(client, pools, django_capture_on_commit_callbacks):
    from tests.intake.test_intake_form import form_data

    page = client.get(reverse("intake:home"))
    key = page.context["form"]["submission_key"].value()
    assert key  # each blank form carries its own key

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("intake:home"), {**form_data(), "submission_key": key})
        second = client.post(reverse("intake:home"), {**form_data(), "submission_key": key})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Engagement.objects.count() == 1


def test_same_company_and_email_from_another_form_does_not_reveal_the_status_link(
    client, pools, django_capture_on_commit_callbacks
):
    from intake.links import status_link_token
    from tests.intake.test_intake_form import form_data

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("intake:home"), {**form_data(), "submission_key": "the-founders-own-page"})
    intake = Intake.objects.get()

    for other_key in ("someone-elses-page", ""):
        response = client.post(reverse("intake:home"), {**form_data(), "submission_key": other_key})
        assert response.status_code == 409
        assert "already have this submission" in response.content.decode()
        assert status_link_token(intake) not in response.content.decode()
        assert str(intake.status_token) not in response.content.decode()
    assert Intake.objects.count() == 1 and Engagement.objects.count() == 1


def test_same_company_after_the_window_is_a_new_intake(pools):
    data = intake_data()
    first, _ = intake_submit(data=data)
    Intake.objects.filter(pk=first.pk).update(submitted_at=first.submitted_at - timedelta(minutes=31))

    second, created = intake_submit(data=data)

    assert created and second != first
    assert Engagement.objects.count() == 2


def test_founder_gets_one_email_with_the_status_link_after_commit(pools, django_capture_on_commit_callbacks):
    PartnerFactory(name="Northwind")
    with django_capture_on_commit_callbacks(execute=True):
        intake, _ = intake_submit(data=intake_data(contact_email="ada@parsewell.example"))
        intake_submit(data=intake_data(contact_email="ada@parsewell.example", company_name=intake.company_name))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@parsewell.example"]
    assert status_path(intake) in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and status_path(intake) in html
    assert "Northwind" in message.body


def test_status_email_task_delivered_twice_mails_once(pools, django_capture_on_commit_callbacks):
    from matching.tasks import intake_status_email

    intake, _ = intake_submit(data=intake_data(), notify=False)

    # Each task's transaction commits (the email's delivery is queued on commit).
    with django_capture_on_commit_callbacks(execute=True):
        intake_status_email(intake.id)
    with django_capture_on_commit_callbacks(execute=True):
        intake_status_email(intake.id)  # the broker redelivers after a worker died

    assert len(mail.outbox) == 1
    intake.refresh_from_db()
    assert intake.status_email_sent_at is not None


def test_status_link_shows_progress(client, pools):
    PartnerFactory(name="Northwind")
    intake, _ = intake_submit(data=intake_data())

    response = client.get(status_path(intake))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Northwind" in html and "Matched" in html
    assert "AWS Generative AI Accelerator" in html


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: token.split(":")[0],  # signature dropped
        lambda token: "00000000-0000-4000-8000-000000000000:" + token.split(":")[1],  # other token, old signature
        lambda token: "nonsense",
    ],
)
def test_tampered_status_link_shows_nothing(client, pools, tamper):
    intake, _ = intake_submit(data=intake_data())
    token = status_link_token(intake)

    response = client.get(reverse("intake:status", kwargs={"token": tamper(token)}))

    assert response.status_code == 404
    assert intake.company_name not in response.content.decode()


def test_validly_signed_link_for_an_unknown_intake_shows_nothing(client, db):
    ghost = IntakeFactory.build()

    response = client.get(status_path(ghost))  # as a link whose token staff replaced: it no longer works
    assert response.status_code == 410 and ghost.company_name not in response.content.decode()


def test_the_status_email_survives_a_mail_server_hiccup(pools, settings, django_capture_on_commit_callbacks):
    """The founder's first email goes the one email path (core.mail): stored under the intake's key,
    and a dropped SMTP connection is retried rather than losing it."""
    from core.models import EmailStatus, OutboundEmail
    from matching.tasks import intake_status_email
    from tests.core.mail_backends import FlakyBackend

    settings.EMAIL_BACKEND = "tests.core.mail_backends.FlakyBackend"
    FlakyBackend.failures = 1
    try:
        intake, _ = intake_submit(data=intake_data(), notify=False)
        with django_capture_on_commit_callbacks(execute=True):
            intake_status_email(intake.id)
    finally:
        FlakyBackend.failures = 0

    [message] = mail.outbox
    assert message.subject == f"CloudRoute: your AWS credit options for {intake.company_name}"
    email = OutboundEmail.objects.get(key=f"intake-status:{intake.id}")
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
