"""Token costs in USD: per call, batch, monthly projections with batch and caching what-ifs, runway.

Rules written down once:

- Prices are USD per 1M tokens, as ``Decimal``; no float ever touches money.
- Token counts follow Bedrock Converse usage: ``input_tokens`` are the uncached input tokens;
  ``cache_read_tokens`` / ``cache_write_tokens`` are billed separately at the cache prices. A model
  without cache prices has no caching, so cache tokens on it are billed at the input rate (it never
  happens on Bedrock; this keeps a bad row from crashing a report).
- Rounding: every function here returns the exact value (full ``Decimal`` precision); nothing is
  rounded until display. ``usd_display`` rounds to $0.000001 (half up) for showing and reports;
  ``months_display`` rounds months to 0.01 (half up).
- ``batch_discount`` is the fraction taken off the on-demand price: a batch call costs
  ``on-demand × (1 − batch_discount)``. The catalog's 0.50 means batch bills half the on-demand
  price. Batch calls do not use prompt caching, so batch prices input and output tokens only.
- Caching what-if (``monthly_projection(...).cached``): the ``shared_prefix_tokens`` of each
  request (a system prompt or preamble, part of ``avg_input_tokens``) sit behind a cache point.
  A fraction ``cache_hit_rate`` of requests read the prefix from cache; every other request writes
  it (a miss re-creates the 5-minute cache entry). The default hit rate of 1 assumes a steady
  stream of requests that keeps the 5-minute entry warm, so writes are negligible; pass a lower
  rate for bursty traffic. The rest of the input, and the output, bill at the normal rates.
  The variant is ``None`` when the model has no cache prices, no minimum (``min_cache_tokens``
  is None: no caching), or the prefix is shorter than that minimum (Bedrock ignores the cache
  point then).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

PER_TOKENS = Decimal(1_000_000)
USD_DISPLAY_QUANTUM = Decimal("0.000001")
MONTHS_DISPLAY_QUANTUM = Decimal("0.01")
# Share of max_output_tokens a reply is expected to use when estimating a run before launch.
DEFAULT_EXPECTED_OUTPUT_SHARE = Decimal("0.5")
# Rough size of a token in characters of English text, for pre-launch estimates only.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Prices:
    input_per_1m: Decimal
    output_per_1m: Decimal
    cache_read_per_1m: Decimal | None = None
    cache_write_per_1m: Decimal | None = None
    batch_discount: Decimal = Decimal("0")

    @property
    def has_cache(self) -> bool:
        return self.cache_read_per_1m is not None and self.cache_write_per_1m is not None


@dataclass(frozen=True)
class MonthlyProjection:
    on_demand: Decimal
    batch: Decimal
    cached: Decimal | None


@dataclass(frozen=True)
class RunEstimate:
    upper_bound: Decimal  # every reply uses max_output_tokens
    expected: Decimal  # replies use expected_output_tokens


def _dec(value: int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def call_cost(
    prices: Prices,
    *,
    input_tokens: int | Decimal,
    output_tokens: int | Decimal,
    cache_read_tokens: int | Decimal = 0,
    cache_write_tokens: int | Decimal = 0,
) -> Decimal:
    """On-demand cost of one call (or of summed usage), exact."""
    read_price = prices.cache_read_per_1m
    write_price = prices.cache_write_per_1m
    total = (
        _dec(input_tokens) * prices.input_per_1m
        + _dec(output_tokens) * prices.output_per_1m
        + _dec(cache_read_tokens) * (prices.input_per_1m if read_price is None else read_price)
        + _dec(cache_write_tokens) * (prices.input_per_1m if write_price is None else write_price)
    )
    return total / PER_TOKENS


def batch_cost(
    prices: Prices, *, input_tokens: int | Decimal, output_tokens: int | Decimal
) -> Decimal:
    """Cost of the same usage through batch inference: on-demand × (1 − batch_discount)."""
    on_demand = call_cost(prices, input_tokens=input_tokens, output_tokens=output_tokens)
    return on_demand * (1 - prices.batch_discount)


def monthly_projection(
    prices: Prices,
    *,
    monthly_requests: int,
    avg_input_tokens: int | Decimal,
    avg_output_tokens: int | Decimal,
    shared_prefix_tokens: int | Decimal = 0,
    cache_hit_rate: Decimal = Decimal("1"),
    min_cache_tokens: int | None = None,
) -> MonthlyProjection:
    """Monthly cost of a workload on one model: on demand, through batch, and with prompt caching."""
    if _dec(shared_prefix_tokens) > _dec(avg_input_tokens):
        raise ValueError("shared_prefix_tokens cannot exceed avg_input_tokens")
    if not Decimal(0) <= cache_hit_rate <= Decimal(1):
        raise ValueError("cache_hit_rate must be between 0 and 1")
    requests = Decimal(monthly_requests)
    on_demand = requests * call_cost(
        prices, input_tokens=avg_input_tokens, output_tokens=avg_output_tokens
    )
    batch = requests * batch_cost(
        prices, input_tokens=avg_input_tokens, output_tokens=avg_output_tokens
    )
    cached = None
    prefix = _dec(shared_prefix_tokens)
    cacheable = min_cache_tokens is not None and prefix > 0 and prefix >= min_cache_tokens
    if prices.has_cache and cacheable:
        per_request = call_cost(
            prices,
            input_tokens=_dec(avg_input_tokens) - prefix,
            output_tokens=avg_output_tokens,
            cache_read_tokens=prefix * cache_hit_rate,
            cache_write_tokens=prefix * (1 - cache_hit_rate),
        )
        cached = requests * per_request
    return MonthlyProjection(on_demand=on_demand, batch=batch, cached=cached)


def runway_months(credits: Decimal, monthly_cost: Decimal | None) -> Decimal | None:
    """How many months the credits pay for; None when the cost is zero or unknown (no limit)."""
    if credits < 0:
        raise ValueError("credits cannot be negative")
    if monthly_cost is None or monthly_cost <= 0:
        return None
    return credits / monthly_cost


def approx_tokens(text: str) -> int:
    """A rough token count for a pre-launch estimate (characters / 4, rounded up)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_run_cost(
    prices: Prices,
    *,
    cases: int,
    avg_input_tokens: int | Decimal,
    max_output_tokens: int,
    expected_output_tokens: int | Decimal | None = None,
) -> RunEstimate:
    """Pre-launch estimate for one model over ``cases`` cases.

    The upper bound assumes every reply uses ``max_output_tokens``; the expected figure uses
    ``expected_output_tokens`` (default: half of the maximum, rounded up).
    """
    if expected_output_tokens is None:
        half = Decimal(max_output_tokens) * DEFAULT_EXPECTED_OUTPUT_SHARE
        expected_output_tokens = half.to_integral_value(rounding=ROUND_CEILING)
    count = Decimal(cases)
    upper = count * call_cost(prices, input_tokens=avg_input_tokens, output_tokens=max_output_tokens)
    expected = count * call_cost(
        prices, input_tokens=avg_input_tokens, output_tokens=expected_output_tokens
    )
    return RunEstimate(upper_bound=upper, expected=expected)


def usd_display(amount: Decimal | None) -> str | None:
    """Round a dollar amount to $0.000001 (half up) as a string, for display and reports only."""
    if amount is None:
        return None
    return str(amount.quantize(USD_DISPLAY_QUANTUM, rounding=ROUND_HALF_UP))


def months_display(months: Decimal | None) -> str | None:
    """Round months of runway to 0.01 (half up) as a string, for display and reports only."""
    if months is None:
        return None
    return str(months.quantize(MONTHS_DISPLAY_QUANTUM, rounding=ROUND_HALF_UP))
