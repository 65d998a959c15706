"""Staff pages: the pipeline dashboard (unmatched queue, funnel, stage medians, per-partner figures,
commission), the engagements behind each funnel stage, and the CSV export."""
from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from core.exports import csv_writer
from intake.models import Stage
from matching.admin_scoping import cloudroute_staff_required
from matching.models import CreditPool, EngagementStatus, Partner

from . import pipeline

CHART_WIDTH = 480  # px for 100% of intakes
BAR_HEIGHT = 28
BAR_GAP = 10
LABEL_WIDTH = 150
STAGE_PAGE_SIZE = 25


class PipelineFilterForm(forms.Form):
    # "from" is a keyword, so the field is added under its query-string name below.
    to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    partner = forms.ModelChoiceField(Partner.objects.all(), required=False, empty_label="All partners")
    pool = forms.ModelChoiceField(CreditPool.objects.all(), required=False, empty_label="All pools")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "from": forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})),
            **self.fields,
        }

    def filters(self) -> pipeline.PipelineFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return pipeline.PipelineFilters(
            date_from=data.get("from"),
            date_to=data.get("to"),
            partner_id=data["partner"].pk if data.get("partner") else None,
            pool_id=data["pool"].pk if data.get("pool") else None,
        )


def _filter_query(request: HttpRequest, drop: tuple[str, ...] = (), **extra) -> str:
    """The dashboard's filters as a query string, with `extra` set and the page number (and `drop`) left out."""
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    for key, value in extra.items():
        query[key] = value
    return query.urlencode()


def _stage_url(request: HttpRequest, stage: str) -> str:
    return f"{reverse('staff:engagements')}?{_filter_query(request, stage=stage)}"


def _chart(funnel: list[pipeline.FunnelStage], request: HttpRequest) -> dict:
    top = max((stage.count for stage in funnel), default=0) or 1
    bars = []
    for i, stage in enumerate(funnel):
        y = i * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            {
                "label": stage.label,
                "count": stage.count,
                "url": _stage_url(request, stage.key),
                "y": y,
                "text_y": y + BAR_HEIGHT * 2 // 3,
                "width": round(CHART_WIDTH * stage.count / top),
                "value_x": LABEL_WIDTH + round(CHART_WIDTH * stage.count / top) + 6,
            }
        )
    return {
        "bars": bars,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "width": LABEL_WIDTH + CHART_WIDTH + 60,
        "height": len(funnel) * (BAR_HEIGHT + BAR_GAP),
    }


@cloudroute_staff_required
def pipeline_dashboard(request: HttpRequest) -> HttpResponse:
    form = PipelineFilterForm(request.GET or None)
    summary = pipeline.pipeline_summary(form.filters())
    description = ", ".join(f"{s.label}: {s.count}" for s in summary.funnel)
    return render(
        request,
        "matching/pipeline.html",
        {
            "form": form,
            "summary": summary,
            "stages": [(stage, _stage_url(request, stage.key)) for stage in summary.funnel],
            "chart": _chart(summary.funnel, request),
            "chart_description": description,
            "query": request.GET.urlencode(),
        },
    )


@cloudroute_staff_required
def stage_engagements(request: HttpRequest) -> HttpResponse:
    """The intakes behind one funnel stage (the dashboard's filters apply), paginated."""
    form = PipelineFilterForm(request.GET or None)
    stage = request.GET.get("stage") or pipeline.STAGE_KEYS[0]
    if stage not in pipeline.STAGE_KEYS:
        return render(
            request, "matching/stage_engagements.html",
            {"form": form, "error": f"Unknown stage {stage!r}: choose one of the funnel's stages.",
             "stages": [(key, label, _stage_url(request, key)) for key, label in pipeline.FUNNEL]},
            status=400,
        )
    paginator = Paginator(pipeline.stage_rows(form.filters(), stage), STAGE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "matching/stage_engagements.html",
        {
            "form": form,
            "stage": stage,
            "stage_label": pipeline.STAGE_LABELS[stage],
            "stages": [(key, label, _stage_url(request, key)) for key, label in pipeline.FUNNEL],
            "page": page,
            "rows": [
                {**row, "reached_at": row[f"{stage}_at"],
                 "stage": Stage(row["stage"]).label if row["stage"] in Stage.values else row["stage"],
                 "engagement_status": (EngagementStatus(row["engagement_status"]).label
                                       if row["engagement_status"] in EngagementStatus.values else "")}
                for row in pipeline.rows_finish(page.object_list)
            ],
            "page_query": _filter_query(request),
            "dashboard_query": _filter_query(request, drop=("stage",)),
        },
    )


@cloudroute_staff_required
def pipeline_csv(request: HttpRequest) -> HttpResponse:
    form = PipelineFilterForm(request.GET or None)
    rows = pipeline.pipeline_rows(form.filters())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pipeline.csv"'
    writer = csv_writer(response)  # company names are typed by founders
    writer.writerow(pipeline.CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            ["" if row[c] is None else row[c].isoformat() if hasattr(row[c], "isoformat") else row[c]
             for c in pipeline.CSV_COLUMNS]
        )
    return response
