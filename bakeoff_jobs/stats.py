"""Small statistics for the bake-off report: Wilson intervals, percentiles, exact McNemar test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

SIGNIFICANCE_LEVEL = 0.05


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a pass rate (z=1.96: 95%). With no trials it is (0.0, 1.0)."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0..100) by linear interpolation between closest ranks.

    This is Hyndman & Fan's definition 7 (numpy's and Excel PERCENTILE.INC's default): sort the
    values, take rank ``(n − 1) × p / 100`` counted from 0, and interpolate between the two values
    around it. None for an empty sequence.
    """
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs.

    ``b`` = cases A passed and B failed, ``c`` = cases A failed and B passed. Under "no
    difference" each discordant case is a fair coin, so p = 2 × P(X ≤ min(b, c)) for
    X ~ Binomial(b + c, 1/2), capped at 1. No discordant pairs gives 1.0. Computed exactly with
    fractions, then converted to float.
    """
    if b < 0 or c < 0:
        raise ValueError("counts cannot be negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def paired_comparison(a_passes: Sequence[bool], b_passes: Sequence[bool]) -> dict:
    """Compare two models on the same cases (same order): discordant counts and McNemar's p."""
    if len(a_passes) != len(b_passes):
        raise ValueError("both models must be compared on the same cases")
    b = sum(1 for a, other in zip(a_passes, b_passes) if a and not other)
    c = sum(1 for a, other in zip(a_passes, b_passes) if other and not a)
    p_value = mcnemar_exact(b, c)
    return {"b": b, "c": c, "p_value": p_value, "significant_at_0_05": p_value < SIGNIFICANCE_LEVEL}


# --------------------------------------------------------------------------- sample size

POWER = 0.8
_Z_ALPHA = 1.959963984540054  # two-sided 0.05
_Z_POWER = 0.8416212335729143  # 80% power
PLANNING_GAP = 0.10  # the gap a category is sized for when its models tie: 10 percentage points


def min_discordant_for_significance(alpha: float = SIGNIFICANCE_LEVEL) -> int:
    """The fewest discordant cases with which the exact McNemar test can reach p < alpha at all:
    every one of them going the same way gives p = 2 × 0.5^n, so n is the smallest with
    2^(1 − n) < alpha (6 at 0.05). With fewer cases than this no result can be told from chance."""
    n = 1
    while 2.0 ** (1 - n) >= alpha:
        n += 1
    return n


def mcnemar_cases_needed(a_only_rate: float, b_only_rate: float) -> int | None:
    """Paired cases needed for the exact McNemar test to show the gap with 80% power at 0.05.

    ``a_only_rate`` / ``b_only_rate`` are the shares of cases only A / only B solves. Connor's
    (1987) normal approximation, n = (z_α/2·√p_d + z_β·√(p_d − δ²))² / δ² with p_d the
    discordant share and δ the gap, rounded up; never fewer than it takes for the exact test to
    see ``min_discordant_for_significance()`` discordant cases on average (6 / p_d). None when the
    rates are equal: no number of cases would show a difference that is not there.
    """
    if not (0 <= a_only_rate <= 1 and 0 <= b_only_rate <= 1 and a_only_rate + b_only_rate <= 1):
        raise ValueError("rates must be shares of the cases")
    gap = abs(a_only_rate - b_only_rate)
    discordant = a_only_rate + b_only_rate
    if gap == 0:
        return None
    root = _Z_ALPHA * math.sqrt(discordant) + _Z_POWER * math.sqrt(max(discordant - gap * gap, 0.0))
    approximate = math.ceil(root * root / (gap * gap) - 1e-9)
    exact_floor = math.ceil(min_discordant_for_significance() / discordant - 1e-9)
    return max(approximate, exact_floor)


def cases_needed_for_gap(pass_rate: float, gap: float = PLANNING_GAP) -> int:
    """Cases a category needs before a model ``gap`` below ``pass_rate`` (or above, when there is
    no room below) can be told apart from it: ``mcnemar_cases_needed`` with the two models failing
    independently (only A solves a case with probability p_a·(1 − p_b), only B p_b·(1 − p_a))."""
    if not 0 <= pass_rate <= 1 or not 0 < gap <= 1:
        raise ValueError("pass_rate must be 0..1 and gap in (0, 1]")
    high = pass_rate if pass_rate - gap >= 0 else gap
    low = high - gap
    needed = mcnemar_cases_needed(high * (1 - low), low * (1 - high))
    assert needed is not None  # gap > 0
    return needed
