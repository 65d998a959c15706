"""A self-hosted or Provisioned Throughput candidate in the report and the one spend projection: each
figure is worked out by hand in the comment next to it, from results stored as the workers store them."""
from decimal import Decimal

import pytest

from bakeoff_jobs import selectors
from bakeoff_jobs.models import BakeoffRun

from .factories import EngagementFactory, claude_haiku_45, custom_model, run_with_results, self_hosted_model

pytestmark = pytest.mark.django_db

# The founder: 2,000,000 requests a month of 1,000 tokens in and 500 out; $25,000 of credits.
WORKLOAD = {"intake__monthly_requests": 2_000_000, "intake__avg_input_tokens": 1000, "intake__avg_output_tokens": 500}
# Two GPUs at $1.50 an hour, four calls in flight.
GPUS = {"gpu_type": "NVIDIA L4", "gpu_count": 2, "gpu_hour_price": Decimal("1.50"), "max_concurrency": 4}
# Haiku 4.5 through its us. profile ($1.10 / $5.50 per 1M): 1,000 in + 200 out = 0.0011 + 0.0011 = $0.0022 a task.
HAIKU_ROWS = [(True, 1000, 200, 900)] * 3


def report_of(run: BakeoffRun) -> dict:
    report = selectors.run_report(run)
    BakeoffRun.objects.filter(pk=run.pk).update(report=report, status="finished")
    return report


def gpu_run(where: str, rows: list):
    """Haiku beside two GPUs (``where``: "ec2" or "outside_aws") for the founder's workload."""
    engagement = EngagementFactory(**WORKLOAD)
    haiku, ours = claude_haiku_45(), self_hosted_model()
    run = run_with_results(engagement, [haiku, ours], {haiku: HAIKU_ROWS, ours: rows},
                           **{str(ours.pk): {**GPUS, "hosting": where}})
    return engagement, haiku, ours, run


def entry(report: dict, name: str) -> dict:
    return next(m for m in report["models"] if m["name"] == name)


def test_self_hosted_gpus_outside_aws_priced_from_measured_throughput_and_not_paid_by_credits():
    # Calls of 2, 4 and 6 s (12 s) at concurrency 4 → 3 busy seconds; 600 output tokens → 200 tokens a second.
    _, haiku, ours, run = gpu_run("outside_aws", [(True, 1000, 100, 2000), (True, 1000, 200, 4000),
                                                  (False, 1000, 300, 6000)])
    report = report_of(run)
    gpu = entry(report, ours.name)
    # $3 an hour × 3 busy seconds / 3600 = $0.0025 for the run; / 3 tasks = 0.000833…; / 2 solved = 0.00125.
    assert gpu["cost_total_usd"] == "0.002500"
    assert gpu["cost_per_task_usd"] == "0.000833"
    assert gpu["cost_per_solved_task_usd"] == "0.001250"
    hosting = gpu["hosting"]
    assert (hosting["kind"], hosting["billing"], hosting["where"], hosting["credits_pay"]) == (
        "self_hosted", "gpu_hours", "outside_aws", False)
    assert (hosting["gpu_type"], hosting["units"], hosting["hour_price_usd"], hosting["concurrency"]) == (
        "NVIDIA L4", 2, "3.000000", 4)
    assert (hosting["busy_seconds"], hosting["output_tokens_per_second"]) == ("3.00", "200.00")
    # 2e6 × 500 = 1e9 tokens / 2,628,000 s = 380.52 t/s → ceil(380.52 / 200) = 2 deployments = 4 GPUs;
    # always on 2 × $3 × 730 = $4,380; busy 1e9 / 200 / 3600 = 1,388.89 h × $3 = $4,166.67; 1,388.89 / 1,460 = 0.9513.
    assert hosting["monthly"] == {
        "always_on_usd": "4380.000000", "at_utilisation_usd": "4166.666667", "utilisation": "0.9513",
        "replicas": 2, "units_needed": 4, "needed_tokens_per_second": "380.52", "amortised_training_usd": "0.000000",
        "commitment_total_usd": None, "capacity_short": False}
    assert gpu["monthly_usd"] == {"on_demand": "4380.000000", "batch": None, "cached": None}
    # Credits do not pay for GPUs outside AWS: no runway on them.
    assert gpu["credits_pay"] is False
    assert set(gpu["runway_months"].values()) == {None}
    assert set(gpu["runway_months_counting_expiry"].values()) == {None}
    # The Bedrock model beside it keeps its token figures, and credits pay it.
    bedrock = entry(report, haiku.name)
    assert bedrock["hosting"] is None and bedrock["credits_pay"] is True
    assert bedrock["cost_per_task_usd"] == "0.002200"
    # 2e6 × (1000 × 1.10 + 500 × 5.50) / 1e6 = 2e6 × 0.00385 = $7,700 a month; 25,000 / 7,700 = 3.25 months.
    assert bedrock["monthly_usd"]["on_demand"] == "7700.000000"
    assert bedrock["runway_months"]["on_demand"] == "3.25"


def test_the_one_spend_projection_prices_a_self_hosted_best_model_by_its_gpus_and_ec2_is_paid_by_credits():
    engagement, haiku, ours, run = gpu_run("ec2", [(True, 1000, 100, 2000), (True, 1000, 200, 4000),
                                                   (True, 1000, 300, 6000)])
    report = report_of(run)
    # Both solve 3/3; $0.000833 a task beats $0.0022: the GPUs are the single best model.
    assert report["router"]["single_best_model"] == ours.model_id
    gpu = entry(report, ours.name)
    # On EC2 in the startup's account credits pay: 25,000 / 4,380 = 5.7077… → 5.71 months.
    assert gpu["credits_pay"] is True and gpu["hosting"]["where"] == "ec2"
    assert gpu["runway_months"]["on_demand"] == "5.71"
    assert report["recommendation"]["monthly_usd"] == "4380.000000"
    assert report["recommendation"]["runway_months"] == "5.71"
    projection = selectors.engagement_spend_projection(engagement)
    assert projection.from_bakeoff and projection.model_name == ours.name and projection.kind == "self_hosted"
    assert projection.monthly.on_demand == Decimal(4380)


def test_a_router_route_to_gpus_outside_aws_is_left_out_of_the_runway():
    _, haiku, ours, run = gpu_run("outside_aws", [(True, 1000, 100, 2000)] * 3)
    report = report_of(run)
    assert report["router"]["single_best_model"] == ours.model_id
    assert report["router"]["runway_months"]["single_best"] is None
    assert report["recommendation"]["runway_months"] is None


def test_provisioned_throughput_custom_model_projection_with_commitment_and_amortised_training():
    engagement = EngagementFactory(**WORKLOAD)
    haiku = claude_haiku_45()
    tuned = custom_model(model_arn="arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7abc",
                         pricing="provisioned", model_units=2, model_unit_hour_price=Decimal("21.18"),
                         commitment_months=6, training_cost_usd=Decimal("6000"), amortisation_months=12,
                         catalog={"max_concurrency": 8})
    # Three 1 s calls at concurrency 8 → 0.375 busy seconds; 300 output tokens → 800 tokens a second.
    run = run_with_results(engagement, [haiku, tuned], {haiku: HAIKU_ROWS, tuned: [(True, 1000, 100, 1000)] * 3})
    report = report_of(run)
    pt = entry(report, tuned.name)
    assert pt["invoked_id"] == "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7abc"
    # A task: 2 units × $21.18 = $42.36 an hour × 1 s / 8 / 3600 = 0.0014708… → 0.001471.
    assert pt["cost_per_task_usd"] == "0.001471"
    hosting = pt["hosting"]
    assert (hosting["billing"], hosting["where"], hosting["credits_pay"], hosting["units"], hosting["commitment_months"]) == (
        "provisioned", "bedrock", True, 2, 6)
    assert hosting["output_tokens_per_second"] == "800.00"
    assert (hosting["training_cost_usd"], hosting["amortisation_months"]) == ("6000.000000", 12)
    # Fixed units bill every hour: $42.36 × 730 = $30,922.80, + $6,000 / 12 = $500 training → $31,422.80 a
    # month both ways; the 6-month commitment is 6 × $30,922.80 = $185,536.80. The workload needs 380.52
    # t/s of the 800 measured: enough. Utilisation: 1e9 / 800 / 3600 = 347.22 h of 730 = 0.4756.
    assert hosting["monthly"] == {
        "always_on_usd": "31422.800000", "at_utilisation_usd": "31422.800000", "utilisation": "0.4756",
        "replicas": 1, "units_needed": 2, "needed_tokens_per_second": "380.52", "amortised_training_usd": "500.000000",
        "commitment_total_usd": "185536.800000", "capacity_short": False}
    assert pt["monthly_usd"]["on_demand"] == "31422.800000"
    # Credits pay Bedrock: 25,000 / 31,422.80 = 0.7956 → 0.80 months.
    assert pt["runway_months"]["on_demand"] == "0.80"


def test_an_on_demand_custom_model_is_priced_per_token_with_its_training_amortised():
    engagement = EngagementFactory(**WORKLOAD)
    haiku = claude_haiku_45()
    tuned = custom_model(training_cost_usd=Decimal("1200"), amortisation_months=6,
                         catalog={"input_per_1m": Decimal("0.30"), "output_per_1m": Decimal("0.60")})
    run = run_with_results(engagement, [haiku, tuned], {haiku: HAIKU_ROWS, tuned: [(True, 1000, 200, 700)] * 2})
    pt = entry(report_of(run), tuned.name)
    # A task: 1000 × 0.30 / 1e6 + 200 × 0.60 / 1e6 = 0.0003 + 0.00012 = $0.00042.
    assert pt["cost_per_task_usd"] == "0.000420"
    # Month: 2e6 × (1000 × 0.30 + 500 × 0.60) / 1e6 = 2e6 × 0.0006 = $1,200, + 1,200 / 6 = $200 → $1,400.
    assert pt["monthly_usd"] == {"on_demand": "1400.000000", "batch": None, "cached": None}
    assert pt["hosting"]["billing"] == "tokens"
    assert pt["hosting"]["monthly"]["amortised_training_usd"] == "200.000000"


def test_gpus_that_sit_idle_at_a_small_volume_are_not_recommended_over_per_token_bedrock():
    # The run's GPU-seconds make a task cheap ($0.000833 against Haiku's $0.0022), but the founder sends
    # 5,000 requests a month: one deployment always on is $2,190, Haiku 5,000 × (800 × 1.10 + 200 × 5.50)
    # / 1e6 = 5,000 × 0.00198 = $9.90. Per request at that volume: $0.438 against $0.00198 → Haiku.
    engagement = EngagementFactory()  # 5,000 requests of 800 in / 200 out
    haiku, ours = claude_haiku_45(), self_hosted_model()
    run = run_with_results(engagement, [haiku, ours],
                           {haiku: HAIKU_ROWS, ours: [(True, 1000, 100, 2000), (True, 1000, 200, 4000),
                                                      (True, 1000, 300, 6000)]},
                           **{str(ours.pk): {**GPUS, "hosting": "ec2"}})
    report = report_of(run)
    gpu = entry(report, ours.name)
    assert gpu["cost_per_task_usd"] == "0.000833" and gpu["monthly_usd"]["on_demand"] == "2190.000000"
    assert entry(report, haiku.name)["monthly_usd"]["on_demand"] == "9.900000"
    assert report["router"]["single_best_model"] == haiku.model_id
    assert report["recommendation"]["monthly_usd"] == "9.900000"


def test_a_router_pays_for_the_gpus_its_share_of_the_traffic_needs_not_a_share_of_an_always_on_month():
    # Two categories: the GPUs pass one, Haiku the other, so the router sends half the 2,000,000
    # requests to each.
    engagement = EngagementFactory(**WORKLOAD)
    haiku, ours = claude_haiku_45(), self_hosted_model()
    run = run_with_results(engagement, [haiku, ours],
                           {haiku: [(False, 1000, 200, 900), (True, 1000, 200, 900)],
                            ours: [(True, 1000, 200, 2000), (False, 1000, 200, 2000)]},
                           categories=("extraction", "triage"), **{str(ours.pk): {**GPUS, "hosting": "ec2"}})
    report = report_of(run)
    routes = {row["category"]: row["model"] for row in report["router"]["by_category"]}
    assert routes == {"extraction": ours.model_id, "triage": haiku.model_id}
    # GPUs: 400 tokens / (4 s / 4) = 400 t/s; their half, 1e6 × 500 = 5e8 tokens / 2,628,000 s = 190.26 t/s,
    # needs 1 deployment kept up: 2 × $1.50 × 730 = $2,190 (half of the whole volume's month would be $1,095).
    # Haiku: half of $7,700 = $3,850. Router: $6,040.
    assert report["router"]["monthly_usd"]["router"] == "6040.000000"


def test_the_bakeoff_command_s_text_says_what_the_gpus_need_cost_and_that_credits_do_not_pay():
    from bakeoff_jobs.management.commands.bakeoff import render_text

    engagement, haiku, ours, run = gpu_run("outside_aws", [(True, 1000, 100, 2000), (True, 1000, 200, 4000),
                                                           (True, 1000, 300, 6000)])
    engagement.intake.needs_open_weights = True
    engagement.intake.save(update_fields=["needs_open_weights"])
    text = render_text(report_of(BakeoffRun.objects.get(pk=run.pk)))
    assert f"{ours.name}: $4,380.00 a month always on at the founder's volume" in text
    assert ("  200.00 output tokens/s at 4 in flight; 4 GPUs always on cost $4,380 a month ($4,166.67 at the "
            "measured utilisation), not paid by AWS credits (GPUs outside AWS)") in text
    assert f"  You asked for open weights: {ours.name} solved 100% of 3 cases" in text
