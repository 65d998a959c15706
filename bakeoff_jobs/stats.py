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
