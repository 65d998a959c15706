"""An ineligible verdict tells the founder how to close a gap they can close today (an AWS account, a
website); a gap they cannot close keeps the plain "no next step"."""
import pytest

from matching.eligibility import FOUNDER_CAN_MEET, verdict_next_step
from matching.models import FilingRoute, PoolVerdict
from matching.pool_rules import intake_verdicts_record
from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db


def test_a_founder_without_an_aws_account_is_told_how_to_qualify(pools):
    intake = IntakeFactory(aws_account_id="", stage="seed", funding_kind="institutional_vc",
                           investor_name="Foundry Ventures", investor_is_activate_provider=True)
    intake_verdicts_record(intake=intake)
    missing_only_the_account = [
        v for v in PoolVerdict.objects.filter(intake=intake, is_eligible=False)
        if [r["rule"] for r in v.reasons if not r["passed"]] == ["requires_aws_account"]
    ]
    assert missing_only_the_account, "the seed has a pool that needs an AWS account"
    for verdict in missing_only_the_account:
        assert verdict.next_step.startswith("You can still qualify: create an AWS account")
        assert "No next step" not in verdict.next_step


def test_a_gap_the_founder_cannot_close_keeps_no_next_step():
    assert verdict_next_step(FilingRoute.PARTNER_ACE, False, failed_rules=["stage_in"]).startswith("No next step")
    mixed = verdict_next_step(FilingRoute.PARTNER_ACE, False, failed_rules=["requires_aws_account", "stage_in"])
    assert mixed.startswith("No next step")


def test_every_gap_the_founder_can_close_is_named_once():
    step = verdict_next_step(FilingRoute.SELF_SERVE, False, failed_rules=list(FOUNDER_CAN_MEET) * 2)
    for remedy in FOUNDER_CAN_MEET.values():
        assert step.count(remedy) == 1
