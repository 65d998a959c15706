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
- Pre-launch estimate (``estimate_run_cost``): a range. The typical figure prices each reply at
  the output length the eval set's expected answers imply (``typical_output_tokens``); the
  maximum prices every reply at ``max_tokens``. Token counts come from ``approx_tokens`` (the one
  character-based count the estimate, the run's quota accounting and the sandbox share) scaled by
  a per-family ratio (``FAMILY_TOKEN_RATIO``), unless CountTokens gave the real input count.
- Runway with expiry (``runway_counting_expiry``): credits come in tranches, each valid for some
  months; AWS spends the credit that expires soonest first, and what is left at expiry is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PER_TOKENS = Decimal(1_000_000)
USD_DISPLAY_QUANTUM = Decimal("0.000001")
MONTHS_DISPLAY_QUANTUM = Decimal("0.01")
# Rough size of a token in characters of English text (the sandbox's tokenizer, exactly).
CHARS_PER_TOKEN = 4
# Tokens per approx_tokens() token, per model family, for estimates where CountTokens is not used:
# Anthropic's tokenizer cuts English at about 3.5 characters a token (so ~1.15 of chars/4); Llama 3's
# 128K-entry tokenizer at about 4 (1.0). Unknown families count as 1.
FAMILY_TOKEN_RATIO = {"claude": Decimal("1.15"), "llama": Decimal("1.00")}
# Scorers whose `expected` is the answer itself (or a reference answer), so its length is the
# length of a typical reply. A regex's `expected` is a pattern, close enough in length.
ANSWER_SCORERS = frozenset({"exact", "contains", "numeric", "label", "regex", "llm_judge"})
# Reply length assumed for a case whose expected answer says nothing about it (a JSON schema, an
# empty expected) when no case of the set does either.
DEFAULT_TYPICAL_OUTPUT_TOKENS = 200


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
    expected: Decimal  # typical: replies use expected_output_tokens


@dataclass(frozen=True)
class CreditTranche:
    """Credits from one pool: the amount and how many months they stay valid (None: not known)."""

    amount_usd: Decimal
    validity_months: int | None = None


@dataclass(frozen=True)
class Runway:
    """How long credits pay for a monthly cost, counting expiry.

    ``months``: months until the credits are spent or have expired (None with a zero or unknown
    cost); ``validity_months``: the longest validity among the tranches (None when any is not
    known); ``covers_validity``: the spend never exhausts them before they expire (None when the
    validity is not known)."""

    months: Decimal | None
    validity_months: int | None
    covers_validity: bool | None


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


@dataclass(frozen=True)
class Workload:
    """The founder's stated workload: requests a month and average tokens per request."""

    monthly_requests: int
    avg_input_tokens: int | Decimal | None = None  # None: use the measured mean
    avg_output_tokens: int | Decimal | None = None
    shared_prefix_tokens: int = 0


def workload_projection(
    prices: Prices,
    workload: Workload,
    *,
    measured_input_tokens: int | Decimal | None = None,
    measured_output_tokens: int | Decimal | None = None,
    min_cache_tokens: int | None = None,
    cache_hit_rate: Decimal = Decimal("1"),
) -> MonthlyProjection | None:
    """The one monthly projection: the workload × the prices of the id actually invoked (pass the
    effective prices: a us. profile at its factor, a global. profile at list). The report's monthly
    figures, the founder's page and the ACE opportunity's expected monthly spend all come from here.
    Token sizes the workload leaves out are the measured means (None when those are unknown too);
    the shared prefix is capped at the average input."""
    avg_in = workload.avg_input_tokens if workload.avg_input_tokens is not None else measured_input_tokens
    avg_out = workload.avg_output_tokens if workload.avg_output_tokens is not None else measured_output_tokens
    if avg_in is None or avg_out is None:
        return None
    return monthly_projection(
        prices,
        monthly_requests=workload.monthly_requests,
        avg_input_tokens=avg_in,
        avg_output_tokens=avg_out,
        shared_prefix_tokens=min(_dec(workload.shared_prefix_tokens), _dec(avg_in)),
        cache_hit_rate=cache_hit_rate,
        min_cache_tokens=min_cache_tokens,
    )


def runway_months(credits: Decimal, monthly_cost: Decimal | None) -> Decimal | None:
    """How many months the credits pay for; None when the cost is zero or unknown (no limit)."""
    if credits < 0:
        raise ValueError("credits cannot be negative")
    if monthly_cost is None or monthly_cost <= 0:
        return None
    return credits / monthly_cost


def credits_validity_months(tranches: list[CreditTranche]) -> int | None:
    """The longest validity among the tranches; None when there are none or any is not known."""
    known = [t.validity_months for t in tranches if t.validity_months is not None]
    return max(known) if tranches and len(known) == len(tranches) else None


def runway_counting_expiry(tranches: list[CreditTranche], monthly_cost: Decimal | None) -> Runway:
    """Months the credits pay for when each tranche expires after its validity: spend draws the
    soonest-expiring tranche first (as AWS applies credits), and a tranche's remainder is lost at
    its expiry. Tranches without a validity never expire here, and make the validity unknown."""
    if any(t.amount_usd < 0 for t in tranches):
        raise ValueError("credits cannot be negative")
    validity = credits_validity_months(tranches)
    if monthly_cost is None or monthly_cost <= 0:
        return Runway(months=None, validity_months=validity,
                      covers_validity=None if validity is None or monthly_cost is None else True)
    elapsed = Decimal(0)
    for tranche in sorted(tranches, key=lambda t: (t.validity_months is None, t.validity_months or 0)):
        lasts = tranche.amount_usd / monthly_cost
        if tranche.validity_months is None:
            elapsed += lasts
        elif elapsed < tranche.validity_months:
            elapsed = min(elapsed + lasts, Decimal(tranche.validity_months))
    covers = None if validity is None else elapsed >= validity
    return Runway(months=elapsed, validity_months=validity, covers_validity=covers)


def approx_tokens(text: str) -> int:
    """The one character-based token count (characters / 4, rounded up): pre-launch estimates,
    the run's tokens-per-minute accounting and the local sandbox's usage all use it."""
    return -(-len(text) // CHARS_PER_TOKEN)


def family_tokens(tokens: int | Decimal, family: str) -> Decimal:
    """approx_tokens() scaled to a model family's tokenizer."""
    return _dec(tokens) * FAMILY_TOKEN_RATIO.get(family, Decimal(1))


def typical_output_tokens(cases: list[tuple[str, str]], *, max_output_tokens: int) -> Decimal:
    """Mean reply length (approx tokens) the eval set's expected answers imply, each capped at
    max_output_tokens. ``cases`` are (scorer, expected). A case whose expected says nothing about
    the reply's length counts at the mean of those that do, or DEFAULT_TYPICAL_OUTPUT_TOKENS."""
    if not cases:
        return Decimal(0)
    known = [min(approx_tokens(expected), max_output_tokens)
             for scorer, expected in cases if scorer in ANSWER_SCORERS and expected.strip()]
    fallback = (Decimal(sum(known)) / len(known) if known
                else Decimal(min(DEFAULT_TYPICAL_OUTPUT_TOKENS, max_output_tokens)))
    total = Decimal(sum(known)) + fallback * (len(cases) - len(known))
    return total / len(cases)


def estimate_run_cost(
    prices: Prices,
    *,
    cases: int,
    avg_input_tokens: int | Decimal,
    max_output_tokens: int,
    expected_output_tokens: int | Decimal,
) -> RunEstimate:
    """Pre-launch estimate for one model over ``cases`` cases: typical (replies of
    ``expected_output_tokens``, see ``typical_output_tokens``) and the upper bound (every reply
    uses ``max_output_tokens``)."""
    expected_output_tokens = min(_dec(expected_output_tokens), Decimal(max_output_tokens))
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
