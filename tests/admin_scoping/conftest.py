"""Two partner firms and the three standing users: alice (owner) and bob (colleague) work for
Alpha, charlie (outsider) for Bravo. Alpha has an engagement with every kind of record the admin
shows: intake, verdicts, ACE draft, credit applications, an accrued commission, an eval set and a
bake-off run with a result."""
from decimal import Decimal

import pytest

from bakeoff_jobs import services as bakeoff
from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.models import BakeoffResult
from filing.credit_applications import credit_application_record
from filing.models import BenefitStatus
from matching import pool_rules, services
from matching.admin_scoping import admin_groups_ensure
from tests.factories import IntakeFactory, PartnerFactory, PartnerMemberFactory, UserFactory

SECRET_COMPANY = "Zebracorn Secret Labs"
SECRET_FIRM = "Alpha Unique Partners"
MARKERS = ("zebracorn", SECRET_FIRM.lower())


def firm_login(username: str, partner, group):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(group)
    PartnerMemberFactory(user=user, partner=partner)
    return user


@pytest.fixture
def firms(db, pools, django_capture_on_commit_callbacks):
    partner_group, _staff_group = admin_groups_ensure()
    alpha = PartnerFactory(name=SECRET_FIRM, capacity=5, commission_rate=Decimal("0.1300"))
    alice = firm_login("alice", alpha, partner_group)
    bob = firm_login("bob", alpha, partner_group)

    intake = IntakeFactory(company_name=SECRET_COMPANY, contact_email="ceo@zebracorn.example")
    pool_rules.intake_verdicts_record(intake=intake)
    engagement = services.engagement_open(intake=intake)
    assert engagement.partner == alpha
    services.engagement_accept(engagement=engagement, by=alice)
    application = engagement.credit_applications.first()
    credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=alice)
    credit_application_record(application=application, status=BenefitStatus.APPROVED, by=alice,
                              amount_approved=Decimal("5000"))

    eval_set = bakeoff.evalset_upload(
        name="zebracorn evals", filename="zebracorn.jsonl", engagement=engagement, owner=alice,
        data=b'{"prompt": "Zebracorn: say Paris", "expected": "Paris", "scorer": "contains"}\n',
    )
    models = list(CatalogModel.objects.offered().order_by("pk")[:2])  # two a new run may use
    with django_capture_on_commit_callbacks(execute=False):
        run = bakeoff.bakeoff_launch(eval_set=eval_set, models=models, created_by=alice)
    BakeoffResult.objects.create(run=run, run_model=run.run_models.first(), case=eval_set.cases.first(),
                                 status="ok", output="Zebracorn says Paris", passed=True)

    bravo = PartnerFactory(name="Bravo Partners", capacity=5)
    charlie = firm_login("charlie", bravo, partner_group)
    return {"alpha": alpha, "alice": alice, "bob": bob, "bravo": bravo, "charlie": charlie,
            "engagement": engagement, "eval_set": eval_set, "run": run}
