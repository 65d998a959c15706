"""The partner's bake-off pages: upload an eval set, launch a run after seeing its cost estimate,
watch its progress, read its report (charts, router, per-case answers) and export it. Every page is
scoped to the login's firm: another firm's run is not found."""
import hashlib
import json
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exports import csv_writer
from core.inputs import query_int
from matching.admin_scoping import partner_or_staff_required, permission_require
from matching.roles import partner_of
from matching.selectors import engagements_visible_to

from . import charts, estimates, picker, recommendation, selectors, services
from .forms import EvalSetUploadForm, LaunchForm
from .model_data import lifecycle_note
from .catalog_models import Lifecycle
from .models import BakeoffRun, RunStatus
from .templatetags.bakeoff_format import runway

CASES_PER_PAGE = 20


def _visible_run(request: HttpRequest, pk: int) -> BakeoffRun:
    return get_object_or_404(selectors.runs_visible_to(request), pk=pk)


@partner_or_staff_required
def evalset_upload(request: HttpRequest) -> HttpResponse:
    permission_require(request, "bakeoff_jobs.add_evalset")
    initial = {"engagement": request.GET["engagement"]} if request.GET.get("engagement", "").isdigit() else None
    form = EvalSetUploadForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        fields = {"name": form.cleaned_data["name"], "data": upload.read(), "filename": upload.name,
                  "engagement": form.cleaned_data["engagement"], "owner": request.user,
                  "partner": _login_partner(request)}
        token = request.POST.get("upload_token", "")[:64]
        try:
            # The page's token: the same page sent twice (a double click) stores one eval set.
            eval_set = (services.evalset_upload_once(token=token, **fields) if token
                        else services.evalset_upload(**fields))
        except services.EvalSetInvalid as exc:
            for error in exc.errors[:20]:
                form.add_error("file", f"Line {error.line}: {error.message}")
            if len(exc.errors) > 20:
                form.add_error("file", f"… and {len(exc.errors) - 20} more bad rows. Nothing was stored.")
        except services.BakeoffError as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else "file", errors)
        else:
            if eval_set is None:
                messages.info(request, "This eval set is still being stored: it appears in the list in a moment.")
                return redirect("bakeoffs:launch")
            messages.success(request, f"Uploaded “{eval_set.name}” with {eval_set.case_count} cases.")
            return redirect(f"{reverse('bakeoffs:launch')}?eval_set={eval_set.pk}")
    return render(request, "bakeoff_jobs/upload.html", {"form": form, "upload_token": uuid.uuid4().hex},
                  status=400 if form.errors else 200)


def _login_partner(request: HttpRequest):
    return partner_of(request)


@partner_or_staff_required
def launch(request: HttpRequest) -> HttpResponse:
    """Pick the eval set, models and settings; the first POST shows the estimate, the second launches."""
    permission_require(request, "bakeoff_jobs.add_bakeoffrun")
    data = request.POST if request.method == "POST" else None
    engagement, eval_set = _launch_for(request)
    initial = {}
    if eval_set is not None:
        initial["eval_set"] = eval_set.pk
    if engagement is not None:
        initial["models"] = [str(m.pk) for m in picker.models_of_interest(engagement.intake.models_of_interest)]
    form = LaunchForm(data, initial=initial, user=request.user)
    estimate = None
    settings_changed = False
    if data is not None and form.is_valid():
        models = list(form.cleaned_data["models"])
        key = _estimate_key(form.cleaned_data)
        # Launch only what the partner saw the estimate for: if the settings were changed after the
        # estimate (without Recalculate), show the new estimate and ask again.
        settings_changed = "confirm" in request.POST and request.POST.get("estimate_of") != key
        if "confirm" in request.POST and not settings_changed:
            launch = {"eval_set": form.cleaned_data["eval_set"], "models": models,
                      "max_tokens": form.cleaned_data["max_tokens"], "temperature": form.cleaned_data["temperature"],
                      "created_by": request.user, "partner": _login_partner(request),
                      "batch": form.cleaned_data["batch"]}
            token = request.POST.get("launch_token", "")[:64]
            try:
                # The estimate page's token: a second click or a resent form shows the same run.
                run = (services.bakeoff_launch_once(token=token, **launch) if token
                       else services.bakeoff_launch(**launch))
            except services.BakeoffError as exc:
                form.add_error(None, str(exc))
            else:
                if run is None:
                    messages.info(request, "This bake-off is still being launched: it appears in the list "
                                           "in a moment.")
                    return redirect("admin:bakeoff_jobs_bakeoffrun_changelist")
                return redirect("bakeoffs:report", pk=run.pk)
        estimate = estimates.bakeoff_estimate(
            eval_set=form.cleaned_data["eval_set"], models=models, max_tokens=form.cleaned_data["max_tokens"])
        names = {m.model_id: m.name for m in models}
        estimate_rows = [{"name": names[m.model_id], "invoked_id": m.invoked_id, "expected": m.expected_usd,
                          "upper": m.upper_bound_usd, "self_hosted": m.self_hosted,
                          "capacity_note": m.capacity_note} for m in estimate.models]
        legacy = [{"name": m.name, "note": lifecycle_note(m.model.lifecycle_on())} for m in models
                  if m.model.lifecycle_on()["status"] == Lifecycle.LEGACY]
        estimate = {"total": estimate, "rows": estimate_rows, "key": key, "settings_changed": settings_changed,
                    "launch_token": uuid.uuid4().hex,
                    "legacy": legacy,
                    "batch_usd": estimates.batch_estimate_usd(estimate, models) if form.cleaned_data["batch"] else None}
    context = {"form": form, "estimate": estimate, "engagement": engagement, "preselected": initial.get("models", []),
               "groups": _picker_rows(form),
               "needs": picker.need_suggestions(engagement.intake if engagement is not None else None),
               "can_register": request.user.has_perm("bakeoff_jobs.add_catalogmodel")}
    return render(request, "bakeoff_jobs/launch.html", context, status=400 if form.errors else 200)


def _launch_for(request: HttpRequest):
    """The engagement the launch page is opened for (?engagement=, or the ?eval_set='s), and the eval
    set to start from: the one asked for, else the engagement's newest. Another firm's ids are
    ignored, as if not given."""
    eval_sets, engagements = selectors.eval_sets_visible_to(request), engagements_visible_to(request)
    eval_set = engagement = None
    if request.GET.get("eval_set", "").isdigit():
        eval_set = eval_sets.filter(pk=request.GET["eval_set"]).first()
        if eval_set is not None and eval_set.engagement_id:  # still the firm's (a declined one moved on)
            engagement = engagements.filter(pk=eval_set.engagement_id).first()
    if engagement is None and request.GET.get("engagement", "").isdigit():
        engagement = engagements.filter(pk=request.GET["engagement"]).first()
        if engagement is not None and eval_set is None:
            eval_set = eval_sets.filter(engagement=engagement).order_by("-created_at", "-pk").first()
    return engagement, eval_set


def _picker_rows(form: LaunchForm) -> list[dict]:
    """The picker's groups, each row with its checkbox (the form's own subwidget, so a bound form
    keeps what was ticked)."""
    boxes = {str(box.data["value"]): box for box in form["models"]}
    return [{"group": group, "rows": [{"row": row, "box": boxes.get(row.value)} for row in group.rows
                                      if row.value in boxes]}
            for group in picker.picker_groups(form.user)]


def _estimate_key(cleaned: dict) -> str:
    """Names the settings an estimate was made for (eval set, models, max tokens, temperature)."""
    settings_shown = [cleaned["eval_set"].pk, sorted(m.invoked_id for m in cleaned["models"]), cleaned["max_tokens"],
                      str(cleaned["temperature"])] + (["batch"] if cleaned.get("batch") else [])
    return hashlib.sha256(json.dumps(settings_shown).encode()).hexdigest()[:32]


def _progress_payload(run: BakeoffRun) -> dict:
    progress = selectors.run_progress(run_id=run.pk)
    settled = progress.done + progress.failed
    return {
        "status": progress.status,
        "status_label": RunStatus(progress.status).label,
        "total": progress.total,
        "done": progress.done,
        "failed": progress.failed,
        "remaining": progress.remaining,
        "percent": round(100 * settled / progress.total) if progress.total else 0,
        "finished": progress.finished,
    }


@partner_or_staff_required
def progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = _visible_run(request, pk)
    response = JsonResponse(_progress_payload(run))
    response["Cache-Control"] = "no-store"
    return response


@partner_or_staff_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    data = run.report or {}
    models = data.get("models", [])
    names = {m["key"]: m["name"] for m in models}
    if not names:
        names = {rm.catalog_model.model_id: rm.catalog_model.name for rm in selectors.run_candidates(run)}
    offset = query_int(request.GET, "cases", default=0)
    only_mixed = request.GET.get("mixed") == "1"
    case_rows, case_total = selectors.run_case_rows(run, offset=offset, limit=CASES_PER_PAGE,
                                                    only_disagreements=only_mixed)
    context = {
        "run": run,
        "progress": _progress_payload(run),
        "report": data,
        "models": models,
        "hosted_models": [m for m in models if m.get("hosting")],
        "names": names,
        "candidates": selectors.run_candidates(run),
        **_decision_context(data, names),
        "cost_chart": charts.cost_quality_chart(models),
        "cost_chart_phone": charts.cost_quality_chart(models, width=charts.PHONE_WIDTH),
        **_latency_charts(run, names),
        "case_rows": case_rows,
        "case_total": case_total,
        "case_offset": offset,
        "case_next": offset + CASES_PER_PAGE if offset + CASES_PER_PAGE < case_total else None,
        "case_prev": max(offset - CASES_PER_PAGE, 0) if offset else None,
        "case_last": min(offset + CASES_PER_PAGE, case_total),
        "only_mixed": only_mixed,
        "can_cancel": run.is_active and request.user.has_perm("bakeoff_jobs.change_bakeoffrun"),
        "can_share": run.status == RunStatus.FINISHED and run.engagement_id is not None
        and request.user.has_perm("bakeoff_jobs.change_bakeoffrun"),
    }
    return render(request, "bakeoff_jobs/report.html", context)


def _latency_charts(run: BakeoffRun, names: dict) -> dict:
    latencies = selectors.run_latencies(run) if run.report else {}
    return {"latency_chart": charts.latency_chart(latencies, names),
            "latency_chart_phone": charts.latency_chart(latencies, names, width=charts.PHONE_WIDTH)}


def _decision_context(data: dict, names: dict) -> dict:
    """The recommendation the report leads with and the small-sample notes beside the router and
    the pairwise tests (computed from the figures for a report stored before they were kept)."""
    if not data:
        return {"router": None, "pairwise": [], "decision": None, "thin_categories": [], "thin_pairs": []}
    sizes = data.get("sample_size") or recommendation.sample_size(data)
    decision = data.get("recommendation")
    if decision is None and "recommendation" not in data:
        decision = recommendation.recommendation(data, sizes)
    router = data.get("router")
    if router:
        router = {**router, "by_category": [{**row, **size} for row, size in
                                            zip(router.get("by_category") or [], sizes["categories"])]}
    pairwise = [{**p, **size, "a_name": names.get(p["a"], p["a"]), "b_name": names.get(p["b"], p["b"])}
                for p, size in zip(data.get("pairwise") or [], sizes["pairs"])]
    if decision:
        variant = "router" if decision["setup"] == "router" else "single_best"
        decision = {**decision, "runway": runway(router, variant),
                    "names": [names.get(key, key) for key in decision["models"]],
                    "routes": [row for row in (router or {}).get("by_category", [])]
                    if decision["setup"] == "router" else []}
    return {
        "router": router,
        "pairwise": pairwise,
        "decision": decision,
        "thin_categories": [row for row in (router or {}).get("by_category", []) if row.get("too_few")],
        "thin_pairs": [p for p in pairwise if p.get("too_few")],
    }


@partner_or_staff_required
def report_json(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    if not run.report:
        return JsonResponse({"detail": "The report is not ready yet.", **_progress_payload(run)}, status=409)
    response = HttpResponse(json.dumps(run.report, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="bakeoff-{run.pk}-report.json"'
    return response


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = ["case_line", "case_id", "category", "scorer", "model", "invoked_id", "role", "status", "passed", "score",
              "latency_ms", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "attempts",
              "error_code", "output", "score_detail"]


@partner_or_staff_required
def results_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    run = _visible_run(request, pk)
    writer = csv_writer(_Echo())  # case ids, categories and answers are the uploader's or a model's text
    rows = (writer.writerow(row) for row in [CSV_HEADER, *selectors.run_result_rows(run)])
    response = StreamingHttpResponse(rows, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="bakeoff-{run.pk}-results.csv"'
    return response


@partner_or_staff_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    permission_require(request, "bakeoff_jobs.change_bakeoffrun")
    if services.bakeoff_cancel(run=run, by=request.user, reason="cancelled from the report page"):
        messages.success(request, "The bake-off is cancelled; answers already in are kept.")
    else:
        messages.info(request, "The bake-off had already stopped.")
    return redirect("bakeoffs:report", pk=run.pk)


@partner_or_staff_required
@require_POST
def share(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    permission_require(request, "bakeoff_jobs.change_bakeoffrun")
    shared = request.POST.get("shared") == "1"
    try:
        services.bakeoff_share(run=run, shared=shared, by=request.user)
    except services.BakeoffError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The founder now sees this summary on their status page." if shared
                         else "The summary is no longer shown to the founder.")
    return redirect("bakeoffs:report", pk=run.pk)
