"""Table-driven eligibility: every seeded pool against boundaries of each rule, evaluated by the pure
evaluator on the same snapshots the database publishes."""
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from matching import eligibility
from matching.pool_seed import POOLS
from tests.factories import IntakeFactory

TODAY = date(2026, 6, 15)


def seed_snapshot(slug: str) -> dict:
    spec = next(p for p in POOLS if p["slug"] == slug)
    pool = SimpleNamespace(**{k: v for k, v in spec.items() if k != "rules"})
    rules = [SimpleNamespace(kind=kind, params=params, **source) for kind, params, source in spec["rules"]]
    return eligibility.build_snapshot(pool, rules)


def verdict(slug: str, **overrides) -> eligibility.PoolOutcome:
    return eligibility.evaluate_pool(IntakeFactory.build(**overrides), seed_snapshot(slug), today=TODAY)


VC = {"funding_kind": "institutional_vc", "investor_name": "Foundry Ventures"}
SELF_FUNDED = {"funding_kind": "bootstrapped", "investor_name": "", "investor_is_activate_provider": False}

SCENARIOS = [
    # (pool, overrides, eligible, a sentence fragment that must appear)
    ("activate-founders", SELF_FUNDED, True, "is for bootstrapped startups: yours is bootstrapped."),
    ("activate-founders", {}, False, "is for bootstrapped startups: yours is angel-funded."),
    ("activate-founders", VC, False, "is for bootstrapped startups: yours is VC-funded."),
    ("activate-founders", {"funding_kind": "accelerator", "investor_name": "Y Combinator"}, False, "yours is accelerator-backed."),
    ("activate-founders", {**SELF_FUNDED, "founded_on": date(2016, 6, 15)}, True, "founded within the last 10 years (on or after 2016-06-15): founded 2016-06-15."),
    ("activate-founders", {**SELF_FUNDED, "founded_on": date(2016, 6, 14)}, False, "founded 2016-06-14."),
    ("activate-founders", {**SELF_FUNDED, "website": ""}, False, "AWS Activate Founders needs a company website: none given."),
    ("activate-founders", {**SELF_FUNDED, "aws_account_id": ""}, False, "AWS Activate Founders needs an AWS account: none given."),
    ("activate-founders", {**SELF_FUNDED, "prior_activate_credits_usd": Decimal("999.99")}, True, "below $1,000: $999.99 received."),
    ("activate-founders", {**SELF_FUNDED, "prior_activate_credits_usd": Decimal("1000")}, False, "below $1,000: $1,000 received."),
    # Activate is for pre-Series B startups (AWS's credits page), the Founders tier included.
    ("activate-founders", {**SELF_FUNDED, "stage": "series_b_plus"}, False, "takes Idea, Pre-seed, Seed or Series A companies: you are Series B or later."),
    ("activate-founders", {**SELF_FUNDED, "stage": "idea"}, True, "you are Idea."),
    ("activate-portfolio", {}, True, "needs an Activate Provider affiliation: Angel Syndicate is one."),
    ("activate-portfolio", {"stage": "series_b_plus", "total_raised_usd": Decimal("80000000")}, False, "takes Idea, Pre-seed, Seed or Series A companies: you are Series B or later."),
    ("activate-portfolio", {"stage": "series_a"}, True, "you are Series A."),
    ("activate-portfolio", {**VC, "investor_is_activate_provider": False}, False, "Foundry Ventures is not marked as an Activate Provider."),
    ("activate-portfolio", {"investor_name": "", "investor_is_activate_provider": False}, False, "AWS Activate Portfolio needs an Activate Provider affiliation: none given."),
    ("activate-portfolio", {"prior_activate_credits_usd": Decimal("99999.99")}, True, "below $100,000: $99,999.99 received."),
    ("activate-portfolio", {"prior_activate_credits_usd": Decimal("100000")}, False, "below $100,000: $100,000 received."),
    ("activate-portfolio", {"founded_on": date(2016, 6, 15)}, True, "founded 2016-06-15."),
    ("activate-portfolio", {"founded_on": date(2016, 6, 14)}, False, "founded 2016-06-14."),
    ("activate-portfolio", {"monthly_requests": 0}, False, "at least 1 request a month: 0 given."),
    ("activate-portfolio", {"monthly_requests": 1}, True, "at least 1 request a month: 1 given."),
    ("activate-portfolio", {"website": ""}, False, "AWS Activate Portfolio needs a company website: none given."),
    ("activate-portfolio", {"aws_account_id": ""}, False, "AWS Activate Portfolio needs an AWS account: none given."),
    ("bedrock-poc", {}, True, "needs a generative-AI workload: yours is Chat assistant."),
    # No published description of the POC pool sets a stage condition.
    ("bedrock-poc", {"stage": "idea"}, True, "needs a generative-AI workload: yours is Chat assistant."),
    ("bedrock-poc", {"stage": "series_b_plus"}, True, "needs a generative-AI workload: yours is Chat assistant."),
    ("bedrock-poc", {"use_case": "other"}, False, "yours is Other (not generative AI)."),
    ("bedrock-poc", {"use_case": "agents"}, True, "yours is Agents."),
    ("bedrock-poc", {"monthly_requests": 0}, False, "at least 1 request a month: 0 given."),
    ("bedrock-poc", {"monthly_requests": 1}, True, "at least 1 request a month: 1 given."),
    ("build-for-startups", {"stage": "idea"}, True, "at least 1 request a month: 5,000 given."),
    ("build-for-startups", {"stage": "series_b_plus"}, True, "at least 1 request a month: 5,000 given."),
    ("build-for-startups", {"monthly_requests": 0}, False, "at least 1 request a month: 0 given."),
    ("build-for-startups", {"use_case": "other"}, True, "at least 1 request a month: 5,000 given."),
    ("genai-accelerator", {"stage": "seed"}, True, "takes Seed or Series A companies: you are Seed."),
    ("genai-accelerator", {"stage": "series_a"}, True, "you are Series A."),
    ("genai-accelerator", {"stage": "pre_seed"}, False, "you are Pre-seed."),
    ("genai-accelerator", {"stage": "series_b_plus"}, False, "you are Series B or later."),
    ("genai-accelerator", {"stage": "idea"}, False, "you are Idea."),
    ("genai-accelerator", {"use_case": "other"}, False, "AWS Generative AI Accelerator needs a generative-AI workload"),
]


@pytest.mark.parametrize(
    "slug, overrides, eligible, sentence",
    SCENARIOS,
    ids=[f"{s[0]}-{i}-{'ok' if s[2] else 'no'}" for i, s in enumerate(SCENARIOS)],
)
def test_pool_verdict_and_reason(slug, overrides, eligible, sentence):
    outcome = verdict(slug, **overrides)

    assert outcome.is_eligible is eligible
    assert any(sentence in r.text for r in outcome.reasons), [r.text for r in outcome.reasons]
    # The sentence that explains a refusal is a failed rule, and an eligible verdict has none.
    assert all(r.passed for r in outcome.reasons) is eligible


@pytest.mark.parametrize(
    "slug, overrides, amount, route, headline",
    [
        ("activate-founders", SELF_FUNDED, Decimal("1000"), "self_serve", "you qualify"),
        ("activate-portfolio", {}, Decimal("25000"), "partner_ace", "you qualify"),
        ("bedrock-poc", {}, Decimal("25000"), "partner_ace", "you qualify"),
        ("build-for-startups", {}, Decimal("25000"), "partner_ace", "you qualify"),
        # Competitive: eligible to apply, never an expected amount.
        ("genai-accelerator", {}, Decimal("0"), "competitive", "eligible to apply"),
    ],
)
def test_eligible_verdict_carries_estimate_and_route(slug, overrides, amount, route, headline):
    outcome = verdict(slug, **overrides)

    assert outcome.is_eligible
    assert outcome.estimated_amount_usd == amount
    assert outcome.route == route
    assert outcome.route_reason
    assert outcome.headline == headline


def test_ineligible_verdict_estimates_nothing_and_lists_every_failure():
    outcome = verdict("activate-founders", website="", aws_account_id="", **VC)

    assert outcome.estimated_amount_usd == Decimal("0")
    assert [r.rule for r in outcome.reasons if not r.passed] == [
        "funding_kind_in", "requires_website", "requires_aws_account",
    ]


def custom_snapshot(*rules) -> dict:
    pool = SimpleNamespace(slug="custom", name="Custom pool", filing_route="partner_ace", route_note="",
                           amount_min_usd=0, amount_max_usd=1000, typical_amount_usd=500)
    return eligibility.build_snapshot(pool, [SimpleNamespace(kind=k, params=p) for k, p in rules])


@pytest.mark.parametrize(
    "rule, raised, eligible",
    [
        (("min_total_raised_usd", {"usd": "500000"}), Decimal("500000"), True),
        (("min_total_raised_usd", {"usd": "500000"}), Decimal("499999.99"), False),
        (("max_total_raised_usd", {"usd": "2000000"}), Decimal("2000000"), True),
        (("max_total_raised_usd", {"usd": "2000000"}), Decimal("2000000.01"), False),
    ],
)
def test_total_raised_bounds_are_inclusive(rule, raised, eligible):
    outcome = eligibility.evaluate_pool(IntakeFactory.build(total_raised_usd=raised), custom_snapshot(rule), today=TODAY)

    assert outcome.is_eligible is eligible


def test_company_age_limit_counts_from_28_february_on_a_leap_day():
    snapshot = custom_snapshot(("max_company_age_years", {"years": 1}))
    leap_day = date(2028, 2, 29)

    assert eligibility.evaluate_pool(IntakeFactory.build(founded_on=date(2027, 2, 28)), snapshot, today=leap_day).is_eligible
    assert not eligibility.evaluate_pool(IntakeFactory.build(founded_on=date(2027, 2, 27)), snapshot, today=leap_day).is_eligible


@pytest.mark.parametrize(
    "kind, params",
    [
        ("stage_in", {"stages": []}),
        ("stage_in", {"stages": ["series_z"]}),
        ("funding_kind_in", {}),
        ("max_company_age_years", {"years": "ten"}),
        ("prior_credits_below_usd", {"usd": "lots"}),
        ("min_monthly_requests", {"requests": -1}),
        ("no_such_rule", {}),
    ],
)
def test_rule_parameters_that_do_not_fit_their_kind_are_refused(kind, params):
    with pytest.raises(eligibility.RuleParamsError):
        eligibility.check_params(kind, params)


def test_published_seed_versions_match_the_reference_snapshots(pools):
    for slug, pool in pools.items():
        assert pool.rule_versions.get().snapshot == seed_snapshot(slug)
