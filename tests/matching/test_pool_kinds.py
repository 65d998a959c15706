"""Pools say how they are obtained: partner-filed (a credit application on the partner's side),
self-serve (the founder applies, with the link) or competitive ("eligible to apply", never "you
qualify", no expected amount, no credit application). The founder's page and emails word them alike."""
from decimal import Decimal

import pytest
from django.core import mail

from intake.links import status_path
from matching import eligibility, services
from matching.intake_flow import intake_status_email_send
from matching.pool_seed import AWS_APPLY, AWS_PROGRAMS
from tests.factories import CreditPoolFactory, IntakeFactory, PartnerFactory, PoolRuleFactory, open_engagement

pytestmark = pytest.mark.django_db

SELF_FUNDED = {"funding_kind": "bootstrapped", "investor_name": "", "investor_is_activate_provider": False}


def verdicts_by_slug(engagement) -> dict:
    return {v.pool.slug: v for v in engagement.intake.verdicts.select_related("pool")}


def test_a_competitive_pool_is_eligible_to_apply_with_no_estimate_and_no_expected_credits(pools):
    PartnerFactory()
    engagement = open_engagement(**SELF_FUNDED)
    accelerator = verdicts_by_slug(engagement)["genai-accelerator"]

    assert accelerator.is_eligible and accelerator.route == "competitive"
    assert accelerator.headline == "eligible to apply"
    assert accelerator.estimated_amount_usd == 0 and not accelerator.counts_as_expected
    expected = sum(v.estimated_amount_usd for v in verdicts_by_slug(engagement).values() if v.counts_as_expected)
    assert engagement.estimated_credits_usd == expected == Decimal("1000") + 25000 + 25000 + 0  # Founders, POC, Build


def test_a_competitive_pool_staff_gave_a_typical_amount_still_estimates_nothing(pools):
    """The class of bug, not the seed: whatever amount staff type, a cohort award is not expected."""
    pool = CreditPoolFactory(filing_route="competitive", typical_amount_usd=Decimal("300000"),
                             amount_max_usd=Decimal("1000000"), apply_url="https://example.com/apply")
    PoolRuleFactory(pool=pool)

    engagement = open_engagement()
    verdict = engagement.intake.verdicts.get(pool=pool)

    assert verdict.is_eligible and verdict.estimated_amount_usd == 0
    assert verdict.headline == "eligible to apply"
    assert engagement.estimated_credits_usd == sum(
        v.estimated_amount_usd for v in engagement.intake.verdicts.exclude(pool=pool) if v.is_eligible
    )


def test_accepting_opens_credit_applications_only_for_partner_filed_pools(pools):
    PartnerFactory()
    engagement = open_engagement(**SELF_FUNDED)
    eligible = {slug for slug, v in verdicts_by_slug(engagement).items() if v.is_eligible}
    assert {"activate-founders", "genai-accelerator", "bedrock-poc"} <= eligible

    engagement = services.engagement_accept(engagement=engagement, by=None)

    filed = set(engagement.credit_applications.values_list("pool__slug", flat=True))
    assert filed == {"bedrock-poc", "build-for-startups"}  # not the self-serve Founders, not the Accelerator


def test_the_status_page_words_each_pool_by_how_it_is_obtained_with_its_next_step(client, pools):
    PartnerFactory()
    engagement = open_engagement(**SELF_FUNDED)

    html = client.get(status_path(engagement.intake)).content.decode()

    accelerator = html[html.index('id="pool-genai-accelerator"'):]
    accelerator = accelerator[:accelerator.index("</section>")]
    assert "eligible to apply" in accelerator and "you qualify" not in accelerator
    assert "Estimated:" not in accelerator and "not counted in your expected credits" in accelerator
    assert "next application window" in accelerator and f'href="{AWS_PROGRAMS}"' in accelerator
    founders = html[html.index('id="pool-activate-founders"'):]
    founders = founders[:founders.index("</section>")]
    assert "you qualify" in founders and "Apply yourself on AWS&#x27;s form" in founders
    assert f'href="{AWS_APPLY.replace("&", "&amp;")}"' in founders
    portfolio = html[html.index('id="pool-bedrock-poc"'):]
    assert "Your AWS partner files it for you through ACE" in portfolio[:portfolio.index("</section>")]


def test_an_ineligible_self_serve_card_promises_nothing(client, pools):
    PartnerFactory()
    engagement = open_engagement()  # angel-funded: not the self-funded Founders tier
    founders = verdicts_by_slug(engagement)["activate-founders"]
    assert not founders.is_eligible

    html = client.get(status_path(engagement.intake)).content.decode()
    card = html[html.index('id="pool-activate-founders"'):]
    card = card[:card.index("</section>")]

    assert "not eligible" in card and "No next step for this pool" in card
    assert "Estimated:" not in card and "claim" not in card and "Apply on AWS" not in card
    assert founders.route_reason == eligibility.DEFAULT_ROUTE_REASONS["self_serve"]


def test_the_status_email_uses_the_same_words_and_next_steps(pools, settings, celery_eager,
                                                           django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PartnerFactory()
    engagement = open_engagement(**SELF_FUNDED)

    with django_capture_on_commit_callbacks(execute=True):  # delivered once the queueing commits
        intake_status_email_send(intake_id=engagement.intake_id)

    [message] = mail.outbox
    text, html = message.body, message.alternatives[0][0]
    assert "AWS Generative AI Accelerator: eligible to apply, awards up to $1,000,000" in text
    assert "Accelerator: you qualify" not in text and "Accelerator</strong>: <span" in html
    assert "Next step: Apply in the program's next application window." in text
    assert f"Apply here: {AWS_PROGRAMS}" in text and f"Apply here: {AWS_APPLY}" in text
    assert "AWS Activate Founders: you qualify, estimated $1,000" in text
    assert "eligible to apply" in html and f'href="{AWS_PROGRAMS}"' in html
    # One wording: the page and the email take it from the same verdict properties.
    accelerator = verdicts_by_slug(engagement)["genai-accelerator"]
    assert f"Next step: {accelerator.next_step}" in text


def test_a_self_serve_or_competitive_pool_needs_a_link_for_the_founder(pools):
    from django.core.exceptions import ValidationError

    pool = pools["activate-founders"]
    pool.apply_url = ""
    with pytest.raises(ValidationError) as error:
        pool.full_clean()
    assert "apply_url" in error.value.message_dict


def test_the_founder_api_carries_the_same_headline_and_next_step(client, pools):
    from intake.links import status_link_token

    PartnerFactory()
    engagement = open_engagement(**SELF_FUNDED)

    body = client.get(f"/api/intakes/status/{status_link_token(engagement.intake)}/").json()

    accelerator = next(v for v in body["verdicts"] if v["pool"] == "genai-accelerator")
    assert accelerator["headline"] == "eligible to apply" and accelerator["apply_url"] == AWS_PROGRAMS
    assert accelerator["estimated_amount_usd"] == "0.00"


def test_a_verdict_stored_with_the_old_promise_is_shown_without_it(client, pools):
    PartnerFactory()
    engagement = open_engagement()
    stored = engagement.intake.verdicts.get(pool=pools["activate-founders"])
    stored.route_reason = "You can claim $1,000 yourself on the AWS Activate page."
    stored.save()

    html = client.get(status_path(engagement.intake)).content.decode()

    assert "You can claim $1,000 yourself" not in html
    assert eligibility.DEFAULT_ROUTE_REASONS["self_serve"].replace("'", "&#x27;") in html
