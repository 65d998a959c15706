"""What a bake-off will cost before it is launched: the models chosen (with the id each is called
through), their prices, and the estimate as a range (typical and maximum), on demand or as batch
jobs; and why a set of models cannot run as batch jobs."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from . import converse as bedrock
from . import costs
from .converse import is_local_endpoint
from .catalog_models import CatalogKind, CatalogModel
from .models import EvalSet, RunModel

log = logging.getLogger(__name__)


def run_model_prices(run_model: RunModel) -> costs.Prices:
    return costs.Prices(
        input_per_1m=run_model.input_per_1m,
        output_per_1m=run_model.output_per_1m,
        cache_read_per_1m=run_model.cache_read_per_1m,
        cache_write_per_1m=run_model.cache_write_per_1m,
        batch_discount=run_model.batch_discount,
    )


def catalog_prices(model: "CatalogModel | ModelChoice") -> costs.Prices:
    choice = as_choice(model)
    return costs.Prices(batch_discount=choice.model.batch_discount, **choice.prices())


@dataclass(frozen=True)
class ModelChoice:
    """A catalog model and the id a run will call it through (its default id or a global. profile)."""

    model: CatalogModel
    invoked_id: str

    @property
    def pk(self) -> int:
        return self.model.pk

    @property
    def model_id(self) -> str:
        return self.model.model_id

    @property
    def name(self) -> str:
        return self.model.name

    def prices(self) -> dict[str, Decimal | None]:
        return self.model.invoked_prices(self.invoked_id)


def as_choice(item: "CatalogModel | ModelChoice") -> ModelChoice:
    return item if isinstance(item, ModelChoice) else ModelChoice(item, item.invoked_id)


@dataclass(frozen=True)
class ModelEstimate:
    model_id: str
    invoked_id: str
    expected_usd: Decimal  # typical: replies as long as the expected answers
    upper_bound_usd: Decimal  # every reply at max_tokens
    input_tokens_counted: bool = False  # input tokens from CountTokens, not the per-family ratio
    piloted: bool = False  # answer length (and input tokens) measured on a pilot of real calls
    self_hosted: bool = False  # no token prices: its GPUs are priced from the throughput the run measures
    # A custom entry billed by capacity, not per token: "provisioned" (Provisioned Throughput model
    # units, every hour bought, called or not) or "model_copies" (an imported model's Custom Model
    # Units, per minute while a copy is active); its price an hour. Its token figures are 0.
    capacity_billing: str = ""
    capacity_hour_usd: Decimal | None = None
    capacity_units: int | None = None

    @property
    def capacity_note(self) -> str:
        """How the entry bills, in words, for the launch page and the command's estimate line."""
        if not self.capacity_billing:
            return ""
        units = f"{self.capacity_units} model unit{'s' if self.capacity_units != 1 else ''}"
        if self.capacity_billing == "provisioned":
            return (f"Provisioned Throughput: ${self.capacity_hour_usd:,.2f} an hour ({units}), billed for every "
                    "hour bought whether called or not; no per-token price")
        return (f"imported model: ${self.capacity_hour_usd:,.2f} an hour per active copy ({units}), billed per "
                "minute in 5-minute windows while a copy is active; no per-token price")


def capacity_pricing(model: CatalogModel) -> tuple[str, Decimal, int] | None:
    """(billing, USD an hour, units) of a custom entry billed by capacity rather than per token: a
    Provisioned Throughput (https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html)
    or an imported model on demand, billed per Custom Model Unit while a copy is active
    (https://docs.aws.amazon.com/bedrock/latest/userguide/import-model-calculate-cost.html). None for
    an entry priced per token (a foundation model, a fine-tuned model on demand)."""
    from .hosting import CustomModel, CustomPricing

    if model.kind != CatalogKind.CUSTOM:
        return None
    custom = CustomModel.objects.filter(catalog_model=model).first()
    if custom is None or not custom.model_units or custom.model_unit_hour_price is None:
        return None
    if custom.pricing == CustomPricing.PROVISIONED:
        billing = "provisioned"
    elif custom.source == CustomModel.Source.IMPORTED:
        billing = "model_copies"
    else:
        return None
    return billing, (custom.model_unit_hour_price * custom.model_units).quantize(Decimal("0.01")), custom.model_units


@dataclass(frozen=True)
class RunCostEstimate:
    cases: int
    models: list[ModelEstimate]
    expected_usd: Decimal
    upper_bound_usd: Decimal
    sandbox: bool = False  # the run will call the local sandbox: it bills $0

    @property
    def capacity_models(self) -> list[ModelEstimate]:
        """The models billed by capacity (by the hour), which the token totals leave out."""
        return [m for m in self.models if m.capacity_billing]

    @property
    def billed_usd(self) -> Decimal | None:
        """What AWS will bill: $0 on the sandbox, else not known before the run."""
        return Decimal(0) if self.sandbox else None


# CountTokens is asked about this many cases per model; their measured/approx ratio scales the rest.
COUNT_TOKENS_SAMPLE = 20


def _counted_input_ratio(model: ModelChoice, texts: list[tuple[str, str]], endpoint_url: str | None) -> Decimal | None:
    """Real input tokens / approx_tokens over a sample of cases, from Bedrock's CountTokens, which
    takes the bare foundation-model id (never a profile id) of the Claude models that support it;
    None when the model or endpoint cannot answer."""
    if model.model.family != "claude" or not texts:
        return None
    client = bedrock.make_client(endpoint_url=endpoint_url)
    counted = approx = 0
    try:
        for prompt, system in texts[:COUNT_TOKENS_SAMPLE]:
            counted += bedrock.count_tokens(client, model_id=model.model_id, prompt=prompt, system_prompt=system or "")
            approx += costs.approx_tokens((system or "") + prompt)
    except (bedrock.ConverseError, KeyError, ValueError) as exc:
        log.info("CountTokens unavailable for %s (%s); using the family ratio", model.invoked_id, exc)
        return None
    return Decimal(counted) / approx if approx else None


@dataclass(frozen=True)
class _Pilot:
    input_ratio: Decimal  # billed input tokens / approx_tokens of the prompts
    mean_output_tokens: Decimal


def _pilot(model: ModelChoice, rows: list[tuple[str, str]], endpoint_url: str | None, *,
           max_tokens: int, temperature: float) -> _Pilot | None:
    """Call the model for real on the first cases (billed like any call) and measure its answers'
    length and its billed input; None when a call fails."""
    if not rows:
        return None
    client = bedrock.make_client(endpoint_url=endpoint_url)
    billed_input = approx = output = 0
    try:
        for prompt, system in rows:
            reply = bedrock.converse(client, model_id=model.invoked_id, prompt=prompt, system_prompt=system,
                                     max_tokens=max_tokens, temperature=temperature)
            billed_input += reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
            approx += costs.approx_tokens(system + prompt)
            output += reply.output_tokens
    except bedrock.ConverseError as exc:
        log.info("pilot on %s failed (%s); estimating from the expected answers", model.invoked_id, exc)
        return None
    return _Pilot(Decimal(billed_input) / approx if approx else Decimal(1), Decimal(output) / len(rows))


def bakeoff_estimate(*, eval_set: EvalSet, models: Sequence[CatalogModel | ModelChoice],
                     max_tokens: int, endpoint_url: str | None = None,
                     count_tokens: bool = False, pilot_cases: int = 0,
                     temperature: Decimal | float = 0) -> RunCostEstimate:
    """What the run will cost before it is launched, as a range: typical (replies as long as the
    eval set's expected answers) and the maximum (every reply at max_tokens). Input tokens are
    approx_tokens() scaled by the model family's ratio, or, with count_tokens, by the ratio
    CountTokens measures on a sample of the cases (where the model supports it). With pilot_cases,
    each model first answers that many cases for real: its measured answer length and billed input
    replace the expected answers and the ratios (the pilot's own calls are billed, and not counted)."""
    rows = list(eval_set.cases.values_list("prompt", "system_prompt", "scorer", "expected"))
    cases = len(rows)
    texts = [(prompt, system or "") for prompt, system, _, _ in rows]
    approx_input = (
        Decimal(sum(costs.approx_tokens(system + prompt) for prompt, system in texts)) / cases
        if cases else Decimal(0)
    )
    approx_output = costs.typical_output_tokens(
        [(scorer, expected or "") for _, _, scorer, expected in rows], max_output_tokens=max_tokens
    )
    if endpoint_url is None:
        endpoint_url = settings.BEDROCK_ENDPOINT_URL or ""
    per_model = []
    for model in map(as_choice, models):
        family = model.model.family
        self_hosted = model.model.kind == CatalogKind.SELF_HOSTED  # token prices 0: priced from throughput
        capacity = capacity_pricing(model.model)
        if capacity is not None:  # billed by the hour, not per token: nothing to count or pilot
            billing, hour_usd, units = capacity
            per_model.append(ModelEstimate(model.model_id, model.invoked_id, Decimal(0), Decimal(0),
                                           capacity_billing=billing, capacity_hour_usd=hour_usd,
                                           capacity_units=units))
            continue
        pilot = (_pilot(model, texts[:pilot_cases], endpoint_url or None, max_tokens=max_tokens,
                        temperature=float(temperature)) if pilot_cases > 0 and not self_hosted else None)
        measured = _counted_input_ratio(model, texts, endpoint_url or None) if count_tokens else None
        if measured is None and pilot is not None:
            measured = pilot.input_ratio
        avg_input = approx_input * measured if measured is not None else costs.family_tokens(approx_input, family)
        typical_output = pilot.mean_output_tokens if pilot is not None else costs.family_tokens(approx_output, family)
        est = costs.estimate_run_cost(
            catalog_prices(model), cases=cases, avg_input_tokens=avg_input, max_output_tokens=max_tokens,
            expected_output_tokens=typical_output,
        )
        per_model.append(ModelEstimate(model.model_id, model.invoked_id, est.expected, est.upper_bound,
                                       input_tokens_counted=measured is not None, piloted=pilot is not None,
                                       self_hosted=self_hosted))
    return RunCostEstimate(
        cases=cases,
        models=per_model,
        expected_usd=sum((m.expected_usd for m in per_model), Decimal(0)),
        upper_bound_usd=sum((m.upper_bound_usd for m in per_model), Decimal(0)),
        sandbox=is_local_endpoint(endpoint_url),
    )



def batch_refusal(*, models: Sequence[CatalogModel | ModelChoice], case_count: int) -> str | None:
    """Why these models and this many cases cannot run as Bedrock batch jobs (None: they can)."""
    # A self-hosted endpoint has no batch jobs, and a custom model's capacity is billed by the hour (or
    # its deployment per token on demand): batch bake-offs take Bedrock foundation models only.
    self_hosted = [as_choice(m).name for m in models if as_choice(m).model.kind == CatalogKind.SELF_HOSTED]
    if self_hosted:
        return (f"{', '.join(self_hosted)} {'is' if len(self_hosted) == 1 else 'are'} self-hosted: batch jobs run "
                "only on Bedrock. Run this bake-off on demand.")
    custom = [as_choice(m).name for m in models if as_choice(m).model.kind != CatalogKind.BEDROCK]
    if custom:
        return f"Batch bake-offs take Bedrock foundation models only, not {', '.join(custom)}."
    no_batch = [as_choice(m).name for m in models if not as_choice(m).model.batch_supported]
    if no_batch:
        return f"Bedrock offers no batch inference for {', '.join(no_batch)}."
    minimum = settings.BAKEOFF_BATCH_MIN_RECORDS
    if case_count < minimum:
        return (f"A Bedrock batch job needs at least {minimum} records (AWS quota); "
                f"this eval set has {case_count} cases.")
    return None


def batch_estimate_usd(estimate: RunCostEstimate, models: Sequence[CatalogModel | ModelChoice], *,
                       worst_case: bool = False) -> Decimal:
    """The cost of a batch run: each model's estimate (typical, or at most) at its batch discount."""
    discounts = {as_choice(m).invoked_id: as_choice(m).model.batch_discount for m in models}
    return sum(((m.upper_bound_usd if worst_case else m.expected_usd) * (1 - discounts[m.invoked_id])
                for m in estimate.models), Decimal(0))
