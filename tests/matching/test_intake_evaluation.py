"""A received intake is evaluated by a worker: once, however often its task arrives, and never lost
when the task is (the periodic sweep queues it again)."""
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import Intake
from intake.services import intake_receive
from matching.intake_flow import intake_evaluate, intakes_evaluate_waiting
from matching.models import Engagement, EngagementStatusChange, MatchDecision, PoolVerdict
from matching.tasks import intake_evaluate as intake_evaluate_task
from tests.bakeoff_jobs.worker import start_worker, wait_for  # noqa: F401 - fixture
from tests.factories import PartnerFactory, intake_data

pytestmark = pytest.mark.django_db


def _received(django_capture_on_commit_callbacks, **overrides) -> Intake:
    """An intake received whose queued evaluation never ran (the callbacks are dropped)."""
    with django_capture_on_commit_callbacks():
        intake, created = intake_receive(data=intake_data(**overrides))
    assert created
    return intake


def test_receiving_saves_only_the_intake(pools, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        intake, _ = intake_receive(data=intake_data())
    assert intake.evaluated_at is None and intake.engagement_or_none is None
    assert not PoolVerdict.objects.exists() and not Engagement.objects.exists()
    assert len(queued) == 1  # its evaluation, once committed


def test_a_redelivered_evaluation_changes_nothing(pools, celery_eager, django_capture_on_commit_callbacks):
    PartnerFactory()
    intake = _received(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):  # the broker delivers the same task three times
            intake_evaluate_task.delay(intake.id)

    intake.refresh_from_db()
    assert intake.evaluated_at is not None and intake.engagement.partner is not None
    assert PoolVerdict.objects.filter(intake=intake).count() == len(pools)
    assert Engagement.objects.count() == MatchDecision.objects.count() == 1
    assert EngagementStatusChange.objects.count() == 2  # received, matched
    assert len(mail.outbox) == 1


def test_a_task_for_an_intake_that_is_gone_does_nothing(pools):
    assert intake_evaluate(intake_id=987_654) is None
    assert not Engagement.objects.exists()


def test_the_sweep_queues_again_only_intakes_left_waiting(pools, celery_eager, django_capture_on_commit_callbacks):
    lost = _received(django_capture_on_commit_callbacks, company_name="Lost Task Co")
    fresh = _received(django_capture_on_commit_callbacks, company_name="Just Arrived Co")
    Intake.objects.filter(pk=lost.pk).update(submitted_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert intakes_evaluate_waiting(older_than=timedelta(minutes=2)) == 1
        # Once evaluated it is not queued again.
        assert intakes_evaluate_waiting(older_than=timedelta(minutes=2)) == 0

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.evaluated_at is not None and lost.engagement_or_none is not None
    assert fresh.evaluated_at is None and fresh.engagement_or_none is None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [lost.contact_email]


def test_a_lost_status_email_is_sent_by_the_sweep_once_and_never_for_intakes_not_to_be_mailed(
    pools, celery_eager, django_capture_on_commit_callbacks
):
    from matching.intake_flow import intake_status_emails_resend_waiting, intake_submit

    lost = _received(django_capture_on_commit_callbacks, company_name="Lost Mail Co")
    with django_capture_on_commit_callbacks():  # evaluated, but its email task never reaches a worker
        intake_evaluate(intake_id=lost.id)
    demo, _ = intake_submit(data=intake_data(company_name="Demo Co"), notify=False)
    old = _received(django_capture_on_commit_callbacks, company_name="Old Co")
    with django_capture_on_commit_callbacks():
        intake_evaluate(intake_id=old.id)
    now = timezone.now()
    Intake.objects.filter(pk__in=[lost.pk, demo.pk]).update(evaluated_at=now - timedelta(minutes=10))
    Intake.objects.filter(pk=old.pk).update(evaluated_at=now - timedelta(days=3))  # too late to mail
    assert len(mail.outbox) == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert intake_status_emails_resend_waiting() == 1
        assert intake_status_emails_resend_waiting() == 0  # sent: not queued again

    assert [m.to for m in mail.outbox] == [[lost.contact_email]]
    lost.refresh_from_db()
    assert lost.status_email_sent_at is not None


def test_the_status_link_answers_received_until_evaluated(pools, celery_eager, django_capture_on_commit_callbacks):
    from intake.links import status_link_token

    intake = _received(django_capture_on_commit_callbacks)
    url = f"/api/intakes/status/{status_link_token(intake)}/"
    assert APIClient().get(url).json()["status"] == "received"
    with django_capture_on_commit_callbacks(execute=True):
        intake_evaluate(intake_id=intake.id)
    assert APIClient().get(url).json()["status"] == "unmatched"  # no partner exists here


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_evaluates_an_intake_submitted_through_the_api(pools, start_worker):
    PartnerFactory(name="Northwind Cloud Partners")
    start_worker(concurrency=2)

    from tests.api.conftest import api_intake_body

    # The task goes through the broker to the worker process.
    accepted = APIClient().post("/api/intakes/", api_intake_body(company_name="Workerwell"), format="json")
    assert accepted.status_code == 202 and accepted.json()["status"] == "received"
    url = f"/api/intakes/status/{accepted.json()['status_token']}/"

    status = wait_for(lambda: (body := APIClient().get(url).json())["status"] != "received" and body, timeout=30)
    assert status["partner_name"] == "Northwind Cloud Partners" and status["status"] == "matched"
    assert {v["pool"] for v in status["verdicts"]} == set(pools)
    assert Engagement.objects.count() == 1 and PoolVerdict.objects.count() == len(pools)


def _evaluation_queries(django_capture_on_commit_callbacks, company: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The first evaluation after a rule change reads the new versions' snapshots once per process.
    warm_up = _received(django_capture_on_commit_callbacks, company_name=f"{company} warm-up")
    intake_evaluate(intake_id=warm_up.id)
    intake = _received(django_capture_on_commit_callbacks, company_name=company)
    with CaptureQueriesContext(connection) as queries:
        intake_evaluate(intake_id=intake.id)
    return len(queries.captured_queries)


def test_evaluation_costs_the_same_queries_whatever_the_number_of_pools_and_partners(
    pools, django_capture_on_commit_callbacks
):
    from matching.pool_rules import pool_rules_publish
    from tests.factories import CreditPoolFactory, PoolRuleFactory

    PartnerFactory()
    few = _evaluation_queries(django_capture_on_commit_callbacks, "Few Co")
    PartnerFactory.create_batch(6)
    for _ in range(3):
        pool_rules_publish(pool=PoolRuleFactory(pool=CreditPoolFactory()).pool)
    many = _evaluation_queries(django_capture_on_commit_callbacks, "Many Co")
    assert few == many
    # Lock, rule versions (3), verdicts, engagement, its pools, history, partners and loads, the
    # chosen partner re-checked under its lock (savepoint, lock, load, release), decision, match,
    # evaluated_at: no re-reads of what was just written.
    assert many <= 22, many


def test_the_tasks_keep_the_names_beat_and_queued_messages_use(settings):
    from cloudroute.celery import app
    from matching import tasks

    app.loader.import_default_modules()  # what a worker and beat do first: every app's tasks module
    by_name = {
        "intake.tasks.intake_evaluate": tasks.intake_evaluate,
        "intake.tasks.intakes_evaluate_waiting": tasks.intakes_evaluate_waiting,
        "intake.tasks.intake_status_emails_waiting": tasks.intake_status_emails_waiting,
        "intake.tasks.intake_status_email": tasks.intake_status_email,
        "intake.tasks.intake_status_link_email": tasks.intake_status_link_email,
    }
    for name, task in by_name.items():
        assert task.name == name and app.tasks[name].run is task.run
    unknown = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] not in app.tasks]
    assert not unknown, unknown
