"""Staff pages: the pipeline dashboard (funnel, stage medians, commission) and its CSV export."""
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cloudroute.exports import csv_writer

from . import pipeline
from .admin_scoping import cloudroute_staff_required
from .models import CreditPool, Partner

CHART_WIDTH = 480  # px for 100% of intakes
BAR_HEIGHT = 28
BAR_GAP = 10
LABEL_WIDTH = 150


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


def _chart(funnel: list[pipeline.FunnelStage]) -> dict:
    top = max((stage.count for stage in funnel), default=0) or 1
    bars = []
    for i, stage in enumerate(funnel):
        y = i * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            {
                "label": stage.label,
                "count": stage.count,
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
            "chart": _chart(summary.funnel),
            "chart_description": description,
            "query": request.GET.urlencode(),
        },
    )


@cloudroute_staff_required
def pipeline_csv(request: HttpRequest) -> HttpResponse:
    form = PipelineFilterForm(request.GET or None)
    rows = pipeline.pipeline_rows(form.filters())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pipeline.csv"'
    writer = csv_writer(response)  # company names are typed by founders
    writer.writerow(pipeline.ROW_COLUMNS)
    for row in rows:
        writer.writerow(
            ["" if row[c] is None else row[c].isoformat() if hasattr(row[c], "isoformat") else row[c]
             for c in pipeline.ROW_COLUMNS]
        )
    return response
