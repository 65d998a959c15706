"""The bake-off report, checked figure by figure against arithmetic written out here.

Scenario: 10 cases — 1-6 "extraction", 7-10 "analysis". Every call uses 1000 input and 200
output tokens (except llama's errored case 10: 1000 input, 0 output).
  haiku  ($1 / $5, batch −50%, no cache): passes 1-6, 7, 8; fails 9, 10.   per call 0.002
  sonnet ($3 / $15, cache 0.30 / 3.75):   passes every case.               per call 0.006
  llama  ($0.72 / $0.72):                  passes 1-5, 7; fails 6, 8, 9; 10 errored.
    per call 1000 × 0.72 + 200 × 0.72 = 720 + 144 = 864 /1M = 0.000864; errored call 0.00072
Latency of case i is 100 × i ms on haiku and llama (llama's errored case has none), 1500 on sonnet.
"""

import json
from decimal import Decimal as D

import pytest

from bakeoff_jobs.costs import CreditTranche, Prices
from bakeoff_jobs.report import (
    CaseSpec,
    ModelSpec,
    ReportInputs,
    ResultRow,
    Workload,
    build_report,
)

HAIKU = ModelSpec("haiku", "Claude Haiku", "us.haiku", Prices(D("1"), D("5"), batch_discount=D("0.5")))
SONNET = ModelSpec(
    "sonnet", "Claude Sonnet", "us.sonnet", Prices(D("3"), D("15"), D("0.30"), D("3.75"), D("0.5")),
    min_cache_tokens=1024,
)
LLAMA = ModelSpec("llama", "Llama 70B", "us.llama", Prices(D("0.72"), D("0.72"), batch_discount=D("0.5")))
JUDGE = ModelSpec("judge", "Judge", "us.judge", Prices(D("1"), D("5")))

CASES = [CaseSpec(i, "extraction" if i <= 6 else "analysis") for i in range(1, 11)]
PASSES = {"haiku": {1, 2, 3, 4, 5, 6, 7, 8}, "sonnet": set(range(1, 11)), "llama": {1, 2, 3, 4, 5, 7}}


def scenario_rows():
    rows = []
    for key, passes in PASSES.items():
        for i in range(1, 11):
            if key == "llama" and i == 10:
                rows.append(ResultRow(i, key, None, None, None, 1000, 0, error="ModelErrorException"))
                continue
            judged = key == "sonnet" and i >= 7  # the analysis cases were judged: 500 in, 50 out
            rows.append(
                ResultRow(
                    i, key, i in passes, 1.0 if i in passes else 0.0,
                    1500 if key == "sonnet" else 100 * i, 1000, 200,
                    judge_input_tokens=500 if judged else 0,
                    judge_output_tokens=50 if judged else 0,
                )
            )
    return rows


def scenario(**overrides):
    values = dict(
        models=[HAIKU, SONNET, LLAMA],
        cases=CASES,
        results=scenario_rows(),
        judge=JUDGE,
        workload=Workload(100_000, 3000, 400, shared_prefix_tokens=2000),
        credits_usd=D("10000"),
    )
    values.update(overrides)
    return build_report(ReportInputs(**values))


def model(report, key):
    return next(entry for entry in report["models"] if entry["key"] == key)


def test_report_is_json_serialisable_and_flags_the_sandbox():
    report = scenario(sandbox=True)
    assert json.loads(json.dumps(report))["sandbox"] is True
    assert scenario()["sandbox"] is False


def test_quality_figures_per_model():
    haiku = model(scenario(), "haiku")
    assert (haiku["cases"], haiku["solved"], haiku["errors"]) == (10, 8, 0)
    assert haiku["pass_rate"] == 0.8
    # Wilson 95% for 8/10 = (0.4902, 0.9433)
    assert haiku["pass_rate_ci95"] == [pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4)]
    assert haiku["mean_score"] == pytest.approx(0.8)
    assert (haiku["name"], haiku["invoked_id"]) == ("Claude Haiku", "us.haiku")


def test_errored_case_counts_as_attempted_unsolved_and_scores_zero():
    llama = model(scenario(), "llama")
    assert (llama["cases"], llama["solved"], llama["errors"]) == (10, 6, 1)
    assert llama["pass_rate"] == 0.6 and llama["mean_score"] == pytest.approx(0.6)


def test_latency_percentiles_skip_errored_calls():
    report = scenario()
    # haiku 100..1000: p50 rank 4.5 → 500 + 0.5 × 100 = 550; p95 rank 8.55 → 900 + 0.55 × 100 = 955
    assert model(report, "haiku")["latency_ms"] == {"p50": pytest.approx(550), "p95": pytest.approx(955)}
    # llama 100..900 (case 10 errored): p50 rank 4 → 500; p95 rank 7.6 → 800 + 0.6 × 100 = 860
    assert model(report, "llama")["latency_ms"] == {"p50": pytest.approx(500), "p95": pytest.approx(860)}
    assert model(report, "sonnet")["latency_ms"] == {"p50": 1500.0, "p95": 1500.0}


def test_tokens_and_costs_per_task_and_per_solved_task():
    report = scenario()
    haiku = model(report, "haiku")
    assert haiku["tokens"] == {
        "input": 10_000, "output": 2_000, "cache_read": 0, "cache_write": 0,
        "mean_input": 1000.0, "mean_output": 200.0,
    }
    # 10 × 0.002 = 0.02; per task 0.002; per solved 0.02 / 8 = 0.0025
    assert haiku["cost_total_usd"] == "0.020000"
    assert haiku["cost_per_task_usd"] == "0.002000"
    assert haiku["cost_per_solved_task_usd"] == "0.002500"
    llama = model(report, "llama")
    # 9 × 0.000864 + 0.00072 = 0.007776 + 0.00072 = 0.008496; per task 0.0008496 → 0.000850
    # per solved 0.008496 / 6 = 0.001416
    assert llama["cost_total_usd"] == "0.008496"
    assert llama["cost_per_task_usd"] == "0.000850"
    assert llama["cost_per_solved_task_usd"] == "0.001416"


def test_cost_per_solved_task_is_null_when_nothing_was_solved():
    rows = [ResultRow(1, "haiku", False, 0.0, 10, 1000, 200)]
    report = build_report(ReportInputs(models=[HAIKU], cases=[CaseSpec(1)], results=rows))
    assert model(report, "haiku")["cost_per_solved_task_usd"] is None
    assert model(report, "haiku")["cost_per_task_usd"] == "0.002000"


def test_cache_tokens_are_billed_at_cache_prices():
    rows = [ResultRow(1, "sonnet", True, 1.0, 10, 200, 500, cache_read_tokens=2000, cache_write_tokens=1000)]
    report = build_report(ReportInputs(models=[SONNET], cases=[CaseSpec(1)], results=rows))
    # 200 × 3 + 500 × 15 + 2000 × 0.30 + 1000 × 3.75 = 600 + 7500 + 600 + 3750 = 12450 /1M
    assert model(report, "sonnet")["cost_total_usd"] == "0.012450"
    assert model(report, "sonnet")["tokens"]["mean_input"] == 3200.0  # 200 + 2000 + 1000


def test_judge_cost_is_reported_apart_from_candidates():
    report = scenario()
    # 4 judged rows × (500 in, 50 out) = 2000 in, 200 out: 2000 × 1 + 200 × 5 = 3000 /1M = 0.003
    assert report["judge"] == {
        "model": "judge", "invoked_id": "us.judge", "input_tokens": 2000, "output_tokens": 200,
        "cost_usd": "0.003000",
    }
    assert model(report, "sonnet")["cost_total_usd"] == "0.060000"  # 10 × 0.006, no judge cost
    assert scenario(judge=None)["judge"] is None


def test_pairwise_mcnemar_on_shared_cases():
    pairs = {(p["a"], p["b"]): p for p in scenario()["pairwise"]}
    assert list(pairs) == [("haiku", "sonnet"), ("haiku", "llama"), ("sonnet", "llama")]
    # haiku fails 9, 10 which sonnet passes: b = 0, c = 2 → p = 2 × 1/4 = 0.5
    assert pairs[("haiku", "sonnet")] == {
        "a": "haiku", "b": "sonnet", "cases": 10, "a_only": 0, "b_only": 2,
        "p_value": 0.5, "significant": False,
    }
    # sonnet passes 6, 8, 9, 10 which llama does not: p = 2 × 1/16 = 0.125
    assert pairs[("sonnet", "llama")]["a_only"] == 4
    assert pairs[("sonnet", "llama")]["p_value"] == 0.125


def test_pairwise_is_significant_with_enough_discordant_cases():
    cases = [CaseSpec(i) for i in range(6)]
    rows = [ResultRow(i, "sonnet", True, 1.0, 1) for i in range(6)]
    rows += [ResultRow(i, "haiku", False, 0.0, 1) for i in range(6)]
    report = build_report(ReportInputs(models=[SONNET, HAIKU], cases=cases, results=rows))
    # b = 6, c = 0: p = 2 / 64 = 0.03125 < 0.05
    assert report["pairwise"][0]["p_value"] == 0.03125 and report["pairwise"][0]["significant"]


def test_monthly_projection_and_runway_per_model():
    report = scenario()
    sonnet = model(report, "sonnet")
    # per request 3000 × 3 + 400 × 15 = 15000 /1M = 0.015; × 100,000 = 1500; batch 750
    # cached: 1000 × 3 + 2000 × 0.30 + 400 × 15 = 9600 /1M = 0.0096; × 100,000 = 960
    assert sonnet["monthly_usd"] == {"on_demand": "1500.000000", "batch": "750.000000", "cached": "960.000000"}
    # 10000 / 1500 = 6.666…; 10000 / 750 = 13.333…; 10000 / 960 = 10.4166…
    assert sonnet["runway_months"] == {"on_demand": "6.67", "batch": "13.33", "cached": "10.42"}
    haiku = model(report, "haiku")
    # 3000 × 1 + 400 × 5 = 5000 /1M = 0.005 × 100,000 = 500; batch 250; no cache prices
    assert haiku["monthly_usd"] == {"on_demand": "500.000000", "batch": "250.000000", "cached": None}
    assert haiku["runway_months"] == {"on_demand": "20.00", "batch": "40.00", "cached": None}
    llama = model(report, "llama")
    # 3000 × 0.72 + 400 × 0.72 = 2448 /1M × 100,000 = 244.8; 10000 / 244.8 = 40.849…
    assert llama["monthly_usd"]["on_demand"] == "244.800000"
    assert llama["runway_months"]["on_demand"] == "40.85"


def test_runway_counts_expiry_beside_the_unchanged_runway_months():
    # $10,000 in two pools: $6,000 valid 12 months and $4,000 valid 24
    tranches = [CreditTranche(D("6000"), 12), CreditTranche(D("4000"), 24)]
    report = scenario(credit_tranches=tranches)
    llama = model(report, "llama")
    # 10000 / 244.8 = 40.85 months ignoring expiry (kept as it was) ...
    assert llama["runway_months"]["on_demand"] == "40.85"
    # ... but 12 × 244.8 = 2937.6 of the first pool is spent before it expires (the rest is lost), and
    # the second pays 4000 / 244.8 = 16.3 more months: longer than the 12 left, so the whole 24
    assert llama["runway_months_counting_expiry"]["on_demand"] == "24.00"
    assert llama["runway_covers_validity"]["on_demand"] is True and llama["credit_validity_months"] == 24
    sonnet = model(report, "sonnet")
    # 6000 / 1500 = 4 months, then 4000 / 1500 = 2.67: 6.67 months, well inside the validity
    assert sonnet["runway_months_counting_expiry"] == {"on_demand": "6.67", "batch": "13.33", "cached": "10.42"}
    assert sonnet["runway_covers_validity"] == {"on_demand": False, "batch": False, "cached": False}
    router = report["router"]
    assert router["credit_validity_months"] == 24
    assert set(router["runway_covers_validity"]) == {"router", "single_best"}
    assert router["runway_months"]["router"] is not None  # the existing key keeps its meaning


def test_credits_without_a_known_validity_say_so_instead_of_guessing():
    report = scenario()  # credits_usd only: no pool validity known
    sonnet = model(report, "sonnet")
    assert sonnet["credit_validity_months"] is None
    assert sonnet["runway_covers_validity"] == {"on_demand": None, "batch": None, "cached": None}
    assert sonnet["runway_months_counting_expiry"] == sonnet["runway_months"]


def test_monthly_projection_falls_back_to_measured_token_means():
    report = scenario(workload=Workload(1000))
    # haiku measured means 1000 in, 200 out: 0.002 per request × 1000 = 2
    assert model(report, "haiku")["monthly_usd"]["on_demand"] == "2.000000"


def test_no_workload_or_credits_gives_nulls():
    report = scenario(workload=None, credits_usd=None)
    assert model(report, "sonnet")["monthly_usd"] == {"on_demand": None, "batch": None, "cached": None}
    assert report["router"]["monthly_usd"] == {"router": None, "single_best": None}
    report = scenario(credits_usd=None)
    assert model(report, "sonnet")["runway_months"]["on_demand"] is None
    assert report["router"]["runway_months"] == {"router": None, "single_best": None}


def test_router_picks_the_cheapest_model_within_two_points_per_category():
    router = scenario()["router"]
    assert router["bar"] == {"points_below_best": "2", "min_pass_rate_pct": None}
    extraction, analysis = router["by_category"]
    # extraction: haiku and sonnet both 6/6 (best), llama 5/6 is 16.7 points behind; haiku cheaper
    assert extraction == {
        "category": "extraction", "cases": 6, "share": 0.6, "model": "haiku", "pass_rate": 1.0,
        "cost_per_task_usd": "0.002000", "best_model": "haiku", "best_pass_rate": 1.0, "meets_bar": True,
    }
    # analysis: only sonnet (4/4) clears 100 − 2 = 98%
    assert (analysis["model"], analysis["best_model"], analysis["cost_per_task_usd"]) == (
        "sonnet", "sonnet", "0.006000",
    )
    # blended: 0.6 × 0.002 + 0.4 × 0.006 = 0.0012 + 0.0024 = 0.0036
    assert router["blended_cost_per_task_usd"] == "0.003600"
    assert router["blended_pass_rate"] == 1.0
    # one model for everything: only sonnet (100%) is within 2 points of the best overall
    assert router["single_best_model"] == "sonnet"
    assert router["single_best_cost_per_task_usd"] == "0.006000"
    # monthly: 0.6 × haiku 500 + 0.4 × sonnet 1500 = 300 + 600 = 900 vs sonnet 1500
    assert router["monthly_usd"] == {"router": "900.000000", "single_best": "1500.000000"}
    # runway: 10000 / 900 = 11.11; 10000 / 1500 = 6.67
    assert router["runway_months"] == {"router": "11.11", "single_best": "6.67"}


def test_a_wider_bar_admits_cheaper_models_exactly_at_the_edge():
    router = scenario(bar_points=D("20"))["router"]
    extraction, analysis = router["by_category"]
    # extraction: 100 − 20 = 80%; llama 5/6 = 83.3% clears and is cheapest (0.000864)
    assert (extraction["model"], extraction["cost_per_task_usd"]) == ("llama", "0.000864")
    # analysis: haiku 2/4 = 50% does not clear 80%: still sonnet
    assert analysis["model"] == "sonnet"
    # blended: 0.6 × 0.000864 + 0.4 × 0.006 = 0.0005184 + 0.0024 = 0.0029184 → 0.002918
    assert router["blended_cost_per_task_usd"] == "0.002918"
    # overall: haiku 80% sits exactly on 100 − 20 = 80% and is cheaper than sonnet
    assert router["single_best_model"] == "haiku"


def test_an_absolute_bar_and_its_fallback_when_nobody_clears_it():
    router = scenario(bar_min_pass_rate=D("90"))["router"]
    assert router["bar"] == {"points_below_best": None, "min_pass_rate_pct": "90"}
    assert [row["model"] for row in router["by_category"]] == ["haiku", "sonnet"]
    assert router["single_best_model"] == "sonnet"  # haiku's 80% overall misses 90%
    failing = [ResultRow(i, "sonnet", False, 0.0, 1, 1000, 200) for i in (9, 10)]
    rows = [r for r in scenario_rows() if not (r.model_key == "sonnet" and r.case_id in (9, 10))]
    router = scenario(bar_min_pass_rate=D("100"), results=rows + failing)["router"]
    analysis = router["by_category"][1]
    # analysis now: haiku 2/4, sonnet 2/4, llama 1/4: nobody reaches 100%; fall back to the best
    # pass rate (50%: haiku and sonnet) and take the cheaper, haiku
    assert (analysis["model"], analysis["meets_bar"], analysis["pass_rate"]) == ("haiku", False, 0.5)


def test_router_ties_go_to_higher_pass_rate_then_smaller_key():
    same = Prices(D("1"), D("1"))
    models = [ModelSpec("b-model", "B", "b", same), ModelSpec("a-model", "A", "a", same),
              ModelSpec("c-model", "C", "c", same)]
    cases = [CaseSpec(i, "triage") for i in range(1, 11)]
    rows = []
    for i in range(1, 11):
        rows.append(ResultRow(i, "b-model", True, 1.0, 1, 100, 10))
        rows.append(ResultRow(i, "a-model", True, 1.0, 1, 100, 10))
        rows.append(ResultRow(i, "c-model", i != 10, 1.0, 1, 100, 10))  # 90%
    report = build_report(ReportInputs(models=models, cases=cases, results=rows, bar_points=D("20")))
    (triage,) = report["router"]["by_category"]
    # all three cost the same and clear 100 − 20 = 80%; a and b reach 100%, c 90%; a < b by key
    assert (triage["model"], triage["best_model"]) == ("a-model", "a-model")
    assert report["router"]["single_best_model"] == "a-model"


def test_uncategorised_cases_and_partial_results():
    cases = [CaseSpec(1), CaseSpec(2), CaseSpec(3, "triage")]
    rows = [ResultRow(1, "haiku", True, 1.0, 5, 1000, 200), ResultRow(3, "haiku", True, 1.0, 5, 1000, 200)]
    report = build_report(ReportInputs(models=[HAIKU, SONNET], cases=cases, results=rows))
    router = report["router"]
    # shares by eval cases per category: "" has 2 cases, triage 1 → 2/3 and 1/3
    assert [(row["category"], row["cases"], row["model"]) for row in router["by_category"]] == [
        ("", 2, "haiku"), ("triage", 1, "haiku"),
    ]
    assert model(report, "sonnet")["pass_rate"] is None
    assert model(report, "sonnet")["cost_per_task_usd"] is None
    assert report["pairwise"][0]["cases"] == 0 and report["pairwise"][0]["p_value"] == 1.0


def test_results_must_be_unique_and_known():
    rows = [ResultRow(1, "haiku", True, 1.0, 5), ResultRow(1, "haiku", False, 0.0, 5)]
    with pytest.raises(ValueError, match="two results"):
        build_report(ReportInputs(models=[HAIKU], cases=[CaseSpec(1)], results=rows))
    with pytest.raises(ValueError, match="unknown model"):
        build_report(ReportInputs(models=[HAIKU], cases=[CaseSpec(1)],
                                  results=[ResultRow(1, "opus", True, 1.0, 5)]))


def test_a_run_without_results_reports_nulls_not_errors():
    report = build_report(ReportInputs(models=[HAIKU], cases=[CaseSpec(1, "triage")], results=[],
                                       workload=Workload(10, 100, 10), credits_usd=D("5")))
    haiku = model(report, "haiku")
    assert (haiku["cases"], haiku["pass_rate"], haiku["pass_rate_ci95"]) == (0, None, [0.0, 1.0])
    assert haiku["latency_ms"] == {"p50": None, "p95": None}
    router = report["router"]
    assert router["by_category"] == [] and router["blended_cost_per_task_usd"] is None
    assert router["single_best_model"] is None and router["monthly_usd"]["router"] is None
    json.dumps(report)


def test_no_batch_projection_for_a_model_bedrock_offers_no_batch_for():
    no_batch = ModelSpec("llama32", "Llama 3.2 3B", "us.llama32", Prices(D("0.15"), D("0.15"), batch_discount=D("0.5")),
                         batch_available=False)
    inputs = ReportInputs(
        models=[HAIKU, no_batch], cases=[CaseSpec(1)],
        results=[ResultRow(1, "haiku", True, 1.0, 100, 10, 10), ResultRow(1, "llama32", True, 1.0, 100, 10, 10)],
        workload=Workload(monthly_requests=1000, avg_input_tokens=100, avg_output_tokens=50), credits_usd=D("1000"),
    )
    haiku, llama = build_report(inputs)["models"]
    assert haiku["batch_available"] is True and haiku["monthly_usd"]["batch"] is not None
    assert llama["batch_available"] is False
    assert llama["monthly_usd"]["batch"] is None and llama["runway_months"]["batch"] is None
    assert llama["monthly_usd"]["on_demand"] is not None


def test_report_carries_each_model_s_lifecycle():
    legacy = ModelSpec("opus41", "Claude Opus 4.1", "us.opus41", Prices(D("15"), D("75")),
                       lifecycle={"status": "legacy", "end_of_life_date": "2027-05-01"})
    report = build_report(ReportInputs(models=[HAIKU, legacy], cases=[CaseSpec(1)], results=[]))
    assert [m["lifecycle"] for m in report["models"]] == [
        {"status": "active", "end_of_life_date": None}, {"status": "legacy", "end_of_life_date": "2027-05-01"}]
