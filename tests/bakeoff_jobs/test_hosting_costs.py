"""Hourly-capacity costs (self-hosted GPUs, Bedrock custom models): each figure is worked out by hand
in the comment next to it."""
from decimal import Decimal as D

import pytest

from bakeoff_jobs.hosting_costs import (
    HourlyCapacity,
    amortised,
    call_hours_cost,
    capacity_projection,
    measure,
    rate_display,
    utilisation_display,
)
from bakeoff_jobs.costs import usd_display

# Two GPUs at $1.50 an hour each, four calls in flight at a time.
TWO_GPUS = HourlyCapacity(units=2, unit_hour_price=D("1.50"), concurrency=4)


def test_throughput_is_output_tokens_over_busy_time_at_the_concurrency():
    # calls of 2 s, 4 s and 6 s = 12 s; four in flight → busy 12 / 4 = 3 s; 100+200+300 = 600 tokens
    # → 600 / 3 = 200 tokens a second.
    measured = measure([(100, 2000), (200, 4000), (300, 6000)], concurrency=4)
    assert measured.call_seconds == D(12)
    assert measured.busy_seconds == D(3)
    assert measured.tokens_per_second == D(200)


def test_a_call_without_time_adds_tokens_but_no_seconds_and_no_time_means_no_throughput():
    assert measure([(100, 2000), (50, None)], concurrency=1).tokens_per_second == D(75)  # 150 / 2
    assert measure([(10, None)], concurrency=2).tokens_per_second is None


def test_a_task_pays_its_share_of_the_gpu_hours():
    # 2 GPUs × $1.50 = $3 an hour; a 2 s call shares the GPUs with 3 others → 0.5 s of them:
    # 3 × 0.5 / 3600 = 0.000416666… → $0.000417 displayed.
    cost = call_hours_cost(TWO_GPUS, call_ms=2000)
    assert cost == D(3) * D("0.5") / D(3600)
    assert usd_display(cost) == "0.000417"
    # The run's three calls (12 s / 4 = 3 busy seconds): 3 × 3 / 3600 = $0.0025 in all.
    total = sum(call_hours_cost(TWO_GPUS, call_ms=ms) for ms in (2000, 4000, 6000))
    assert total == D("0.0025")


def test_gpus_needed_and_monthly_cost_always_on_and_at_utilisation():
    # 2,000,000 requests × 500 output tokens = 1e9 tokens a month; a month is 730 h = 2,628,000 s →
    # 380.517… tokens a second needed; one deployment does 200 → ceil(1.9026) = 2 deployments = 4 GPUs.
    # Always on: 2 × $3 × 730 = $4,380. Busy: 1e9 / 200 = 5,000,000 s = 1,388.888… h → × $3 = $4,166.666…
    # Utilisation: 1,388.888… / (2 × 730) = 0.951293…
    p = capacity_projection(TWO_GPUS, monthly_requests=2_000_000, avg_output_tokens=500, tokens_per_second=D(200))
    assert usd_display(p.needed_tokens_per_second) == "380.517504"
    assert (p.replicas, p.units_needed) == (2, 4)
    assert p.always_on == D(4380)
    assert usd_display(p.at_utilisation) == "4166.666667"
    assert utilisation_display(p.utilisation) == "0.9513"
    assert p.commitment_total is None and p.capacity_short is False


def test_a_small_workload_still_needs_one_deployment_and_pays_it_always_on():
    # 1,000 × 100 = 100,000 tokens; needed 0.038 t/s → 1 deployment, 2 GPUs: always on 3 × 730 = $2,190;
    # busy 100,000 / 200 = 500 s → 500/3600 h × $3 = $0.416666…; utilisation (500/3600)/730 = 0.000190…
    p = capacity_projection(TWO_GPUS, monthly_requests=1000, avg_output_tokens=100, tokens_per_second=D(200))
    assert (p.replicas, p.units_needed, p.always_on) == (1, 2, D(2190))
    assert usd_display(p.at_utilisation) == "0.416667"
    assert utilisation_display(p.utilisation) == "0.0002"


def test_provisioned_throughput_bills_its_units_every_hour_with_the_commitment_and_amortised_training():
    # 2 model units × $21.18 an hour, 6-month commitment: 2 × 21.18 × 730 = $30,922.80 a month,
    # × 6 = $185,536.80 committed. Training $6,000 over 12 months = $500 a month on top: $31,422.80.
    pt = HourlyCapacity(units=2, unit_hour_price=D("21.18"), concurrency=8, scales=False, commitment_months=6)
    p = capacity_projection(pt, monthly_requests=100_000, avg_output_tokens=300, tokens_per_second=D(50),
                            training_monthly=amortised(D("6000"), 12))
    assert p.amortised_training == D(500)
    assert p.always_on == p.at_utilisation == D("31422.80")
    assert p.commitment_total == D("185536.80")
    assert (p.replicas, p.units_needed) == (1, 2)
    # 3e7 tokens / 2,628,000 s = 11.4155… t/s needed, under the 50 measured: enough.
    assert p.capacity_short is False
    short = capacity_projection(pt, monthly_requests=1_000_000, avg_output_tokens=300, tokens_per_second=D(50))
    assert short.capacity_short is True  # 3e8 / 2,628,000 = 114.155… > 50
    assert short.always_on == D("30922.80")


def test_amortisation_needs_months_and_nothing_to_amortise_is_zero():
    assert amortised(None, None) == 0
    assert amortised(D("0"), 12) == 0
    assert amortised(D("1000"), 3) == D("1000") / 3
    with pytest.raises(ValueError):
        amortised(D("1000"), 0)


def test_bad_capacity_is_refused():
    with pytest.raises(ValueError):
        HourlyCapacity(units=0, unit_hour_price=D(1), concurrency=1)
    with pytest.raises(ValueError):
        capacity_projection(TWO_GPUS, monthly_requests=1, avg_output_tokens=1, tokens_per_second=D(0))


def test_rates_round_half_up_for_display():
    assert rate_display(D("190.2587519")) == "190.26"
    assert rate_display(None) is None
