"""Public views for founders: the intake form and the private status page. They sit above matching
and bakeoff_jobs: the form stores the intake (intake.services), the status page shows the verdicts,
the partner, the credits and the bake-off the partner shared."""
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from bakeoff_jobs.selectors import engagement_spend_projection, run_shared_with_founder
from filing.selectors import engagement_credits, engagement_milestones, intakes_for_founder_status
from intake.forms import IntakeForm, new_submission_key
from intake.links import LinkState, status_link_check, status_path
from intake.services import intake_receive
from matching.intake_flow import status_link_resend
from matching.selectors import engagement_partner_contact


def home(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = IntakeForm(initial={"submission_key": new_submission_key()})
        return render(request, "portal/home.html", {"form": form})
    form = IntakeForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/home.html", {"form": form}, status=400)
    data = dict(form.cleaned_data)
    key = data.pop("submission_key", "") or ""
    try:
        intake, created = intake_receive(data=data, form_submission_key=key)
    except ValidationError as exc:  # the model's last word (after the service's tidying)
        form.add_error(None, exc)
        return render(request, "portal/home.html", {"form": form}, status=400)
    if created or (key and secrets.compare_digest(key, intake.form_submission_key)):
        return redirect(status_path(intake))
    # Same company and email from another page: the private link went to that inbox, not here.
    return render(request, "portal/already_received.html", {"intake": intake}, status=409)


def status(request: HttpRequest, token: str) -> HttpResponse:
    check = status_link_check(token, queryset=intakes_for_founder_status())
    if check.state is LinkState.INVALID:
        raise Http404("No such status page.")
    if check.state is not LinkState.VALID:
        return _dead_link(request, check)
    if request.method != "GET" and request.method != "HEAD":
        return HttpResponseNotAllowed(["GET", "HEAD"])
    intake = check.intake
    engagement = intake.engagement_or_none
    if engagement is None:
        # A worker is still working out the verdicts and the partner: the page reloads itself.
        return render(request, "portal/status_waiting.html", {"intake": intake, "refresh_seconds": 2})
    verdicts = list(engagement.intake.verdicts.all())
    milestones = engagement_milestones(engagement)
    current = next((m.key for m in milestones if not m.done), None)
    shared_run = run_shared_with_founder(engagement)
    return render(
        request,
        "portal/status.html",
        {
            "intake": engagement.intake,
            "engagement": engagement,
            "verdicts": verdicts,
            "eligible": [v for v in verdicts if v.is_eligible],
            "history": list(engagement.history.all()),
            "milestones": milestones,
            "current_milestone": current,
            "credits": engagement_credits(engagement),
            "partner_contact": engagement_partner_contact(engagement),
            "bakeoff": founder_bakeoff_summary(shared_run) if shared_run else None,
            "spend": engagement_spend_projection(engagement),
        },
    )


def _dead_link(request: HttpRequest, check) -> HttpResponse:
    """410 for an expired or rotated link, with how to get a new one. On an expired link the
    founder may ask for a fresh one, mailed to the intake's address only."""
    expired = check.state is LinkState.EXPIRED
    sent = too_soon = False
    if expired and request.method == "POST":
        sent = status_link_resend(intake=check.intake)
        too_soon = not sent
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    context = {"expired": expired, "sent": sent, "too_soon": too_soon,
               "max_age_days": settings.STATUS_LINK_MAX_AGE_DAYS}
    return render(request, "portal/status_link_dead.html", context, status=410)


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
        "recommendation": report.get("recommendation"),
    }
