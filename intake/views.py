"""Public views for founders: the intake form and the private status page."""
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from bakeoff_jobs.selectors import run_shared_with_founder
from matching.selectors import engagement_credits, engagement_for_founder, engagement_milestones

from .forms import IntakeForm
from .links import intake_for_status_token, status_path
from .services import intake_submit


def home(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        intake, _created = intake_submit(data=form.cleaned_data)
        return redirect(status_path(intake))
    return render(request, "intake/home.html", {"form": form}, status=400 if form.is_bound else 200)


def status(request: HttpRequest, token: str) -> HttpResponse:
    intake = intake_for_status_token(token)
    engagement = engagement_for_founder(intake_id=intake.id) if intake else None
    if engagement is None:
        raise Http404("No such status page.")
    verdicts = list(engagement.intake.verdicts.all())
    milestones = engagement_milestones(engagement)
    current = next((m.key for m in milestones if not m.done), None)
    shared_run = run_shared_with_founder(engagement)
    return render(
        request,
        "intake/status.html",
        {
            "intake": engagement.intake,
            "engagement": engagement,
            "verdicts": verdicts,
            "eligible": [v for v in verdicts if v.is_eligible],
            "history": list(engagement.history.all()),
            "milestones": milestones,
            "current_milestone": current,
            "credits": engagement_credits(engagement),
            "bakeoff": founder_bakeoff_summary(shared_run) if shared_run else None,
        },
    )


def founder_bakeoff_summary(run) -> dict:
    """What the founder sees of a bake-off the partner shared: per model quality, cost, monthly
    cost and runway, and the router advice; never the prompts, answers or partner notes."""
    report = run.report or {}
    names = {m["key"]: m["name"] for m in report.get("models", [])}
    router = report.get("router") or {}
    return {
        "run": run,
        "models": report.get("models", []),
        "router": router,
        "routes": [{**row, "model_name": names.get(row["model"], row["model"])} for row in router.get("by_category", [])],
        "single_best_name": names.get(router.get("single_best_model"), ""),
        "sandbox": report.get("sandbox", False),
    }
