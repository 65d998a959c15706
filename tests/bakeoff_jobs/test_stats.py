"""Report statistics against values worked out by hand or published for the same inputs."""

import pytest

from bakeoff_jobs.stats import mcnemar_exact, paired_comparison, percentile, wilson_interval


def test_wilson_interval_for_8_of_10():
    # p = 0.8, z² = 3.8416, z²/n = 0.38416, centre = (0.8 + 0.19208) / 1.38416 = 0.716768
    # half = 1.96 × sqrt(0.016 + 0.009604) / 1.38416 = 0.226580 → (0.4902, 0.9433)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_at_the_edges_stays_inside_zero_and_one():
    # the published 95% Wilson bounds for 0/10 and 10/10 are 0.2775 and 0.7225
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1.0


def test_wilson_interval_for_half_of_100_is_symmetric():
    low, high = wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)


def test_wilson_interval_without_trials_says_nothing():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_percentile_interpolates_linearly_between_ranks():
    values = [50, 15, 40, 20, 35]  # sorted: 15 20 35 40 50
    # p40: rank 4 × 0.4 = 1.6 → 20 + 0.6 × (35 − 20) = 29
    assert percentile(values, 40) == pytest.approx(29.0)
    assert percentile(values, 50) == 35.0
    assert percentile(values, 0) == 15.0 and percentile(values, 100) == 50.0
    # 1..10, p95: rank 9 × 0.95 = 8.55 → 9 + 0.55 × (10 − 9) = 9.55
    assert percentile(list(range(1, 11)), 95) == pytest.approx(9.55)


def test_percentile_of_one_value_and_of_nothing():
    assert percentile([120], 95) == 120.0
    assert percentile([], 50) is None


def test_mcnemar_exact_known_values():
    # n = 10, min = 1: 2 × (C(10,0) + C(10,1)) / 2^10 = 2 × 11 / 1024 = 0.021484375
    assert mcnemar_exact(1, 9) == 0.021484375
    assert mcnemar_exact(9, 1) == 0.021484375
    # n = 10, min = 2: 2 × (1 + 10 + 45) / 1024 = 112 / 1024 = 0.109375
    assert mcnemar_exact(2, 8) == 0.109375
    # n = 6, min = 0: 2 × 1 / 64 = 0.03125; n = 5: 2 / 32 = 0.0625
    assert mcnemar_exact(0, 6) == 0.03125
    assert mcnemar_exact(0, 5) == 0.0625


def test_mcnemar_exact_caps_at_one_and_handles_no_discordant_pairs():
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 0) == 1.0


def test_paired_comparison_counts_discordant_pairs():
    a = [True] * 9 + [False] * 1 + [True] * 5
    b = [False] * 9 + [True] * 1 + [True] * 5
    result = paired_comparison(a, b)
    assert result == {"b": 9, "c": 1, "p_value": 0.021484375, "significant_at_0_05": True}


def test_paired_comparison_not_significant_and_needs_same_cases():
    assert paired_comparison([True, False], [False, True])["significant_at_0_05"] is False
    with pytest.raises(ValueError):
        paired_comparison([True], [True, False])


# --------------------------------------------------------------------------- sample size

def _exact_mcnemar_power(n: int, a_only: float, b_only: float) -> float:
    """P(exact McNemar p < 0.05) over n paired cases, summed exactly (test-only reference)."""
    import math

    from bakeoff_jobs.stats import mcnemar_exact

    discordant = a_only + b_only
    split = a_only / discordant
    power = 0.0
    for d in range(n + 1):
        p_d = math.comb(n, d) * discordant**d * (1 - discordant) ** (n - d)
        if p_d < 1e-12:
            continue
        for k in range(d + 1):
            if mcnemar_exact(k, d - k) < 0.05:
                power += p_d * math.comb(d, k) * split**k * (1 - split) ** (d - k)
    return power


def test_the_exact_test_needs_six_discordant_cases_to_call_anything_real():
    from bakeoff_jobs.stats import min_discordant_for_significance

    assert min_discordant_for_significance() == 6
    assert mcnemar_exact(5, 0) >= 0.05 > mcnemar_exact(6, 0)


def test_connor_sample_size_by_hand():
    from bakeoff_jobs.stats import mcnemar_cases_needed

    # p_d = 0.3, δ = 0.1: (1.96·√0.3 + 0.8416·√0.29)² / 0.01 = (1.0735 + 0.4532)² / 0.01 = 233.1 → 234
    assert mcnemar_cases_needed(0.2, 0.1) == 234
    # one-sided disagreement at 10%: (1.96·√0.1 + 0.8416·√0.09)² / 0.01 = 76.1 → 77 (above 6 / 0.1 = 60)
    assert mcnemar_cases_needed(0.1, 0.0) == 77
    assert mcnemar_cases_needed(0.0, 0.1) == 77  # symmetric
    assert mcnemar_cases_needed(0.15, 0.15) is None  # no gap: no number of cases shows one


@pytest.mark.parametrize("a_only, b_only", [(0.1, 0.0), (0.2, 0.1), (0.3, 0.05)])
def test_the_cases_needed_give_about_80_percent_power_on_the_exact_test(a_only, b_only):
    from bakeoff_jobs.stats import mcnemar_cases_needed

    n = mcnemar_cases_needed(a_only, b_only)
    assert _exact_mcnemar_power(n, a_only, b_only) >= 0.7
    assert _exact_mcnemar_power(n // 2, a_only, b_only) < 0.7


def test_a_category_tied_at_100_percent_is_sized_for_a_ten_point_gap():
    from bakeoff_jobs.stats import cases_needed_for_gap

    assert cases_needed_for_gap(1.0) == 77  # 100% against 90%
    assert cases_needed_for_gap(0.0) == 77  # 0% against 10%: same split the other way
    assert cases_needed_for_gap(0.6) > cases_needed_for_gap(0.95)  # mid rates are noisier
    with pytest.raises(ValueError):
        cases_needed_for_gap(1.2)
