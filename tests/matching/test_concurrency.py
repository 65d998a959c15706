"""Races that must not double-book: two submissions of the same intake, and two engagements
competing for a partner's last slot. Real threads on real transactions (PostgreSQL only: SQLite
runs one writer at a time, so it cannot race)."""
import threading

import pytest
from django.db import connection, connections

from intake.models import Intake
from matching import pool_rules, services
from matching.intake_flow import intake_submit
from matching.models import Engagement, EngagementStatus
from tests.factories import IntakeFactory, PartnerFactory, StaffUserFactory, intake_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL transactions"),
]


def run_together(target, n: int) -> list:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_simultaneous_duplicate_submissions_open_one_engagement(pools):
    data = intake_data(company_name="Racer", contact_email="race@racer.example")

    results, errors = run_together(lambda i: intake_submit(data=data), 4)

    assert errors == []
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({intake.pk for intake, _ in results}) == 1
    assert Intake.objects.count() == 1 and Engagement.objects.count() == 1


def test_partner_capacity_holds_when_matches_race():
    partner = PartnerFactory(capacity=2)
    intakes = [IntakeFactory() for _ in range(5)]
    for intake in intakes:
        pool_rules.intake_verdicts_record(intake=intake)

    results, errors = run_together(lambda i: services.engagement_open(intake=intakes[i]), 5)

    assert errors == []
    assert Engagement.objects.filter(partner=partner, status=EngagementStatus.MATCHED).count() == 2
    assert Engagement.objects.filter(status=EngagementStatus.UNMATCHED).count() == 3


def test_hand_assignments_cannot_overfill_a_partner():
    staff = StaffUserFactory()
    waiting = []
    for _ in range(3):
        intake = IntakeFactory()
        pool_rules.intake_verdicts_record(intake=intake)
        waiting.append(services.engagement_open(intake=intake))  # no partners yet: unmatched
    partner = PartnerFactory(capacity=1)

    results, errors = run_together(
        lambda i: services.engagement_assign(engagement=waiting[i], partner=partner, by=staff, reason="race"), 3
    )

    assert len(results) == 1 and len(errors) == 2
    assert all(isinstance(e, services.MatchingError) for e in errors)
    assert Engagement.objects.filter(partner=partner).count() == 1
