"""A firm (alice owner, bob colleague) matched with Parsewell, a US startup that has not been
accepted yet; an outsider firm (charlie); CloudRoute staff."""
import pytest

from matching import pool_rules, services
from matching.admin_scoping import admin_groups_ensure
from tests.admin_scoping.conftest import firm_login
from tests.factories import CloudRouteStaffFactory, IntakeFactory, PartnerFactory


@pytest.fixture
def firms(db, pools):
    group = admin_groups_ensure()[0]
    alpha = PartnerFactory(name="Alpha Partners", capacity=5)
    alice, bob = firm_login("alice", alpha, group), firm_login("bob", alpha, group)
    intake = IntakeFactory(company_name="Parsewell", contact_name="Ada Founder", contact_email="ada@parsewell.example",
                           monthly_requests=400_000, models_of_interest="Claude Haiku 4.5 and Llama 3.1 8B")
    pool_rules.intake_verdicts_record(intake=intake)
    engagement = services.engagement_open(intake=intake)
    assert (engagement.partner, engagement.status) == (alpha, "matched")
    bravo = PartnerFactory(name="Bravo Partners", capacity=5)
    charlie = firm_login("charlie", bravo, group)
    return {"alpha": alpha, "alice": alice, "bob": bob, "bravo": bravo, "charlie": charlie,
            "engagement": engagement, "staff": CloudRouteStaffFactory(username="staff")}


@pytest.fixture
def accepted(firms):
    services.engagement_accept(engagement=firms["engagement"], by=firms["alice"])
    firms["engagement"].refresh_from_db()
    return firms["engagement"]
