"""Public views for founders: the intake form and the private status page."""
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from matching.selectors import engagement_for_founder

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
    return render(
        request,
        "intake/status.html",
        {
            "intake": engagement.intake,
            "engagement": engagement,
            "verdicts": verdicts,
            "eligible": [v for v in verdicts if v.is_eligible],
            "history": list(engagement.history.all()),
        },
    )
