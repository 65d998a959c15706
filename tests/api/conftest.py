"""The API's standing cast: partner A's login (alice), partner B's (bob), CloudRoute staff, and a
founder holding a status link; plus each firm's engagements, filings, eval sets and runs."""
import json
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bakeoff_jobs import services as bakeoff_services
from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.models import BakeoffRun, EvalSet
from filing.engagement_filings import engagement_filings_prepare
from filing.models import AceOpportunity
from intake.links import status_link_token
from matching.models import Engagement
from tests.bakeoff_jobs.factories import EvalCaseFactory, claude_haiku_45, llama_8b
from tests.factories import (
    CreditPoolFactory,
    IntakeFactory,
    PartnerFactory,
    PartnerMemberFactory,
    StaffUserFactory,
    intake_data,
    roleless_logins,
)


def api_intake_body(**overrides) -> dict:
    """A valid intake as JSON-ready data for POST /api/intakes/."""
    data = intake_data(**overrides)
    return json.loads(json.dumps(data, default=str))


@dataclass
class World:
    partner_a: object
    partner_b: object
    alice: object
    bob: object
    staff: object
    founder_token: str
    engagement_a: Engagement  # accepted, with its ACE draft and a credit application
    matched_a: Engagement  # waiting for partner A to accept or decline
    engagement_b: Engagement
    eval_set_a: EvalSet
    eval_set_b: EvalSet
    run_a: BakeoffRun
    finished_a: BakeoffRun
    models: list[CatalogModel]
    roleless: dict = field(default_factory=dict)  # filled by the world_roleless fixture

    def client(self, role: str) -> APIClient:
        client = APIClient()
        user = {"alice": self.alice, "bob": self.bob, "staff": self.staff, **self.roleless}.get(role)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        elif role == "founder":
            # The status link is no API credential: the founder is anonymous everywhere else.
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.founder_token}")
        return client


def _engagement(partner, status: str, pool) -> Engagement:
    intake = IntakeFactory()
    engagement = Engagement.objects.create(intake=intake, partner=partner, status=status,
                                           estimated_credits_usd=Decimal("25000"))
    engagement.matched_pools.set([pool])
    if status == "accepted":
        engagement_filings_prepare(engagement=engagement)
        # The one field a US customer's draft lacks before Partner Central would take it.
        AceOpportunity.objects.filter(engagement=engagement).update(postal_code="94105")
    return engagement


def _eval_set(partner, engagement) -> EvalSet:
    eval_set = EvalSet.objects.create(name=f"{partner.name} cases", partner=partner, engagement=engagement,
                                      case_count=3)
    for _ in range(3):
        EvalCaseFactory(eval_set=eval_set)
    return eval_set


@pytest.fixture
def world(db) -> World:
    pool = CreditPoolFactory(slug="bedrock-poc", amount_max_usd=Decimal("50000"))
    partner_a, partner_b = PartnerFactory(name="Alpha Cloud"), PartnerFactory(name="Beta Systems")
    alice = PartnerMemberFactory(partner=partner_a, user__username="alice").user
    bob = PartnerMemberFactory(partner=partner_b, user__username="bob").user
    staff = StaffUserFactory(username="staff")
    engagement_a = _engagement(partner_a, "accepted", pool)
    matched_a = _engagement(partner_a, "matched", pool)
    engagement_b = _engagement(partner_b, "accepted", pool)
    models = [llama_8b(), claude_haiku_45()]
    eval_set_a, eval_set_b = _eval_set(partner_a, engagement_a), _eval_set(partner_b, engagement_b)
    run_a = bakeoff_services.bakeoff_launch(eval_set=eval_set_a, models=models, created_by=alice)
    finished_a = bakeoff_services.bakeoff_launch(eval_set=eval_set_a, models=models, created_by=alice)
    BakeoffRun.objects.filter(pk=finished_a.pk).update(status="finished", report={"models": []})
    return World(
        partner_a=partner_a, partner_b=partner_b, alice=alice, bob=bob, staff=staff,
        founder_token=status_link_token(engagement_a.intake), engagement_a=engagement_a, matched_a=matched_a,
        engagement_b=engagement_b, eval_set_a=eval_set_a, eval_set_b=eval_set_b, run_a=run_a,
        finished_a=finished_a, models=models,
    )


@pytest.fixture
def world_roleless(world) -> World:
    """The world, plus one login of each kind that holds no role (tests.factories.ROLELESS)."""
    world.roleless.update(roleless_logins())
    return world
