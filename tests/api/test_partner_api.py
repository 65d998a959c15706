"""What partners and staff do through the API, end to end through the same services as the admin."""
from datetime import timedelta, timezone

import pytest

from bakeoff_jobs.models import BakeoffRun
from filing.models import AceStatusChange, CreditApplicationStatusChange

pytestmark = pytest.mark.django_db


def test_accepting_drafts_the_filings_and_a_second_accept_is_a_409(world):
    alice = world.client("alice")
    accepted = alice.post(f"/api/engagements/{world.matched_a.pk}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["ace_opportunity"] is not None
    again = alice.post(f"/api/engagements/{world.matched_a.pk}/accept/")
    assert again.status_code == 409
    assert again.json() == {"detail": "An engagement that is accepted cannot become accepted.", "fields": {}}


def test_declining_needs_a_reason_per_field(world):
    response = world.client("alice").post(f"/api/engagements/{world.matched_a.pk}/decline/", {}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {"reason": ["This field is required."]}


def test_lists_filter_and_paginate(world):
    alice = world.client("alice")
    matched = alice.get("/api/engagements/", {"status": "matched"}).json()
    assert [row["id"] for row in matched["results"]] == [world.matched_a.pk]
    assert set(matched) == {"count", "next", "previous", "results"}
    assert alice.get("/api/engagements/", {"status": "nonsense"}).status_code == 400
    assert alice.get("/api/engagements/", {"page": 9}).status_code == 404


def test_date_filters_take_real_time_zones_and_refuse_impossible_offsets(world):
    alice = world.client("alice")
    created = world.matched_a.created_at
    just_after = (created + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    listed = alice.get("/api/engagements/", {"created_before": just_after}).json()
    assert world.matched_a.pk in [row["id"] for row in listed["results"]]

    refused = alice.get("/api/engagements/", {"created_before": "0002-01-01T00:00:00+22:00"})
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"created_before": ["Time zone offset must be between -14:00 and +14:00."]}


def test_ace_draft_is_edited_submitted_then_frozen(world):
    alice = world.client("alice")
    url = f"/api/ace-opportunities/{world.engagement_a.ace_opportunity.pk}/"
    edited = alice.patch(url, {"next_steps": "Workshop on Monday", "delivery_models": ["SaaS or PaaS"]}, format="json")
    assert edited.status_code == 200 and edited.json()["next_steps"] == "Workshop on Monday"
    bad = alice.patch(url, {"delivery_models": ["Telepathy"]}, format="json")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["delivery_models.0"]
    submitted = alice.post(url + "submit/", {"partner_central_id": "O7654321"}, format="json")
    assert submitted.json()["review_status"] == "Submitted"
    assert submitted.json()["partner_central_id"] == "O7654321"
    frozen = alice.patch(url, {"next_steps": "too late"}, format="json")
    assert frozen.status_code == 409 and "only a draft can be edited" in frozen.json()["detail"]
    moved = alice.post(url + "record/", {"review_status": "Approved"}, format="json")
    assert moved.status_code == 200
    assert AceStatusChange.objects.filter(to_value="Approved", changed_by=world.alice).count() == 1


def test_ace_submission_reports_what_partner_central_would_refuse_per_field(world):
    alice = world.client("alice")
    url = f"/api/ace-opportunities/{world.engagement_a.ace_opportunity.pk}/"
    alice.patch(url, {"postal_code": "", "customer_business_problem": "too short"}, format="json")
    refused = alice.post(url + "submit/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "postal code": ["is required for customers in the US."],
        "customer business problem": ["must be 20 to 2000 characters."],
    }


def test_credit_application_is_submitted_and_approved_with_its_amount(world):
    alice = world.client("alice")
    url = f"/api/credit-applications/{world.engagement_a.credit_applications.get().pk}/"
    assert alice.patch(url, {"amount_requested": "30000.00"}, format="json").json()["amount_requested"] == "30000.00"
    assert alice.post(url + "submit/").json()["status"] == "IN_REVIEW"
    no_amount = alice.post(url + "record/", {"status": "APPROVED"}, format="json")
    assert no_amount.status_code == 409 and no_amount.json()["detail"] == "Enter the approved amount to record an approval."
    approved = alice.post(url + "record/", {"status": "APPROVED", "amount_approved": "25000.00"}, format="json")
    assert approved.json()["status"] == "APPROVED" and approved.json()["amount_approved"] == "25000.00"
    assert CreditApplicationStatusChange.objects.filter(to_status="APPROVED", changed_by=world.alice).exists()
    assert alice.patch(url, {"amount_requested": "1.00"}, format="json").status_code == 409


def test_bakeoff_launch_progress_report_and_cancel(world):
    alice = world.client("alice")
    launched = alice.post("/api/bakeoffs/", {"eval_set": world.eval_set_a.pk,
                                             "models": [m.model_id for m in world.models]}, format="json")
    assert launched.status_code == 201
    run = BakeoffRun.objects.get(pk=launched.json()["id"])
    assert run.partner == world.partner_a and run.total_pairs == 6
    progress = alice.get(f"/api/bakeoffs/{run.pk}/progress/").json()
    assert progress == {"status": "queued", "total": 6, "done": 0, "failed": 0, "remaining": 6, "finished": False}
    not_ready = alice.get(f"/api/bakeoffs/{run.pk}/report/")
    assert not_ready.status_code == 409 and "not ready" in not_ready.json()["detail"]
    assert alice.post(f"/api/bakeoffs/{run.pk}/cancel/").json()["status"] == "cancelled"
    assert alice.post(f"/api/bakeoffs/{run.pk}/cancel/").status_code == 409
    report = alice.get(f"/api/bakeoffs/{world.finished_a.pk}/report/").json()
    assert report == {"id": world.finished_a.pk, "status": "finished", "report": {"models": []}}


def test_bakeoff_launch_names_the_field_it_refuses(world):
    response = world.client("alice").post(
        "/api/bakeoffs/", {"eval_set": world.eval_set_a.pk, "models": ["no.such-model", "other"]}, format="json"
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["models"]


def test_staff_see_pools_partners_and_pipeline_figures(world):
    staff = world.client("staff")
    partners = staff.get("/api/staff/partners/").json()["results"]
    assert {p["name"]: p["open_engagements"] for p in partners} == {"Alpha Cloud": 2, "Beta Systems": 1}
    assert [p["slug"] for p in staff.get("/api/staff/pools/").json()["results"]] == ["bedrock-poc"]
    figures = staff.get("/api/staff/pipeline/", {"partner": world.partner_a.pk}).json()
    assert [s["key"] for s in figures["funnel"]][:2] == ["intake", "matched"]
    assert figures["funnel"][0]["count"] == 2
    assert staff.get("/api/staff/pipeline/", {"date_from": "not a date"}).json()["fields"]["date_from"]


def test_bakeoff_launch_as_batch_or_a_refusal_on_the_batch_field(world, settings):
    alice = world.client("alice")
    body = {"eval_set": world.eval_set_a.pk, "models": [m.model_id for m in world.models], "batch": True}
    refused = alice.post("/api/bakeoffs/", body, format="json")
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["batch"]
    assert "at least" in refused.json()["fields"]["batch"][0]
    settings.BAKEOFF_BATCH_MIN_RECORDS = 1
    launched = alice.post("/api/bakeoffs/", body, format="json")
    assert launched.status_code == 201 and launched.json()["mode"] == "batch"
