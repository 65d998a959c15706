"""An inline is no ModelAdmin of the scoping mixin, so its record fields would offer every firm's
rows. The scoped admin puts the same scoping into every inline it shows: an editable inline added
tomorrow offers a partner only its own firm's rows."""
from django.contrib import admin
from django.test import RequestFactory

from bakeoff_jobs import services as bakeoff
from bakeoff_jobs.models import BakeoffRun
from matching.admin import EngagementAdmin
from matching.models import Engagement


class EditableRunInline(admin.TabularInline):
    """A stand-in for an editable inline with a record field (a run's eval set)."""

    model = BakeoffRun
    fk_name = "engagement"
    fields = ("eval_set",)
    extra = 1


def eval_set_choices(user, engagement):
    model_admin = type("EngagementWithRuns", (EngagementAdmin,),
                       {"inlines": [EditableRunInline], "partner_inlines": [EditableRunInline]})(Engagement, admin.site)
    request = RequestFactory().get("/")
    request.user = user
    (inline,) = [i for i in model_admin.get_inline_instances(request, engagement) if i.model is BakeoffRun]
    formset = inline.get_formset(request, engagement)
    return {str(eval_set) for eval_set in formset.form.base_fields["eval_set"].queryset}


def test_an_inlines_record_field_offers_a_partner_only_its_firms_rows(firms):
    bakeoff.evalset_upload(name="bravo private evals", filename="b.jsonl", engagement=None, owner=firms["charlie"],
                           partner=firms["bravo"],
                           data=b'{"prompt": "say Paris", "expected": "Paris", "scorer": "contains"}\n')
    choices = eval_set_choices(firms["alice"], firms["engagement"])
    assert any("zebracorn evals" in c for c in choices)
    assert not any("bravo private" in c for c in choices)


def test_staff_inlines_offer_every_row(firms):
    from tests.factories import StaffUserFactory

    bakeoff.evalset_upload(name="bravo private evals", filename="b.jsonl", engagement=None, owner=firms["charlie"],
                           partner=firms["bravo"],
                           data=b'{"prompt": "say Paris", "expected": "Paris", "scorer": "contains"}\n')
    choices = eval_set_choices(StaffUserFactory(is_superuser=True), firms["engagement"])
    assert any("bravo private" in c for c in choices) and any("zebracorn evals" in c for c in choices)
