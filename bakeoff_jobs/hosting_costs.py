"""Costs of capacity billed by the hour: a self-hosted model's GPUs, a Bedrock custom model's units.

A token-priced model costs what its tokens cost (``costs``). A model on capacity billed by the hour
costs the hours, so its cost comes from how fast the run measured it to be. Rules written down once:

- Busy time at concurrency ``c``: the run kept up to ``c`` calls in flight on one deployment, so
  the deployment's busy wall time is ``Σ call seconds / c`` (a call's seconds are the round trip
  the worker saw, ``wall_ms``, else the model's ``latency_ms``). A call that failed counts: the
  GPUs were busy with it all the same.
- Measured throughput: ``output tokens per second = Σ output tokens / busy seconds``
  (``= c × Σ output tokens / Σ call seconds``).
- A task's share of the hours: ``call seconds / c``; its cost is
  ``units × unit-hour price × call seconds / c / 3600`` (units: GPUs of the deployment, model units of
  a Provisioned Throughput, Custom Model Units of an imported model's copy). The run's cost is the
  sum, i.e. ``units × price × busy hours``.
- Monthly, at the founder's workload of ``R`` requests of ``O`` output tokens a month (a month is 730
  hours, as AWS's pricing pages count it): the workload needs ``R × O / (730 × 3600)`` output tokens a
  second on average. A deployment that scales (self-hosted GPUs, an imported model's copies) needs
  ``replicas = ceil(needed / measured throughput)`` (at least 1), each of ``units`` GPUs or units:
    - always on: ``replicas × units × price × 730``;
    - at measured utilisation: only the hours the workload keeps them busy,
      ``R × O / throughput / 3600 × units × price``; utilisation is busy hours / (replicas × 730).
  Provisioned Throughput is fixed: the units bought bill every hour (``units × price × 730`` both
  ways), and ``capacity_short`` says when the workload needs more than they measured.
- A one-off training (or import) cost is amortised: ``training cost / amortisation months`` is added
  to every monthly figure.
- A commitment (1 or 6 months of Provisioned Throughput) is stated as the capacity's monthly figure
  (training aside) times the months, owed whatever the traffic.
- Rounding: every function returns exact ``Decimal`` values (28 significant digits); nothing is
  rounded until display (``costs.usd_display``: $0.000001 half up; ``rate_display``: 0.01 half up).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)
SECONDS_PER_HOUR = Decimal(3600)
RATE_DISPLAY_QUANTUM = Decimal("0.01")
UTILISATION_DISPLAY_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class HourlyCapacity:
    """Capacity billed by the hour, as a run froze it.

    ``units`` per deployment (GPUs, model units or Custom Model Units) at ``unit_hour_price`` USD each;
    ``concurrency`` calls the run kept in flight on it; ``scales``: more deployments can be added for
    the workload (False: a fixed Provisioned Throughput); ``commitment_months`` 0, 1 or 6."""

    units: int
    unit_hour_price: Decimal
    concurrency: int
    scales: bool = True
    commitment_months: int = 0

    def __post_init__(self) -> None:
        if self.units < 1 or self.concurrency < 1:
            raise ValueError("units and concurrency must be at least 1")
        if self.unit_hour_price < 0:
            raise ValueError("the hourly price cannot be negative")

    @property
    def hour_price(self) -> Decimal:
        """USD an hour for one deployment (all its units)."""
        return self.units * self.unit_hour_price


@dataclass(frozen=True)
class Measured:
    """What the run measured on one model: output tokens and call seconds, summed over its calls."""

    output_tokens: int
    call_seconds: Decimal
    concurrency: int

    @property
    def busy_seconds(self) -> Decimal:
        return self.call_seconds / self.concurrency

    @property
    def tokens_per_second(self) -> Decimal | None:
        """Output tokens a second of one deployment at the run's concurrency; None without time."""
        busy = self.busy_seconds
        return Decimal(self.output_tokens) / busy if busy > 0 else None


def measure(rows: Iterable[tuple[int, int | None]], *, concurrency: int) -> Measured:
    """``rows``: (output tokens, call milliseconds or None) of every call of the model."""
    tokens, millis = 0, 0
    for output_tokens, ms in rows:
        tokens += output_tokens or 0
        millis += ms or 0
    return Measured(output_tokens=tokens, call_seconds=Decimal(millis) / 1000, concurrency=concurrency)


def call_hours_cost(capacity: HourlyCapacity, *, call_ms: int | None) -> Decimal:
    """One task's share of the hours: units × price × (call seconds / concurrency) / 3600."""
    seconds = Decimal(call_ms or 0) / 1000
    return capacity.hour_price * seconds / capacity.concurrency / SECONDS_PER_HOUR


@dataclass(frozen=True)
class CapacityProjection:
    """The founder's workload on hourly capacity, per month (USD), amortised training included."""

    needed_tokens_per_second: Decimal
    replicas: int
    units_needed: int
    busy_hours: Decimal  # deployment-hours the workload keeps busy at the measured throughput
    utilisation: Decimal  # busy hours / hours paid always on (capped at 1)
    always_on: Decimal
    at_utilisation: Decimal
    amortised_training: Decimal
    # the capacity's monthly cost × commitment months, training aside (None: no commitment)
    commitment_total: Decimal | None
    capacity_short: bool  # a fixed deployment measured slower than the workload needs


def amortised(training_cost: Decimal | None, months: int | None) -> Decimal:
    """A one-off cost spread evenly over ``months`` (0 without a cost)."""
    if not training_cost:
        return Decimal(0)
    if not months or months < 1:
        raise ValueError("amortisation needs at least one month")
    return Decimal(training_cost) / months


def capacity_projection(capacity: HourlyCapacity, *, monthly_requests: int, avg_output_tokens: Decimal | int,
                        tokens_per_second: Decimal, training_monthly: Decimal = Decimal(0)) -> CapacityProjection:
    """The formulas of the module docstring, for one model's measured throughput."""
    if tokens_per_second <= 0:
        raise ValueError("a measured throughput is needed")
    monthly_tokens = Decimal(monthly_requests) * Decimal(avg_output_tokens)
    needed = monthly_tokens / (HOURS_PER_MONTH * SECONDS_PER_HOUR)
    busy_hours = monthly_tokens / tokens_per_second / SECONDS_PER_HOUR
    if capacity.scales:
        replicas = max(1, int((needed / tokens_per_second).to_integral_value(rounding=ROUND_CEILING)))
        always_on = replicas * capacity.hour_price * HOURS_PER_MONTH
        at_utilisation = busy_hours * capacity.hour_price
        short = False
    else:
        replicas = 1
        always_on = at_utilisation = capacity.hour_price * HOURS_PER_MONTH
        short = needed > tokens_per_second
    utilisation = min(Decimal(1), busy_hours / (replicas * HOURS_PER_MONTH))
    commitment = always_on * capacity.commitment_months if capacity.commitment_months else None
    return CapacityProjection(
        needed_tokens_per_second=needed, replicas=replicas, units_needed=replicas * capacity.units,
        busy_hours=busy_hours, utilisation=utilisation, always_on=always_on + training_monthly,
        at_utilisation=at_utilisation + training_monthly, amortised_training=training_monthly,
        commitment_total=commitment, capacity_short=short,
    )


def rate_display(value: Decimal | None) -> str | None:
    """Tokens a second rounded to 0.01 (half up), for display and reports only."""
    return None if value is None else str(value.quantize(RATE_DISPLAY_QUANTUM, rounding=ROUND_HALF_UP))


def utilisation_display(value: Decimal | None) -> str | None:
    """A fraction 0..1 rounded to 0.0001 (half up), for display and reports only."""
    return None if value is None else str(value.quantize(UTILISATION_DISPLAY_QUANTUM, rounding=ROUND_HALF_UP))
