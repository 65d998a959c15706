"""The bake-off admin pages render for staff and show a run's frozen prices and report."""
import pytest
from django.contrib.auth import get_user_model

from bakeoff_jobs import services
from bakeoff_jobs.models import BakeoffRun

from .factories import claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db


def test_staff_read_a_run_with_its_prices_and_report(client):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[claude_haiku_45(), llama_8b()])
    BakeoffRun.objects.filter(pk=run.pk).update(report={"sandbox": True, "models": []})
    page = client.get(f"/admin/bakeoff_jobs/bakeoffrun/{run.pk}/change/")
    assert page.status_code == 200
    assert b"us.anthropic.claude-haiku-4-5-20251001-v1:0" in page.content and b"1.100000" in page.content
    assert b"&quot;sandbox&quot;: true" in page.content
    for url in ("bakeoffrun", "catalogmodel", "evalset", "bakeoffresult"):
        assert client.get(f"/admin/bakeoff_jobs/{url}/").status_code == 200


def test_admin_cancel_action_cancels_the_run(client):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(1), models=[claude_haiku_45(), llama_8b()])
    client.post("/admin/bakeoff_jobs/bakeoffrun/", {"action": "cancel_runs", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.status == "cancelled"


def _catalog_form(client, model):
    page = client.get(f"/admin/bakeoff_jobs/catalogmodel/{model.pk}/change/")
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = "on" if value is True else ("" if value is False else value)
        if value is False:
            data.pop(name)
    for prefix in ("profiles", "changes", "custom"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def test_a_price_edit_needs_its_effective_date_is_kept_in_history_and_leaves_runs_alone(client):
    import datetime as dt
    from decimal import Decimal

    from bakeoff_jobs.catalog_models import CatalogChange, CatalogModel
    from bakeoff_jobs.models import RunModel

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    haiku = claude_haiku_45()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[haiku, llama_8b()])
    url = f"/admin/bakeoff_jobs/catalogmodel/{haiku.pk}/change/"
    data = _catalog_form(client, haiku)

    refused = client.post(url, {**data, "input_per_1m": "0.80"})
    assert refused.status_code == 200 and "give the date the new prices take effect" in refused.content.decode()
    assert CatalogModel.objects.get(pk=haiku.pk).input_per_1m == Decimal("1.00")

    saved = client.post(url, {**data, "input_per_1m": "0.80", "effective_date": "2026-12-01"})
    assert saved.status_code == 302
    change = CatalogChange.objects.get(catalog_model=haiku, source="staff")
    assert change.changes["input_per_1m"] == ["1", "0.8"]
    assert change.changes["effective_date"] == ["2025-11-01", "2026-12-01"] and change.changed_by == admin_user
    frozen = RunModel.objects.get(run=run, catalog_model=haiku)
    assert (frozen.input_per_1m, frozen.prices_effective_date) == (Decimal("1.100000"), dt.date(2025, 11, 1))
