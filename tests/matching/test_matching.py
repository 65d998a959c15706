"""Partner matching: filters (vetted, active, specialty, region, capacity), scoring, the explicit
tie-break, the unmatched queue and staff overrides."""
import pytest

from matching import scoring, services
from matching.models import EngagementStatus, MatchDecision, MatchMethod
from matching.selectors import engagements_unmatched
from tests.factories import IntakeFactory, PartnerFactory, open_engagement

pytestmark = pytest.mark.django_db



def fill(partner, n: int) -> None:
    for _ in range(n):
        engagement = open_engagement()
        if engagement.partner_id != partner.id:
            raise AssertionError("fill() expects the partner to be the only candidate")


def test_matches_the_only_fitting_partner_and_stores_why():
    partner = PartnerFactory(name="Northwind")

    engagement = open_engagement()

    assert engagement.status == EngagementStatus.MATCHED
    assert engagement.partner == partner
    decision = engagement.match_decisions.get()
    assert decision.method == MatchMethod.AUTOMATIC
    assert decision.breakdown["chosen"]["partner"] == "Northwind"
    assert str(decision.score) == decision.breakdown["chosen"]["total"] and decision.score > 0


def test_unvetted_and_inactive_partners_are_never_matched():
    PartnerFactory(is_vetted=False)
    PartnerFactory(is_active=False)

    engagement = open_engagement()

    assert engagement.status == EngagementStatus.UNMATCHED
    assert engagement.partner is None


def test_full_partner_is_skipped_for_one_with_a_free_slot():
    busy = PartnerFactory(name="A Busy", capacity=1, specialties=["genai", "data"])
    fill(busy, 1)
    free = PartnerFactory(name="B Free", capacity=1)

    engagement = open_engagement(use_case="rag_search")

    assert engagement.partner == free
    excluded = engagement.match_decisions.get().breakdown["excluded"]
    assert {"partner_id": busy.id, "partner": "A Busy", "why": "at capacity (1/1)"} in excluded


def test_when_every_partner_is_full_the_engagement_waits_in_the_unmatched_queue():
    partner = PartnerFactory(capacity=1)
    fill(partner, 1)

    engagement = open_engagement()

    assert engagement.status == EngagementStatus.UNMATCHED
    assert list(engagements_unmatched()) == [engagement]
    assert engagement.match_decisions.get().partner is None


def test_closed_engagements_free_their_partners_slot():
    partner = PartnerFactory(capacity=1)
    first = open_engagement()
    services.engagement_close(engagement=first, by=None, reason="Founder withdrew.")

    second = open_engagement()

    assert second.partner == partner


def test_region_filter_keeps_eu_intakes_with_partners_serving_europe():
    PartnerFactory(name="US only", regions=["us-east-1"])
    eu = PartnerFactory(name="EU", regions=["eu-west-1"])

    engagement = open_engagement(country="DE")

    assert engagement.partner == eu
    excluded = engagement.match_decisions.get().breakdown["excluded"]
    assert excluded[0]["why"] == "serves no region in the eu geography"


def test_exact_residency_region_beats_same_geography():
    PartnerFactory(name="A Ireland", regions=["eu-west-1"])
    frankfurt = PartnerFactory(name="B Frankfurt", regions=["eu-central-1"])

    engagement = open_engagement(country="DE", data_residency_region="eu-central-1")

    assert engagement.partner == frankfurt
    chosen = engagement.match_decisions.get().breakdown["chosen"]
    assert chosen["region"] == "20"


def test_genai_workloads_need_a_genai_partner():
    PartnerFactory(name="Ops only", specialties=["devops"])

    engagement = open_engagement(use_case="summarization")

    assert engagement.status == EngagementStatus.UNMATCHED
    assert engagement.match_decisions.get().breakdown["excluded"][0]["why"] == "lacks the genai specialty"


def test_wanted_specialties_raise_the_score():
    PartnerFactory(name="A GenAI", specialties=["genai"])
    ml = PartnerFactory(name="Z GenAI and ML", specialties=["genai", "ml"])

    engagement = open_engagement(needs_fine_tuning=True)

    assert engagement.partner == ml


def test_non_genai_workload_can_go_to_a_devops_partner():
    ops = PartnerFactory(name="Ops", specialties=["devops"])

    engagement = open_engagement(use_case="other")

    assert engagement.partner == ops


def test_language_of_the_country_counts():
    PartnerFactory(name="A English", regions=["eu-central-1"], languages=["en"])
    german = PartnerFactory(name="B German", regions=["eu-central-1"], languages=["de", "en"])

    assert open_engagement(country="DE").partner == german


def test_equal_scores_break_ties_by_partner_name():
    PartnerFactory(name="Zeta")
    alpha = PartnerFactory(name="Alpha")

    engagement = open_engagement()

    assert engagement.partner == alpha
    breakdown = engagement.match_decisions.get().breakdown
    assert [c["partner"] for c in breakdown["candidates"]] == ["Alpha", "Zeta"]
    assert breakdown["candidates"][0]["total"] == breakdown["candidates"][1]["total"]
    assert "partner name A-Z" in breakdown["tie_break"]


def test_equal_totals_prefer_the_partner_with_more_free_slots():
    # 10 free-capacity points either way (2/2 free vs 4/4 free); the bigger firm wins the tie.
    PartnerFactory(name="A Small", capacity=2)
    big = PartnerFactory(name="B Big", capacity=4)

    assert open_engagement().partner == big


def test_ranking_is_deterministic_whatever_order_partners_arrive_in():
    partners = [PartnerFactory(name=name, capacity=4) for name in ["Kappa", "Beta", "Omega"]]
    partners.append(PartnerFactory(name="Delta", capacity=4, specialties=["genai", "ml"]))
    needs = scoring.needs_of(IntakeFactory.build(needs_fine_tuning=True))
    loads = {partners[0].id: 1}

    forwards = scoring.rank(needs, partners, loads)
    backwards = scoring.rank(needs, list(reversed(partners)), loads)

    assert forwards == backwards
    assert [c["partner"] for c in forwards[0]] == ["Delta", "Beta", "Omega", "Kappa"]


def test_staff_assign_from_the_unmatched_queue_records_who_and_why(staff_user):
    engagement = open_engagement()
    partner = PartnerFactory(name="Late joiner")

    engagement = services.engagement_assign(
        engagement=engagement, partner=partner, by=staff_user, reason="Founder asked for them."
    )

    assert engagement.status == EngagementStatus.MATCHED and engagement.partner == partner
    decision = engagement.match_decisions.get(method=MatchMethod.MANUAL)
    assert (decision.decided_by, decision.reason) == (staff_user, "Founder asked for them.")
    last = engagement.history.last()
    assert (last.from_status, last.to_status, last.changed_by) == ("unmatched", "matched", staff_user)
    assert list(engagements_unmatched()) == []


def test_staff_override_replaces_an_automatic_match(staff_user):
    PartnerFactory(name="A Auto")
    engagement = open_engagement()
    other = PartnerFactory(name="B Chosen by staff")

    engagement = services.engagement_assign(engagement=engagement, partner=other, by=staff_user, reason="Closer fit.")

    assert engagement.partner == other
    assert engagement.match_decisions.get(method=MatchMethod.MANUAL).breakdown == {"previous_partner": "A Auto"}


def test_staff_cannot_assign_a_full_partner(staff_user):
    partner = PartnerFactory(capacity=1)
    fill(partner, 1)
    waiting = open_engagement()

    with pytest.raises(services.MatchingError, match="at capacity"):
        services.engagement_assign(engagement=waiting, partner=partner, by=staff_user, reason="Try anyway")

    waiting.refresh_from_db()
    assert waiting.status == EngagementStatus.UNMATCHED
    assert not MatchDecision.objects.filter(engagement=waiting, method=MatchMethod.MANUAL).exists()


def test_staff_assignment_needs_a_reason(staff_user):
    engagement = open_engagement()
    with pytest.raises(services.MatchingError, match="Say why"):
        services.engagement_assign(engagement=engagement, partner=PartnerFactory(), by=staff_user, reason=" ")
