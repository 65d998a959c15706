"""manage.py bakeoff: upload an eval set, run it on the Celery workers against two or more models,
wait with a progress bar, print the report."""
from __future__ import annotations

import gc
import json
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bakeoff_jobs import batch_runs, estimates, recommendation, selectors, services
from bakeoff_jobs.cli_worker import CommandWorker
from bakeoff_jobs.evalsets import parse_eval_file
from bakeoff_jobs.model_data import lifecycle_note
from bakeoff_jobs.models import BakeoffRun, BatchJob, RunMode, RunStatus
from bakeoff_jobs.recommendation import hosting_cost_text
from bakeoff_jobs.templatetags.bakeoff_format import category_name, money, per_1000, runway


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"not a number: {text!r}") from None


# A pilot measures answer length on a few cases; more than this is a run of its own.
MAX_PILOT_CASES = 50
# How long a worker started with --start-worker gets to stop after a cancel, a timeout or an error.
WORKER_STOP_SECONDS = 30
# How often the progress is read while waiting (a query of one row).
POLL_SECONDS = 0.1


class Command(BaseCommand):
    # The system checks (URLs, admin, templates) say nothing about a bake-off and cost about half a
    # second of every run; `manage.py check` and the deploy run them.
    requires_system_checks = []
    help = (
        "Run a bake-off: upload EVAL_FILE (JSONL or CSV: prompt, expected, scorer, optional system_prompt, "
        "category, scorer_options), call every model in --models on every case through the Celery workers "
        "(Bedrock Converse at BEDROCK_ENDPOINT_URL), show progress on stderr and print the report. "
        "With --json the whole report is printed as one JSON document on stdout (keys in README.md). "
        "Ctrl-C cancels the run."
    )

    def add_arguments(self, parser):
        parser.add_argument("eval_file", help="JSONL or CSV eval set")
        parser.add_argument("--models", required=True,
                            help="comma-separated catalog model ids (base or inference-profile id; a global. "
                                 "profile id runs the model through that profile at the listed price), two or more")
        parser.add_argument("--temperature", default="0", help="sampling temperature 0..1 (default 0)")
        parser.add_argument("--max-tokens", type=int, default=512, help="max output tokens per call (default 512)")
        parser.add_argument("--engagement", type=int, help="engagement id the eval set and report belong to")
        parser.add_argument("--partner", type=int,
                            help="partner firm id the eval set belongs to (without --engagement); its own "
                                 "self-hosted entries may then be named in --models")
        parser.add_argument("--judge", help="catalog model id of the LLM judge (for llm_judge cases)")
        parser.add_argument("--bar-points", type=int, default=2,
                            help="pass-rate points a cheaper model may trail the best in a category (default 2)")
        parser.add_argument("--pilot", type=int, default=0, metavar="N",
                            help="before launch, have each model answer the first N cases for real to measure its "
                                 "answer length for the estimate (billed like any call; default 0: estimate from "
                                 "the expected answers)")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
        parser.add_argument("--timeout", type=float, default=0, help="give up waiting after this many seconds (0: never)")
        parser.add_argument("--start-worker", action="store_true",
                            help="start a Celery worker for the duration of this command (when none is running)")
        parser.add_argument("--no-wait", action="store_true", help="launch and print the run id without waiting")
        parser.add_argument("--batch", action="store_true",
                            help="run each model as a Bedrock batch inference job at the batch price (every model "
                                 "must offer batch; the set needs at least BAKEOFF_BATCH_MIN_RECORDS cases)")
        parser.add_argument("--poll-seconds", type=float, default=0,
                            help="with --batch: how often this command asks Bedrock for the jobs' status "
                                 "(default: 1 s on the sandbox, else BAKEOFF_BATCH_POLL_SECONDS)")

    def run_from_argv(self, argv):
        super().run_from_argv(argv)
        # The process ends next: what it loaded (Django, botocore's models) is not garbage worth
        # walking on the way out, which took half a second (gc.freeze leaves it to the exit).
        gc.freeze()

    def handle(self, *args, **options):
        path = Path(options["eval_file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        if not 0 <= options["pilot"] <= MAX_PILOT_CASES:
            raise CommandError(f"--pilot takes 0 to {MAX_PILOT_CASES} cases, not {options['pilot']}")
        # First, so the worker boots while the set is uploaded and the cost estimated.
        worker = CommandWorker.start() if options["start_worker"] and not options["no_wait"] else None
        if worker is not None:
            self.stderr.write(f"worker started (pid {worker.pid}); it stops when this command ends")
        finished = False
        try:
            run = self._launch(path, options)
            if options["no_wait"]:
                self.stdout.write(str(run.pk))
                return
            self._wait_or_cancel(run, options, worker)
            run = BakeoffRun.objects.get(pk=run.pk)
            if run.status != RunStatus.FINISHED:
                raise CommandError(f"bake-off #{run.pk} ended {run.status}: {run.error or 'no report'}")
            if options["json"]:
                self.stdout.write(json.dumps(run.report, sort_keys=False))
            else:
                self.stdout.write(render_text(run.report))
            self.stdout.flush()
            finished = True
        finally:
            if worker is not None:
                # A finished run leaves the worker nothing to do: it stops on its own while the
                # command exits. Otherwise wait for its warm shutdown (calls in flight are stored).
                worker.stop(wait=0 if finished else WORKER_STOP_SECONDS)

    def _launch(self, path: Path, options) -> BakeoffRun:
        """Upload, estimate (printed) and launch; nothing is stored when the input is refused."""
        engagement = None
        if options["engagement"]:
            from matching.models import Engagement

            engagement = Engagement.objects.select_related("intake", "partner").filter(pk=options["engagement"]).first()
            if engagement is None:
                raise CommandError(f"no engagement {options['engagement']}")
        partner = engagement.partner if engagement is not None else None
        if options["partner"] and partner is None:
            from matching.models import Partner

            partner = Partner.objects.filter(pk=options["partner"]).first()
            if partner is None:
                raise CommandError(f"no partner {options['partner']}")
        elif options["partner"] and partner.pk != options["partner"]:
            raise CommandError("--partner differs from the engagement's partner firm")
        models = [m for m in options["models"].split(",") if m.strip()]
        try:
            # Before storing anything; a firm's own self-hosted entries only for that firm's runs.
            models = services.resolve_models(models, partner_id=partner.pk if partner else None)
            services.refuse_unoffered(models)
            if options["batch"]:
                self._refuse_batch(models, path)
            eval_set = services.evalset_upload(name=path.stem, data=path.read_bytes(), filename=path.name,
                                               engagement=engagement, partner=partner)
            estimate = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=options["max_tokens"],
                                                 count_tokens=True, pilot_cases=options["pilot"],
                                                 temperature=_decimal(options["temperature"]))
            self.stderr.write(estimate_line(estimate))
            run = services.bakeoff_launch(
                eval_set=eval_set, models=models, temperature=_decimal(options["temperature"]),
                max_tokens=options["max_tokens"], engagement=engagement, judge=options["judge"],
                bar_points=options["bar_points"], estimate=estimate, batch=options["batch"],
            )
        except services.EvalSetInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{path.name}:{error.line}: {error.message}")
            raise CommandError(f"{len(exc.errors)} bad row(s); nothing stored") from None
        except services.BakeoffError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"bake-off #{run.pk}: {run.total_pairs} "
            f"{'records in batch jobs' if run.mode == RunMode.BATCH else 'calls'} dispatched"
            f"{' to the local sandbox' if run.sandbox else ' to Amazon Bedrock'}"
        )
        return run

    def _wait_or_cancel(self, run: BakeoffRun, options, worker: CommandWorker | None) -> None:
        poll = 0.0
        if run.mode == RunMode.BATCH:
            poll = options["poll_seconds"] or (1.0 if run.sandbox else settings.BAKEOFF_BATCH_POLL_SECONDS)
        try:
            self._wait(run.pk, options["timeout"], batch_poll_seconds=poll, worker=worker)
        except KeyboardInterrupt:
            services.bakeoff_cancel(run=run, reason="interrupted from the command line")
            if run.mode == RunMode.BATCH:
                batch_runs.batch_stop(run_id=run.pk)
            raise CommandError(f"bake-off #{run.pk} cancelled") from None

    def _refuse_batch(self, models, path: Path) -> None:
        """Before anything is stored: batch needs every model to offer it and enough cases."""
        cases = len(parse_eval_file(path.read_bytes(), filename=path.name).cases)
        refusal = estimates.batch_refusal(models=models, case_count=cases)
        if refusal:
            raise CommandError(f"--batch: {refusal}")

    def _wait(self, run_id: int, timeout: float, *, batch_poll_seconds: float = 0.0,
              worker: CommandWorker | None = None) -> None:
        started = time.monotonic()
        tty = sys.stderr.isatty()
        last_line, printed_bucket = "", -1
        polled, last_jobs = 0.0, ""
        while True:
            if batch_poll_seconds and time.monotonic() - polled >= batch_poll_seconds:
                polled = time.monotonic()  # the CLI asks Bedrock itself instead of waiting for beat
                batch_runs.batch_poll(run_id=run_id)
                jobs_line = batch_jobs_line(run_id)
                if jobs_line != last_jobs:
                    sys.stderr.write(("\n" if tty else "") + jobs_line + "\n")
                    last_jobs = jobs_line
            progress = selectors.run_progress(run_id=run_id)
            line = progress_bar(progress, time.monotonic() - started)
            second = int(time.monotonic() - started)
            if tty:
                sys.stderr.write("\r" + line)
                sys.stderr.flush()
            elif line != last_line and (progress.finished or (second % 5 == 0 and second != printed_bucket)):
                sys.stderr.write(line + "\n")  # off a terminal: a line every 5 s, and the last one
                printed_bucket = second
            last_line = line
            if progress.finished:
                if tty:
                    sys.stderr.write("\n")
                return
            if worker is not None and not worker.alive():
                raise CommandError(f"bake-off #{run_id} still {progress.status}: the worker this command started "
                                   "has exited; the run goes on when a worker runs")
            if timeout and time.monotonic() - started > timeout:
                raise CommandError(f"bake-off #{run_id} still {progress.status} after {timeout:.0f}s; "
                                   "it keeps running on the workers")
            time.sleep(POLL_SECONDS)


def batch_jobs_line(run_id: int) -> str:
    """One line naming each batch job's status (and Bedrock's message, e.g. why it failed)."""
    jobs = BatchJob.objects.filter(run_id=run_id).order_by("run_model__position", "attempt")
    return "batch jobs: " + "; ".join(
        f"{job.model_id} #{job.attempt} {job.status}" + (f" ({job.message[:200]})" if job.message else "")
        for job in jobs)


def progress_bar(progress: selectors.RunProgress, elapsed: float, width: int = 30) -> str:
    settled = progress.done + progress.failed
    share = settled / progress.total if progress.total else 1.0
    filled = int(round(share * width))
    return (f"[{'#' * filled}{'.' * (width - filled)}] {settled}/{progress.total} "
            f"done={progress.done} failed={progress.failed} remaining={progress.remaining} "
            f"{progress.status} {elapsed:.0f}s")


def estimate_line(estimate: estimates.RunCostEstimate) -> str:
    """The pre-launch estimate as a range, per model, and what the run bills on the sandbox."""
    line = (
        f"estimated cost: ${estimate.expected_usd:.4f} typical, ${estimate.upper_bound_usd:.4f} at most "
        f"(every answer at --max-tokens) for {estimate.cases} cases × {len(estimate.models)} models: "
        + ", ".join(f"{m.invoked_id} priced from measured throughput" if m.self_hosted
                    else f"{m.invoked_id} {m.capacity_note}" if m.capacity_billing
                    else f"{m.invoked_id} ${m.expected_usd:.4f}–${m.upper_bound_usd:.4f}" for m in estimate.models)
    )
    if estimate.capacity_models:
        line += ("\nthe totals are per-token costs only; the capacity billed by the hour above comes on top, "
                 "for as long as it is held")
    piloted = [m.invoked_id for m in estimate.models if m.piloted]
    if piloted:
        line += f"\nanswer length measured on a pilot for {', '.join(piloted)}; the others from the expected answers"
    if estimate.sandbox:
        line += ("\nSANDBOX RUN: the local sandbox bills $0; these figures are what the same calls "
                 "would cost on Amazon Bedrock.")
    return line


def render_text(report: dict) -> str:
    lines = []
    if report.get("sandbox"):
        lines.append("SANDBOX RUN: answers came from the local Converse sandbox, not Amazon Bedrock; "
                     "it billed $0 (costs below are what Bedrock would charge).")
    names = {m["key"]: m["name"] for m in report.get("models", [])}
    sizes = report.get("sample_size") or recommendation.sample_size(report)
    decision = (report.get("recommendation") if "recommendation" in report
                else recommendation.recommendation(report, sizes))
    lines.extend(_decision_lines(decision, report.get("router") or {}, sizes, names))
    lines.append(f"{'model':48} {'pass':>6} {'95% CI':>13} {'p50 ms':>7} {'p95 ms':>7} "
                 f"{'$/1k tasks':>11} {'$/1k solved':>11}")
    for m in report.get("models", []):
        ci = m.get("pass_rate_ci95") or [0, 0]
        lat = m.get("latency_ms") or {}
        rate = m.get("pass_rate")
        lines.append(
            f"{m['invoked_id'][:48]:48} {'-' if rate is None else f'{rate:.0%}':>6} "
            f"{f'{ci[0]:.0%}-{ci[1]:.0%}':>13} {_num(lat.get('p50')):>7} {_num(lat.get('p95')):>7} "
            f"{per_1000(m.get('cost_per_task_usd')):>11} {per_1000(m.get('cost_per_solved_task_usd')):>11}"
        )
    if (report.get("run") or {}).get("mode") == "batch":
        lines.append("Batch inference: each model ran as a Bedrock batch job, billed at the batch price.")
        for m in report.get("models", []):
            jobs = m.get("batch_jobs") or {}
            longest = (jobs.get("duration_seconds") or {}).get("max")
            lines.append(f"{m['invoked_id']}: ${m.get('cost_total_usd')} batch vs ${m.get('cost_on_demand_usd')} "
                         f"on demand; {jobs.get('jobs', 0)} job(s), longest {_num(longest)} s")
    for m in report.get("models", []):
        monthly = (m.get("monthly_usd") or {}).get("on_demand")
        if monthly is not None:
            lasts = runway(m, "on_demand")
            hourly = ((m.get("hosting") or {}).get("monthly") or {}).get("always_on_usd") is not None
            lines.append(f"{m['name']}: {money(monthly)} a month {'always on' if hourly else 'on demand'} at the "
                         f"founder's volume" + ("" if lasts == "—" else f"; credit runway {lasts}"))
        lines.extend(_hosting_lines(m))
    for m in report.get("models", []):
        note = lifecycle_note(m.get("lifecycle"))
        if note:
            lines.append(f"{m['name']} ({m['invoked_id']}) is {note}.")
        if m.get("batch_available") is False and not m.get("hosting"):
            lines.append(f"{m['name']}: Bedrock offers no batch inference for it (no batch projection).")
    for pair, size in zip(report.get("pairwise", []), sizes["pairs"]):
        verdict = " (significant)" if pair.get("significant") else ""
        if size["too_few"]:
            verdict = f" (too few cases to tell: about {size['cases_needed']:,} needed)"
        lines.append(f"{pair['a']} vs {pair['b']}: p={pair['p_value']:.3g}{verdict}")
    router = report.get("router") or {}
    for entry, size in zip(router.get("by_category", []), sizes["categories"]):
        thin = f"  (too few cases: {entry['cases']}, about {size['cases_needed']:,} needed)" if size["too_few"] else ""
        lines.append(f"route {category_name(entry['category'])!s:20} -> {entry['model']}{thin}")
    if router.get("blended_cost_per_task_usd"):
        lines.append(f"router {per_1000(router['blended_cost_per_task_usd'])} per 1,000 tasks vs single model "
                     f"{router.get('single_best_model')} {per_1000(router.get('single_best_cost_per_task_usd'))}"
                     " per 1,000 tasks")
    if (router.get("monthly_usd") or {}).get("router") is not None:
        lasts = runway(router, "router")
        lines.append(f"router {money(router['monthly_usd']['router'])} a month"
                     + ("" if lasts == "—" else f"; credit runway {lasts}"))
    return "\n".join(lines)


def _hosting_lines(m: dict) -> list[str]:
    """A self-hosted or custom model's hours: measured throughput, what the volume needs, who pays."""
    hosting = m.get("hosting")
    if not hosting:
        return []
    measured = (f"{hosting['output_tokens_per_second']} output tokens/s at {hosting['concurrency']} in flight; "
                if hosting.get("output_tokens_per_second") else "")
    return [f"  {measured}{hosting_cost_text(m)}"]


def _decision_lines(decision: dict | None, router: dict, sizes: dict, names: dict) -> list[str]:
    """The recommendation first, in the report page's words, then any small-sample warning."""
    if not decision:
        return []
    if decision["setup"] == "router":
        setup = "route by category: " + "; ".join(
            f"{category_name(row['category'])} -> {names.get(row['model'], row['model'])}"
            for row in router.get("by_category", []))
    else:
        setup = f"use {names.get(decision['model'], decision['model'])} for every task"
    low, high = decision["pass_rate_ci95"]
    rate = decision.get("pass_rate")
    lines = [f"RECOMMENDATION: {setup}.",
             f"  monthly (on demand, founder's volume): {money(decision.get('monthly_usd'))}; "
             f"credit runway: {runway(router, 'router' if decision['setup'] == 'router' else 'single_best')}",
             f"  pass rate {'-' if rate is None else f'{rate:.1%}'} (95% interval {low:.0%}-{high:.0%}, "
             f"{decision['cases']} cases); {per_1000(decision.get('cost_per_task_usd'))} per 1,000 tasks",
             f"  {decision['reason']}"]
    lines += [f"  {need['text']}" for need in decision.get("needs") or []]
    thin = [(category_name(c["category"]), c) for c in sizes["categories"] if c["too_few"]]
    thin += [(f"{names.get(p['a'], p['a'])} vs {names.get(p['b'], p['b'])}", p) for p in sizes["pairs"] if p["too_few"]]
    if thin:
        lines.append("  WARNING: too few cases to tell the models apart in "
                     + ", ".join(f"{what} ({c['cases']} cases, about {c['cases_needed']:,} needed)" for what, c in thin)
                     + ".")
    return lines


def _num(value) -> str:
    return "-" if value is None else f"{value:.0f}"
