"""Token costs: every figure below is worked out by hand in the comment next to it."""

from decimal import Decimal as D

import pytest

from bakeoff_jobs.costs import (
    DEFAULT_TYPICAL_OUTPUT_TOKENS,
    CreditTranche,
    MonthlyProjection,
    Runway,
    family_tokens,
    runway_counting_expiry,
    typical_output_tokens,
    Prices,
    RunEstimate,
    approx_tokens,
    batch_cost,
    call_cost,
    estimate_run_cost,
    monthly_projection,
    months_display,
    runway_months,
    usd_display,
)

# Claude Sonnet 4 row of reference/bedrock-models.csv
SONNET = Prices(D("3.00"), D("15.00"), D("0.30"), D("3.75"), D("0.50"))
# Claude 3 Haiku: no prompt caching
HAIKU_3 = Prices(D("0.25"), D("1.25"), None, None, D("0.50"))
# Claude Haiku 4.5: caching, but a 4,096-token minimum per cache point
HAIKU_45 = Prices(D("1.00"), D("5.00"), D("0.10"), D("1.25"), D("0.50"))


def test_call_cost_bills_input_and_output_per_million_tokens():
    # 1000 × $3/1M + 500 × $15/1M = 0.003 + 0.0075 = 0.0105
    assert call_cost(SONNET, input_tokens=1000, output_tokens=500) == D("0.0105")


def test_call_cost_bills_cache_reads_and_writes_at_their_own_prices():
    # 200 × 3 + 500 × 15 + 2000 × 0.30 + 1000 × 3.75 = 600 + 7500 + 600 + 3750 = 12450 /1M = 0.01245
    cost = call_cost(
        SONNET, input_tokens=200, output_tokens=500, cache_read_tokens=2000, cache_write_tokens=1000
    )
    assert cost == D("0.01245")


def test_call_cost_keeps_full_precision():
    # 1 × $0.25/1M = 0.00000025 (below the display quantum, kept exactly)
    assert call_cost(HAIKU_3, input_tokens=1, output_tokens=0) == D("0.00000025")


def test_cache_tokens_on_a_model_without_cache_prices_bill_at_the_input_rate():
    # (100 + 50 + 50) × $0.25/1M = 200 × 0.25 / 1M = 0.00005
    cost = call_cost(HAIKU_3, input_tokens=100, output_tokens=0, cache_read_tokens=50, cache_write_tokens=50)
    assert cost == D("0.00005")


def test_batch_discount_is_the_fraction_taken_off_on_demand():
    # 0.0105 on demand × (1 − 0.50) = 0.00525
    assert batch_cost(SONNET, input_tokens=1000, output_tokens=500) == D("0.00525")
    # a 20% discount bills 80%: 0.0105 × 0.8 = 0.0084
    twenty_off = Prices(D("3"), D("15"), batch_discount=D("0.20"))
    assert batch_cost(twenty_off, input_tokens=1000, output_tokens=500) == D("0.0084")


def sonnet_month(**overrides):
    """100,000 requests of 3000 input (2000 of them a shared prefix) and 400 output tokens."""
    values = dict(
        monthly_requests=100_000,
        avg_input_tokens=3000,
        avg_output_tokens=400,
        shared_prefix_tokens=2000,
        min_cache_tokens=1024,
    )
    return monthly_projection(SONNET, **{**values, **overrides})


def test_monthly_projection_on_demand_batch_and_fully_warm_cache():
    projection = sonnet_month()
    # on demand per request: 3000 × 3 + 400 × 15 = 9000 + 6000 = 15000 /1M = 0.015; × 100,000 = 1500
    # batch: 1500 × 0.5 = 750
    # cached (hit rate 1): 1000 × 3 + 2000 × 0.30 + 400 × 15 = 3000 + 600 + 6000 = 9600 /1M
    #   = 0.0096; × 100,000 = 960
    assert projection == MonthlyProjection(on_demand=D("1500"), batch=D("750"), cached=D("960"))


def test_monthly_projection_cache_misses_write_the_prefix():
    projection = sonnet_month(cache_hit_rate=D("0.9"))
    # per request: uncached 1000 × 3 = 3000; reads 1800 × 0.30 = 540; writes 200 × 3.75 = 750;
    # output 400 × 15 = 6000; total 10290 /1M = 0.01029; × 100,000 = 1029
    assert projection.cached == D("1029")


def test_no_cached_variant_without_cache_prices_or_below_the_minimum_prefix():
    no_cache = monthly_projection(
        HAIKU_3, monthly_requests=10, avg_input_tokens=3000, avg_output_tokens=400,
        shared_prefix_tokens=2000, min_cache_tokens=None,
    )
    assert no_cache.cached is None
    # 10 × (3000 × 0.25 + 400 × 1.25) / 1M = 10 × 1250 / 1M = 0.0125
    assert no_cache.on_demand == D("0.0125")
    short_prefix = monthly_projection(
        HAIKU_45, monthly_requests=10, avg_input_tokens=3000, avg_output_tokens=400,
        shared_prefix_tokens=2000, min_cache_tokens=4096,
    )
    assert short_prefix.cached is None
    no_prefix = monthly_projection(
        SONNET, monthly_requests=10, avg_input_tokens=3000, avg_output_tokens=400, min_cache_tokens=1024
    )
    assert no_prefix.cached is None


def test_monthly_projection_rejects_a_prefix_longer_than_the_input():
    with pytest.raises(ValueError):
        monthly_projection(SONNET, monthly_requests=1, avg_input_tokens=10, avg_output_tokens=1,
                           shared_prefix_tokens=11, min_cache_tokens=1)


def test_runway_is_credits_over_monthly_cost():
    # $10,000 / $1,500 a month = 6.666… months, shown as 6.67
    months = runway_months(D("10000"), D("1500"))
    assert months_display(months) == "6.67"
    assert runway_months(D("10000"), D("2500")) == D("4")


def test_runway_without_cost_is_unlimited():
    assert runway_months(D("10000"), D("0")) is None
    assert runway_months(D("10000"), None) is None


def test_estimate_run_cost_is_a_range_typical_to_max_tokens():
    estimate = estimate_run_cost(
        HAIKU_3, cases=200, avg_input_tokens=500, max_output_tokens=1000, expected_output_tokens=100
    )
    # upper: 500 × 0.25 + 1000 × 1.25 = 125 + 1250 = 1375 /1M = 0.001375; × 200 = 0.275
    # typical: 125 + 100 × 1.25 = 250 /1M = 0.00025; × 200 = 0.05
    assert estimate == RunEstimate(upper_bound=D("0.275"), expected=D("0.05"))
    # a typical reply longer than max_tokens is cut at max_tokens, like the model's reply
    capped = estimate_run_cost(HAIKU_3, cases=1, avg_input_tokens=0, max_output_tokens=10, expected_output_tokens=50)
    assert capped.expected == capped.upper_bound


def test_typical_output_comes_from_the_expected_answers():
    # "INV-20931" = 9 chars = 3 tokens; "billing" = 2; a JSON-schema case counts at their mean (2.5)
    cases = [("exact", "INV-20931"), ("label", "billing"), ("json_schema", "")]
    assert typical_output_tokens(cases, max_output_tokens=512) == (D(3) + D(2) + D("2.5")) / 3
    # nothing says how long a reply is: a default, never above max_tokens
    assert typical_output_tokens([("json_valid", "")], max_output_tokens=512) == D(DEFAULT_TYPICAL_OUTPUT_TOKENS)
    assert typical_output_tokens([("json_valid", "")], max_output_tokens=64) == D(64)
    # each expected answer is capped at max_tokens
    assert typical_output_tokens([("contains", "x" * 4000)], max_output_tokens=100) == D(100)


def test_family_ratio_scales_the_character_count_to_the_tokenizer():
    assert family_tokens(100, "claude") == D("115.00")
    assert family_tokens(100, "llama") == D("100.00")
    assert family_tokens(100, "other") == D(100)


def test_runway_counts_each_tranche_until_it_expires():
    # $25,000 valid 12 months and $1,000 valid 24, spending $100/month: the soonest-expiring
    # tranche goes first and never runs out (12 × 100 = 1,200 < 25,000; the rest expires);
    # then $1,000 lasts 10 months: 22 months, short of the 24-month validity.
    tranches = [CreditTranche(D("1000"), 24), CreditTranche(D("25000"), 12)]
    assert runway_counting_expiry(tranches, D("100")) == Runway(months=D(22), validity_months=24, covers_validity=False)
    # spending $40/month: 12 months on the first, then 1,000 / 40 = 25 months > 12 left: the whole validity
    assert runway_counting_expiry(tranches, D("40")) == Runway(months=D(24), validity_months=24, covers_validity=True)
    # spending $5,000/month exhausts the first in 5 months, the second in 0.2 more
    assert runway_counting_expiry(tranches, D("5000")).months == D("5.2")


def test_runway_with_expiry_reports_345_months_of_credits_as_their_validity():
    # the example: credits that would last 345.8 months expire after 24
    runway = runway_counting_expiry([CreditTranche(D("50000"), 24)], D("144.60"))
    assert runway_months(D("50000"), D("144.60")) > 345
    assert runway == Runway(months=D(24), validity_months=24, covers_validity=True)


def test_runway_without_a_known_validity_only_counts_exhaustion():
    runway = runway_counting_expiry([CreditTranche(D("1000"), None), CreditTranche(D("1000"), 12)], D("100"))
    # 10 months on the expiring one (it would last 10 < 12), then 10 more
    assert runway == Runway(months=D(20), validity_months=None, covers_validity=None)
    assert runway_counting_expiry([CreditTranche(D("1000"), 12)], D("0")) == Runway(None, 12, True)
    assert runway_counting_expiry([CreditTranche(D("1000"), 12)], None) == Runway(None, 12, None)


def test_approx_tokens_rounds_characters_over_four_up():
    assert approx_tokens("") == 0
    assert approx_tokens("abcd") == 1
    assert approx_tokens("abcde") == 2


def test_display_rounds_half_up_to_the_micro_dollar():
    assert usd_display(D("0.0000125")) == "0.000013"
    assert usd_display(D("0.0000124999")) == "0.000012"
    assert usd_display(D("1500")) == "1500.000000"
    assert usd_display(None) is None
