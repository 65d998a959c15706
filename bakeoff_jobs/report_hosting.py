"""The report's figures for self-hosted and Bedrock custom models: how each is billed, its measured
throughput, and the one monthly projection of any model (tokens or hours) that the report, the
founder's page and the ACE opportunity share.

A report model's ``hosting`` key (null for a Bedrock foundation model):
  ``kind``            "self_hosted" or "custom".
  ``billing``         "gpu_hours" (self-hosted GPUs), "provisioned" (Provisioned Throughput model
                      units), "model_copies" (an imported model's Custom Model Units while a copy is
                      active) or "tokens" (a custom model's on-demand deployment, per token).
  ``where``           "ec2" (GPUs in the startup's AWS account), "outside_aws", or "bedrock".
  ``credits_pay``     whether AWS credits pay this model's bill (not for GPUs outside AWS).
  ``gpu_type``        as registered ("" for custom models).
  ``units``, ``unit_hour_price_usd``, ``hour_price_usd``  GPUs (or model units) of one deployment,
                      USD per unit-hour and per deployment-hour; null when billed per token.
  ``concurrency``     calls the run kept in flight on it (its frozen max concurrency).
  ``busy_seconds``, ``output_tokens_per_second``  measured (``hosting_costs``), strings rounded to
                      0.01; null when billed per token or nothing was timed.
  ``training_cost_usd``, ``amortisation_months``, ``commitment_months``  as frozen at launch.
  ``monthly``         null without a workload or a throughput, else {"always_on_usd",
                      "at_utilisation_usd", "utilisation" (0..1, 4 places), "replicas",
                      "units_needed" (GPUs or units), "needed_tokens_per_second",
                      "amortised_training_usd", "commitment_total_usd" (null without a commitment),
                      "capacity_short"}. For a per-token custom model only "amortised_training_usd"
                      is set (the rest null).

For a model billed by the hour, the model's ``monthly_usd.on_demand`` is the always-on figure (what the
capacity costs when it is kept up, amortised training included), ``batch`` and ``cached`` are null;
its runway figures are null when credits do not pay for it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from .costs import MonthlyProjection, Prices, Workload, usd_display, workload_projection
from .hosting_costs import (
    CapacityProjection,
    HourlyCapacity,
    amortised,
    capacity_projection,
    measure,
    rate_display,
    utilisation_display,
)


@dataclass(frozen=True)
class Hosting:
    """How a self-hosted or custom model is billed, as the run froze it."""

    kind: str
    billing: str
    where: str
    capacity: HourlyCapacity | None = None  # None: billed per token
    gpu_type: str = ""
    training_cost: Decimal = Decimal(0)
    amortisation_months: int | None = None

    @property
    def credits_pay(self) -> bool:
        return self.where != "outside_aws"

    @property
    def training_monthly(self) -> Decimal:
        return amortised(self.training_cost, self.amortisation_months)


def hosting_of(*, kind: str, max_concurrency: int, gpu_type: str = "", gpu_count: int | None = None,
               gpu_hour_price: Decimal | None = None, hosting: str = "", custom_pricing: str = "",
               model_units: int | None = None, model_unit_hour_price: Decimal | None = None,
               commitment_months: int | None = None, training_cost_usd: Decimal | None = None,
               amortisation_months: int | None = None) -> Hosting | None:
    """A RunModel's frozen fields as a Hosting (None for a Bedrock foundation model)."""
    concurrency = max(1, max_concurrency or 1)
    if kind == "self_hosted":
        capacity = (HourlyCapacity(units=gpu_count, unit_hour_price=gpu_hour_price, concurrency=concurrency)
                    if gpu_count and gpu_hour_price is not None else None)
        return Hosting(kind=kind, billing="gpu_hours", where=hosting or "outside_aws", capacity=capacity,
                       gpu_type=gpu_type)
    if kind != "custom":
        return None
    billing, capacity = "tokens", None
    if model_units and model_unit_hour_price is not None:
        provisioned = custom_pricing == "provisioned"
        billing = "provisioned" if provisioned else "model_copies"
        capacity = HourlyCapacity(units=model_units, unit_hour_price=model_unit_hour_price, concurrency=concurrency,
                                  scales=not provisioned, commitment_months=(commitment_months or 0) if provisioned else 0)
    return Hosting(kind=kind, billing=billing, where="bedrock", capacity=capacity,
                   training_cost=training_cost_usd or Decimal(0), amortisation_months=amortisation_months)


@dataclass(frozen=True)
class Usage:
    """What a model's calls in the run add up to."""

    attempted: int = 0
    prompt_tokens: int = 0  # input + cache read + cache write
    output_tokens: int = 0
    call_ms: int = 0  # wall time of every call (else the model's latency)


def model_monthly(prices: Prices, hosting: Hosting | None, workload: Workload | None, usage: Usage, *,
                  min_cache_tokens: int | None = None, cache_hit_rate: Decimal = Decimal("1"),
                  ) -> tuple[MonthlyProjection | None, CapacityProjection | None]:
    """The one monthly projection of a model at the founder's workload: per token
    (``costs.workload_projection``), or for capacity billed by the hour from the measured throughput
    (``hosting_costs.capacity_projection``); amortised training added. Token sizes the workload
    leaves out are the measured means."""
    if workload is None:
        return None, None
    attempted = usage.attempted
    mean_in = Decimal(usage.prompt_tokens) / attempted if attempted else None
    mean_out = Decimal(usage.output_tokens) / attempted if attempted else None
    if hosting is None or hosting.capacity is None:
        tokens = workload_projection(prices, workload, measured_input_tokens=mean_in, measured_output_tokens=mean_out,
                                     min_cache_tokens=min_cache_tokens, cache_hit_rate=cache_hit_rate)
        if tokens is None or hosting is None:
            return tokens, None
        extra = hosting.training_monthly
        return MonthlyProjection(on_demand=tokens.on_demand + extra, batch=None, cached=None), None
    avg_out = workload.avg_output_tokens if workload.avg_output_tokens is not None else mean_out
    throughput = measure([(usage.output_tokens, usage.call_ms)], concurrency=hosting.capacity.concurrency)
    if avg_out is None or throughput.tokens_per_second is None:
        return None, None
    projection = capacity_projection(hosting.capacity, monthly_requests=workload.monthly_requests,
                                     avg_output_tokens=avg_out, tokens_per_second=throughput.tokens_per_second,
                                     training_monthly=hosting.training_monthly)
    return MonthlyProjection(on_demand=projection.always_on, batch=None, cached=None), projection


def volume_costs(specs: dict, workload: Workload | None, monthly: dict, usages: dict[str, Usage]):
    """With a model billed by the hour in the comparison: every model's cost per request at the founder's
    volume (its month / monthly requests; hours kept up cost the same busy or idle), which the report
    ranks models by instead of the run's cost; and a model's month at a share of the founder's traffic
    (for the router: per token that share of its month; by the hour the GPUs or units that share needs,
    a fixed Provisioned Throughput in full). ``specs``: report ModelSpecs by key."""
    hourly = {key for key, model in specs.items() if model.hosting is not None and model.hosting.capacity is not None}
    at_volume = {key: projection.on_demand / workload.monthly_requests for key, projection in monthly.items()
                 if projection is not None and workload and workload.monthly_requests
                 and any(monthly.get(h) is not None for h in hourly)}

    def monthly_at_share(key: str, share: Decimal) -> Decimal | None:
        if key not in hourly:
            return monthly[key].on_demand * share
        model = specs[key]
        part = dataclasses.replace(workload, monthly_requests=workload.monthly_requests * share)
        projection, _ = model_monthly(model.prices, model.hosting, part, usages[key])
        return None if projection is None else projection.on_demand

    return at_volume, monthly_at_share


def hosting_entry(hosting: Hosting | None, usage: Usage, monthly: MonthlyProjection | None,
                  capacity: CapacityProjection | None) -> dict | None:
    """The report's ``hosting`` key of one model (see the module docstring)."""
    if hosting is None:
        return None
    cap = hosting.capacity
    measured = measure([(usage.output_tokens, usage.call_ms)], concurrency=cap.concurrency) if cap else None
    timed = measured is not None and measured.call_seconds > 0
    return {
        "kind": hosting.kind,
        "billing": hosting.billing,
        "where": hosting.where,
        "credits_pay": hosting.credits_pay,
        "gpu_type": hosting.gpu_type,
        "units": cap.units if cap else None,
        "unit_hour_price_usd": usd_display(cap.unit_hour_price) if cap else None,
        "hour_price_usd": usd_display(cap.hour_price) if cap else None,
        "concurrency": cap.concurrency if cap else None,
        "busy_seconds": rate_display(measured.busy_seconds) if timed else None,
        "output_tokens_per_second": rate_display(measured.tokens_per_second) if timed else None,
        "training_cost_usd": usd_display(hosting.training_cost) if hosting.training_cost else None,
        "amortisation_months": hosting.amortisation_months if hosting.training_cost else None,
        "commitment_months": cap.commitment_months if cap else 0,
        "monthly": None if monthly is None else _monthly_entry(hosting, capacity),
    }


def _monthly_entry(hosting: Hosting, capacity: CapacityProjection | None) -> dict | None:
    if capacity is None:  # billed per token: only the amortised training is its own
        return {"always_on_usd": None, "at_utilisation_usd": None, "utilisation": None, "replicas": None,
                "units_needed": None, "needed_tokens_per_second": None,
                "amortised_training_usd": usd_display(hosting.training_monthly), "commitment_total_usd": None,
                "capacity_short": False}
    return {
        "always_on_usd": usd_display(capacity.always_on),
        "at_utilisation_usd": usd_display(capacity.at_utilisation),
        "utilisation": utilisation_display(capacity.utilisation),
        "replicas": capacity.replicas,
        "units_needed": capacity.units_needed,
        "needed_tokens_per_second": rate_display(capacity.needed_tokens_per_second),
        "amortised_training_usd": usd_display(capacity.amortised_training),
        "commitment_total_usd": usd_display(capacity.commitment_total),
        "capacity_short": capacity.capacity_short,
    }
