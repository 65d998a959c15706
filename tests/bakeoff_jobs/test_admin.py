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
