"""The partner's workspace: the firm's engagements (the partner's home) and, per engagement, the
founder's contact and workload, the pools and expected credits, Accept / Decline, the ACE draft as
a guided form with its readiness checklist, the credit applications and the bake-offs. Every page
asks matching.roles: a partner sees only the firm's engagements (another firm's id is a 404), staff
see all, logins with no role get 403. State changes go through matching.services and filing.ace."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bakeoff_jobs import picker
from bakeoff_jobs.selectors import eval_sets_visible_to, runs_visible_to
from filing import ace as filing_ace
from filing.ace_form import AceDraftForm, ace_readiness
from filing.errors import FilingError
from filing.selectors import engagement_credits, engagement_filing_moves, engagement_workspace
from matching import services
from matching.admin_scoping import partner_or_staff_required, permission_require
from matching.models import Engagement
from matching.models.engagements import EngagementStatus
from matching.selectors import engagement_history_visible_to, engagements_visible_to

from .forms import DeclineForm

ACTIVE = (EngagementStatus.ACCEPTED, EngagementStatus.IN_PROGRESS)


def _engagement(request: HttpRequest, pk: int) -> Engagement:
    engagement = engagement_workspace(request, pk)
    if engagement is None:
        raise Http404("No such engagement.")
    return engagement


# Rows a section of the partner's home shows at once; each section pages on its own.
SECTION_PAGE_SIZE = 50


def _section(request: HttpRequest, statuses, param: str):
    """One section of the home: every engagement in `statuses` the login may see, newest first, a
    page at a time (?<param>=n), counted in full: an old match still waiting is never cut off by
    newer closed ones."""
    rows = engagements_visible_to(request).filter(status__in=statuses).order_by("-created_at", "-pk")
    return {"page": Paginator(rows, SECTION_PAGE_SIZE).get_page(request.GET.get(param)), "param": param}


@partner_or_staff_required
def home(request: HttpRequest) -> HttpResponse:
    other = [s for s in EngagementStatus.values if s != EngagementStatus.MATCHED and s not in ACTIVE]
    return render(request, "portal/workspace_home.html", {
        "waiting": _section(request, [EngagementStatus.MATCHED], "waiting_page"),
        "active": _section(request, ACTIVE, "active_page"),
        "other": _section(request, other, "other_page"),
    })


def _timeline(request: HttpRequest, engagement: Engagement) -> list[dict]:
    """The engagement's moves the login may read (never another firm's tenure) and its filings' moves
    (ACE, credit applications), oldest first."""
    moves = [{"at": h.changed_at, "what": h.get_to_status_display(), "reason": h.reason}
             for h in engagement_history_visible_to(request).filter(engagement=engagement)]
    moves += [{"at": m.at, "what": m.what, "reason": m.reason} for m in engagement_filing_moves(engagement)]
    return sorted(moves, key=lambda move: move["at"])


def _detail_context(request: HttpRequest, engagement: Engagement, decline_form: DeclineForm | None = None) -> dict:
    intake = engagement.intake
    opportunity = getattr(engagement, "ace_opportunity", None)
    verdicts = list(intake.verdicts.all())
    return {
        "engagement": engagement,
        "intake": intake,
        "eligible": [v for v in verdicts if v.is_eligible],
        "credits": engagement_credits(engagement),
        "history": _timeline(request, engagement),
        "opportunity": opportunity,
        "readiness": ace_readiness(opportunity) if opportunity is not None else [],
        "applications": list(engagement.credit_applications.all()),
        "runs": list(runs_visible_to(request).filter(engagement=engagement).order_by("-created_at")[:50]),
        "eval_sets": list(eval_sets_visible_to(request).filter(engagement=engagement).order_by("-created_at")[:50]),
        "models_of_interest": picker.models_of_interest(intake.models_of_interest),
        "is_active": engagement.status in ACTIVE,
        "can_decide": engagement.status == EngagementStatus.MATCHED
        and request.user.has_perm("matching.change_engagement"),
        "can_launch": engagement.status in ACTIVE and request.user.has_perm("bakeoff_jobs.add_bakeoffrun"),
        "decline_form": decline_form or DeclineForm(),
    }


@partner_or_staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    return render(request, "portal/workspace.html", _detail_context(request, engagement))


@partner_or_staff_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    permission_require(request, "matching.change_engagement")
    try:
        services.engagement_accept(engagement=engagement, by=request.user)
    except services.MatchingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You accepted {engagement.intake.company_name}. The ACE draft and the credit "
                                  "applications are ready below.")
    return redirect("workspace:detail", pk=engagement.pk)


@partner_or_staff_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    permission_require(request, "matching.change_engagement")
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/workspace.html", _detail_context(request, engagement, form), status=400)
    try:
        services.engagement_decline(engagement=engagement, by=request.user, reason=form.cleaned_data["reason"])
    except services.MatchingError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:detail", pk=engagement.pk)
    messages.success(request, f"You declined {engagement.intake.company_name}; CloudRoute matches it with another "
                              "partner.")
    if engagement_workspace(request, engagement.pk) is None:
        return redirect("workspace:home")  # it went to another firm
    return redirect("workspace:detail", pk=engagement.pk)


@partner_or_staff_required
def ace(request: HttpRequest, pk: int) -> HttpResponse:
    """The ACE draft as a guided form; read-only (no Save button) once it left the draft statuses."""
    engagement = _engagement(request, pk)
    opportunity = getattr(engagement, "ace_opportunity", None)
    if opportunity is None:
        messages.info(request, "The ACE draft is prepared when you accept the engagement.")
        return redirect("workspace:detail", pk=engagement.pk)
    is_draft = filing_ace.ace_is_draft(opportunity)
    editable = is_draft and request.user.has_perm("filing.change_aceopportunity")
    form = AceDraftForm(request.POST if request.method == "POST" else None, instance=opportunity)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                filing_ace.ace_opportunity_update(opportunity=opportunity, fields=fields, by=request.user)
            except FilingError as exc:
                messages.error(request, str(exc))
            else:
                opportunity.refresh_from_db()
                left = ace_readiness(opportunity)
                messages.success(request, "Saved the ACE draft." + (
                    f" {len(left)} thing{'s' if len(left) != 1 else ''} left before it can be submitted."
                    if left else " It is ready to submit."))
                return redirect("workspace:ace", pk=engagement.pk)
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "portal/workspace_ace.html", {
        "engagement": engagement, "opportunity": opportunity, "form": form, "editable": editable, "is_draft": is_draft,
        "readiness": ace_readiness(opportunity),
    }, status=400 if form.errors else 200)


@partner_or_staff_required
@require_POST
def ace_submit(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    permission_require(request, "filing.change_aceopportunity")
    opportunity = getattr(engagement, "ace_opportunity", None)
    if opportunity is None:
        raise Http404("No ACE draft yet.")
    try:
        filing_ace.ace_opportunity_submit(opportunity=opportunity, by=request.user)
    except FilingError as exc:
        messages.error(request, str(exc))
        return redirect("workspace:ace", pk=engagement.pk)
    messages.success(request, "The ACE opportunity is submitted.")
    return redirect("workspace:detail", pk=engagement.pk)
